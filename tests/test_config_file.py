"""The config file written back as TOML (set_config): round trips, hostile values, atomic replace."""
from __future__ import annotations

import datetime
import math
import os
import tomllib

import pytest
from hypothesis import given, settings, strategies as st

from kiosk import config, config_file
from kiosk.config import DEMO_CONFIG

keys = st.text(min_size=1, max_size=12)
scalars = st.one_of(
    st.booleans(), st.integers(min_value=-2**63, max_value=2**63 - 1), st.text(max_size=30),
    st.floats(allow_nan=False), st.dates(), st.datetimes(timezones=st.just(datetime.timezone.utc)),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=3),
                      max_leaves=8)
tables = st.recursive(st.dictionaries(keys, values, max_size=4),
                      lambda inner: st.dictionaries(keys, inner | values, max_size=4), max_leaves=6)


@settings(max_examples=300, deadline=None)
@given(tables)
def test_whatever_a_document_holds_reads_back_equal(doc):
    assert tomllib.loads(config_file.dumps(doc)) == doc


@given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=40))
def test_any_text_is_written_or_refused_with_a_value_error_never_garbled(text):
    try:
        written = config_file.dumps({"terminal": {"station": text, text or "k": 1}})
    except ValueError:
        assert any(0xD800 <= ord(c) <= 0xDFFF for c in text)  # lone surrogates: not Unicode text
        return
    assert tomllib.loads(written) == {"terminal": {"station": text, text or "k": 1}}


def test_nan_and_infinities_survive():
    doc = tomllib.loads(config_file.dumps({"x": {"n": math.nan, "i": math.inf, "m": -math.inf}}))
    assert math.isnan(doc["x"]["n"]) and doc["x"]["i"] == math.inf and doc["x"]["m"] == -math.inf


def test_values_toml_cannot_hold_are_refused():
    with pytest.raises(ValueError, match="TOML cannot hold"):
        config_file.dumps({"x": {"y": None}})
    with pytest.raises(ValueError, match="key"):
        config_file.dumps({"x": {1: "y"}})


def test_the_demo_config_round_trips_to_the_same_config():
    raw = config_file.read(DEMO_CONFIG)
    assert config.parse(tomllib.loads(config_file.dumps(raw)), DEMO_CONFIG) == config.parse(raw, DEMO_CONFIG)


def test_replace_keeps_the_old_file_and_its_mode(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text("[terminal]\nid = \"a\"\n")
    os.chmod(path, 0o640)
    config_file.replace(path, "[terminal]\nid = \"b\"\n")
    assert config_file.read(path) == {"terminal": {"id": "b"}}
    assert (tmp_path / "kiosk.toml.bak").read_text() == "[terminal]\nid = \"a\"\n"
    assert path.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kiosk.toml", "kiosk.toml.bak"]  # no tmp left
