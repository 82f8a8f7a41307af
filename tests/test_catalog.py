"""The bundled catalog: enough realistic items, every published field, valid codes and forms."""
from __future__ import annotations

import pytest

from kiosk.catalog import BUNDLED, ItemCode, load_catalog
from kiosk.catalog.items import (FIELD_TYPES, ITEM_TYPES, LIFE_EVENTS, PREFILL_SOURCES, TOWNSHIP,
                                 TOWNSHIP_WINDOWS, VILLAGE, VILLAGE_WINDOWS)


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(BUNDLED)


def test_at_least_sixty_items_over_every_village_window(catalog):
    assert len(catalog) >= 60
    assert catalog.windows(VILLAGE) == VILLAGE_WINDOWS
    assert len(catalog.windows(TOWNSHIP)) >= 6
    assert len(catalog.departments()) >= 10


def test_every_item_publishes_the_eight_fields_and_its_handling_body(catalog):
    for item in catalog:
        titles = [title for title, _ in item.published_fields()]
        assert titles == ["事项名称", "实施依据", "申报条件", "申报材料", "办理程序", "承诺时限", "收费依据", "收费标准"]
        assert item.name and item.legal_basis and item.conditions and item.handling_body
        assert item.materials and all(m.name and m.originals + m.copies > 0 for m in item.materials)
        assert len(item.procedure) >= 2, item.name
        assert item.fee_basis and item.fee_standard
        assert "《" in item.legal_basis, f"{item.name}: the legal basis names no law or regulation"


def test_item_codes_are_unique_and_well_formed(catalog):
    codes = [item.code.basic for item in catalog]
    assert len(set(codes)) == len(codes)
    for item in catalog:
        assert item.code.type in ITEM_TYPES
        assert ItemCode.parse(str(item.code)) == item.code
        assert catalog.get(str(item.code)) is item


def test_windows_match_levels(catalog):
    for item in catalog:
        allowed = VILLAGE_WINDOWS if item.level == VILLAGE else TOWNSHIP_WINDOWS
        assert item.window in allowed


def test_forms_are_well_typed(catalog):
    for item in catalog:
        assert item.form, item.name
        names = [f.name for f in item.form]
        assert len(set(names)) == len(names)
        for f in item.form:
            assert f.type in FIELD_TYPES
            assert (f.type == "choice") == bool(f.choices), (item.name, f.name)
            assert not f.prefill or f.prefill in PREFILL_SOURCES
            assert f.label("zh_CN") == f.label_zh and f.label("en") == f.label_en


def test_identity_prefills_applicant_fields(catalog):
    item = catalog.get("20-00501-000")
    assert item.name == "无房产证明"
    prefills = {f.name: f.prefill for f in item.form}
    assert prefills["name"] == "identity.name"
    assert prefills["id_number"] == "identity.id_number"


def test_typical_items_of_the_domain_are_present(catalog):
    names = " ".join(item.name for item in catalog)
    for needle in ("城乡居民基本医疗保险参保登记", "零星医疗费用报销", "城乡居民基本养老保险参保登记", "出生登记",
                   "残疾人证", "最低生活保障", "临时救助", "高龄老人津贴", "无房产证明", "独生子女父母光荣证",
                   "个体工商户设立登记", "就业登记", "学前教育", "机动车环保检验合格标志"):
        assert needle in names, needle


def test_most_items_are_free_and_on_the_spot_items_are_immediate(catalog):
    free = [item for item in catalog if item.free]
    assert len(free) >= 0.8 * len(catalog)
    for item in catalog:
        if item.on_the_spot:
            assert item.time_limit_days == 0, item.name


def test_browse_by_window_department_and_life_event(catalog):
    civil = catalog.by_window("民政")
    assert civil and all(i.window == "民政" and i.level == VILLAGE for i in civil)
    police = catalog.by_window("公安", TOWNSHIP)
    assert "居民身份证换领、补领" in [i.name for i in police]
    assert all(i.department == "区民政局" for i in catalog.by_department("区民政局"))
    births = [i.name for i in catalog.by_life_event("birth")]
    assert "生育登记" in births and "出生登记（新生儿落户）" in births
    assert set(catalog.life_events()) <= set(LIFE_EVENTS)
    for event in ("birth", "schooling", "work", "marriage", "old_age", "death"):
        assert catalog.by_life_event(event), event


@pytest.mark.parametrize("text", ["2000501000", "20-00501-000"])
def test_item_code_parses_with_or_without_dashes(text):
    code = ItemCode.parse(text)
    assert (code.type, code.main, code.sub) == ("20", "00501", "000")
    assert str(code) == "20-00501-000"
    assert code.implementation("440811") == "4408112000501000"
    assert code.type_title == "Public service"


@pytest.mark.parametrize("text", ["", "20-00501-00", "99-00501-000", "2O-00501-000", "２０００５０１０００", "20-00501-0000"])
def test_item_code_rejects_malformed(text):
    with pytest.raises(ValueError):
        ItemCode.parse(text)
