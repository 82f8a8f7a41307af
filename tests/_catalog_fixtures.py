"""Helpers shared by the catalog tests: a small valid catalog document and file writers."""
from __future__ import annotations

import copy
import json
from pathlib import Path

VALID_ITEM = {
    "code": "20-00501-000",
    "name": "无房产证明",
    "aliases": ["无房证明"],
    "level": "village",
    "window": "国土",
    "department": "区自然资源局",
    "handling_body": "区不动产登记中心",
    "life_events": ["housing"],
    "legal_basis": "《不动产登记暂行条例》第二十七条",
    "conditions": "本人申请。",
    "materials": [{"name": "居民身份证", "originals": 1, "copies": 0}],
    "procedure": ["申请", "查询", "出具证明"],
    "time_limit_days": 0,
    "fee_basis": "无",
    "fee_standard": "不收费",
    "on_the_spot": True,
    "form": ["applicant"],
    "fields": [{"name": "purpose", "label_zh": "用途", "label_en": "Purpose", "type": "choice",
                "choices": ["入学", "其他"]}],
}

VALID_DOC = {
    "catalog": {"version": "test-1", "region": "440811"},
    "fieldsets": {"applicant": {"fields": [
        {"name": "name", "label_zh": "姓名", "label_en": "Name", "prefill": "identity.name"},
        {"name": "id_number", "label_zh": "公民身份号码", "label_en": "ID number", "type": "id_number",
         "prefill": "identity.id_number"},
    ]}},
    "items": [VALID_ITEM],
}


def doc(**item_changes) -> dict:
    """A deep copy of VALID_DOC with its one item changed (a value of None deletes the key)."""
    out = copy.deepcopy(VALID_DOC)
    for key, value in item_changes.items():
        if value is None:
            out["items"][0].pop(key, None)
        else:
            out["items"][0][key] = value
    return out


def write_json(path: Path, document: dict) -> Path:
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path
