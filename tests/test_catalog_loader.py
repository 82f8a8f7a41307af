"""Loading and replacing the catalog file: typed errors that name file, item and field;
a bad file never replaces the last good one. Real files in tmp_path, no mocks."""
from __future__ import annotations

import logging
import os
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.catalog import (BUNDLED, CatalogDuplicateError, CatalogError, CatalogFieldError, CatalogFileError,
                           CatalogStore, load_catalog)
from kiosk.catalog.parse import parse_catalog
from tests._catalog_fixtures import VALID_DOC, VALID_ITEM, doc, write_json


def test_valid_json_and_toml_load(tmp_path):
    catalog = load_catalog(write_json(tmp_path / "c.json", VALID_DOC))
    assert len(catalog) == 1 and catalog.version == "test-1"
    item = catalog.items[0]
    assert [f.name for f in item.form] == ["name", "id_number", "purpose"]
    toml = tmp_path / "c.toml"
    toml.write_bytes(BUNDLED.read_bytes())
    assert len(load_catalog(toml)) >= 60


@pytest.mark.parametrize("changes, field", [
    ({"name": None}, "name"),
    ({"name": "  "}, "name"),
    ({"code": "XX-1"}, "code"),
    ({"level": "county"}, "level"),
    ({"window": "公安"}, "window"),                      # a township window on a village item
    ({"life_events": ["space travel"]}, "life_events[0]"),
    ({"materials": [{"name": "照片", "originals": 0}]}, "materials[0]"),
    ({"materials": [{"name": "照片", "pages": 2}]}, "materials[0].pages"),
    ({"procedure": "申请"}, "procedure"),
    ({"time_limit_days": -1}, "time_limit_days"),
    ({"time_limit_days": True}, "time_limit_days"),
    ({"on_the_spot": "yes"}, "on_the_spot"),
    ({"form": ["nobody"]}, "form[0]"),
    ({"fields": [{"name": "x", "label_zh": "x", "label_en": "x", "type": "colour"}]}, "fields[0].type"),
    ({"fields": [{"name": "x", "label_zh": "x", "label_en": "x", "type": "choice"}]}, "fields[0].choices"),
    ({"fields": [{"name": "x", "label_zh": "x", "label_en": "x", "prefill": "identity.blood"}]}, "fields[0].prefill"),
    ({"fields": [{"name": "name", "label_zh": "姓名", "label_en": "Name"}]}, "fields"),
    ({"colour": "red"}, "colour"),
])
def test_field_errors_name_the_item_and_field(changes, field):
    with pytest.raises(CatalogFieldError) as info:
        parse_catalog(doc(**changes), "ops.json")
    err = info.value
    assert (err.path, err.field) == ("ops.json", field)
    assert err.item in ("无房产证明", "20-00501-000")
    assert err.where() in err.message("zh_CN") and err.where() in str(err)


def test_duplicate_codes_are_refused():
    document = doc()
    document["items"].append(dict(VALID_ITEM, name="另一个事项"))
    with pytest.raises(CatalogDuplicateError) as info:
        parse_catalog(document, "dup.json")
    assert info.value.item == "另一个事项" and info.value.field == "code"


def test_unreadable_and_unparsable_files(tmp_path):
    with pytest.raises(CatalogFileError):
        load_catalog(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[catalog\nversion = 1", encoding="utf-8")
    with pytest.raises(CatalogFileError) as info:
        load_catalog(bad)
    assert "TOML" in str(info.value)
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes("name = '无'".encode("gb18030"))
    with pytest.raises(CatalogFileError):
        load_catalog(latin1)


def test_a_bad_replacement_keeps_the_last_good_catalog_and_logs_why(tmp_path, caplog):
    path = write_json(tmp_path / "ops.json", VALID_DOC)
    store = CatalogStore(path)
    good = store.catalog
    write_json(path, doc(time_limit_days="soon"))
    with caplog.at_level(logging.ERROR, logger="kiosk.catalog.loader"):
        error = store.reload()
    assert isinstance(error, CatalogFieldError) and store.last_error is error
    assert store.catalog is good
    logged = caplog.text
    assert str(path) in logged and "无房产证明" in logged and "time_limit_days" in logged
    write_json(path, doc(name="无房产证明（新）"))
    assert store.reload() is None and store.last_error is None
    assert store.catalog.items[0].name == "无房产证明（新）"


def test_reload_if_changed_only_reads_a_changed_file(tmp_path):
    path = write_json(tmp_path / "ops.json", VALID_DOC)
    store = CatalogStore(path)
    first = store.catalog
    assert store.reload_if_changed() is None and store.catalog is first
    write_json(path, doc(name="新名称事项"))
    os.utime(path, ns=(1, 1))
    assert store.reload_if_changed() is None
    assert store.catalog.items[0].name == "新名称事项"


def test_a_bad_file_at_start_falls_back_to_the_bundled_catalog(tmp_path, caplog):
    path = tmp_path / "ops.toml"
    path.write_text("not = [valid", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="kiosk.catalog.loader"):
        store = CatalogStore(path)
    assert store.catalog.source == str(BUNDLED) and len(store.catalog) >= 60
    assert isinstance(store.last_error, CatalogFileError)
    assert "bundled" in caplog.text


# ── malformed data files (hypothesis) ──

WRONG_VALUES = st.one_of(st.none(), st.integers(), st.floats(allow_nan=False), st.booleans(),
                         st.just(""), st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


@settings(max_examples=200, deadline=None)
@given(key=st.sampled_from(sorted(VALID_ITEM)), value=WRONG_VALUES)
def test_any_wrongly_typed_field_is_a_clear_error_naming_it(key, value):
    if _valid(key, value):
        return
    document = doc()
    document["items"][0][key] = value
    with pytest.raises(CatalogError) as info:
        parse_catalog(document, "x.json")
    assert info.value.field.split(".")[0].split("[")[0] == key


def _valid(key, value) -> bool:
    """The few generated values that are in fact valid for ``key``."""
    if key in ("form", "aliases", "fields"):
        return value == []
    if key == "on_the_spot":
        return isinstance(value, bool)
    if key == "time_limit_days":
        return type(value) is int and 0 <= value <= 365
    return False


JSONISH = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5)),
                       lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                       max_leaves=10)


@settings(max_examples=200, deadline=None)
@given(JSONISH)
def test_arbitrary_documents_raise_catalog_errors_only(document):
    with pytest.raises(CatalogError):
        parse_catalog(document, "x.json")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=200) | st.text(alphabet=string.printable + "[]=\"'无", max_size=200).map(str.encode))
def test_random_bytes_on_disk_are_a_clear_error_and_the_good_catalog_stays(tmp_path, data):
    path = tmp_path / "ops.toml"
    path.write_bytes(BUNDLED.read_bytes())
    store = CatalogStore(path)
    good = store.catalog
    path.write_bytes(data)
    error = store.reload()
    assert isinstance(error, CatalogError) and error.path == str(path)
    assert store.catalog is good


@pytest.mark.parametrize("name, text", [("deep.json", "[" * 100000 + "]" * 100000),
                                        ("deep.toml", "a = " + "[" * 100000 + "]" * 100000)])
def test_deeply_nested_files_are_a_clear_error(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogFileError):
        load_catalog(path)
