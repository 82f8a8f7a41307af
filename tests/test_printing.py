"""The printed guide: its text, QR payload and line widths, and the wrapping under it."""
from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.printer.receipt import Text, render
from drivers.sim.escpos_decoder import EscposDecoder
from kiosk.catalog import load_catalog
from kiosk.catalog.loader import BUNDLED
from l10n import translate
from kiosk.printing import PAPER_COLUMNS, columns_of, guide_receipt, guide_sections, guide_url, wrap

CATALOG = load_catalog(BUNDLED)
WFC = CATALOG.get("2000501000")  # 无房产证明
PATTERN = "https://zwfw.example.gov.cn/guide/{code}"
WHEN = datetime(2024, 6, 3, 9, 5)


def receipt(item=WFC, **kwargs):
    return guide_receipt(item, "zh_CN", station="湖光镇东岭村便民服务站", url_pattern=PATTERN,
                         printed_at=WHEN, **kwargs)


def test_guide_holds_the_name_materials_steps_station_and_time():
    text = "".join(receipt().texts).replace(" ", "")
    assert WFC.name == "无房产证明" and WFC.name in text
    for material in WFC.materials:
        assert material.name in text
    for step in WFC.procedure:
        assert step.replace(" ", "") in text
    assert WFC.legal_basis.replace(" ", "") in text and WFC.fee_standard in text
    assert "湖光镇东岭村便民服务站" in text and "2024-06-0309:05" in text


def test_materials_are_a_numbered_checklist_and_steps_are_numbered():
    lines = receipt().texts
    assert [line[:3] for line in lines if line.startswith("□")] == ["□1.", "□2.", "□3."][:len(WFC.materials)]
    assert any(line.startswith("1. ") for line in lines) and any(line.startswith("2. ") for line in lines)


def test_headings_are_bold_and_the_name_is_large():
    blocks = [b for b in receipt().blocks if isinstance(b, Text)]
    name = next(b for b in blocks if b.text == WFC.name)
    assert name.bold and name.height == 2
    headings = [b for b in blocks if b.text.startswith("【")]
    assert len(headings) == len(guide_sections(WFC)) and all(b.bold for b in headings)


def test_qr_code_links_to_the_guide_online():
    assert receipt().qr_payloads == ("https://zwfw.example.gov.cn/guide/2000501000",)
    assert guide_url(WFC, "https://x.gov.cn/{code}?from=kiosk") == "https://x.gov.cn/2000501000?from=kiosk"


@pytest.mark.parametrize("paper", sorted(PAPER_COLUMNS))
def test_every_line_fits_the_paper_for_every_item(paper):
    for item in CATALOG:
        for block in receipt(item, paper_mm=paper).blocks:
            if isinstance(block, Text):
                assert columns_of(block.text) * block.width <= PAPER_COLUMNS[paper], (item.name, block.text)


def test_the_printer_receives_the_chinese_text_and_the_qr():
    """Rendered to ESC/POS and decoded by the simulator's decoder: what the paper would show."""
    docs = []
    decoder = EscposDecoder(on_document=docs.append)
    decoder.feed(render(receipt()))
    (doc,) = docs
    assert WFC.name in doc.texts
    assert [q.payload for q in doc.qr_codes] == ["https://zwfw.example.gov.cn/guide/2000501000"]


def test_on_the_spot_items_say_so():
    spot = next(i for i in CATALOG if i.on_the_spot)
    later = next(i for i in CATALOG if not i.on_the_spot and i.time_limit_days)
    says = translate("Done on the spot at the counter", "zh_CN")
    assert says in receipt(spot).texts and says not in receipt(later).texts


def test_unknown_paper_width_is_refused():
    with pytest.raises(ValueError):
        receipt(paper_mm=76)


def test_wrap_keeps_closing_punctuation_off_the_line_start_and_indents():
    lines = wrap("一二三四五六七，八九十", 14)
    assert lines == ["一二三四五六", "七，八九十"]
    lines = wrap("甲乙丙丁戊己庚辛壬癸", 12, "□1. ")
    assert lines[0].startswith("□1. ") and all(line.startswith(" " * 5) and line[5] != " " for line in lines[1:])
    assert "".join(line.replace("□1. ", "").strip() for line in lines) == "甲乙丙丁戊己庚辛壬癸"


@given(st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=200), st.integers(8, 48),
       st.sampled_from(["", "1. ", "□2. "]))
def test_wrap_never_overflows_and_loses_nothing(text, columns, prefix):
    lines = wrap(text, columns, prefix)
    assert all(columns_of(line) <= columns for line in lines)
    assert lines[0].startswith(prefix.rstrip())
    body = "".join(lines)[len(prefix.rstrip()):]
    assert "".join(body.split()) == "".join("".join(text.splitlines()).split())
