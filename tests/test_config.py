"""The TOML config: typed options per driver, every mistake named by file, section and key."""
from __future__ import annotations

import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk import config
from kiosk.config import ConfigError

GOOD = """
[terminal]
id = "cun-001"
station = "麻章区湖光镇东岭村便民服务站"

[devices.idcard]
driver = "samv"
port = "/dev/ttyUSB0"
baudrate = 115200

[devices.receipt]
driver = "escpos"
connection = "network"
host = "127.0.0.1"
port = 9100
"""


def write(tmp_path, text):
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path, text) -> ConfigError:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        config.load(path)
    assert str(path) in str(info.value)
    return info.value


def test_good_config_gives_typed_options(tmp_path):
    cfg = config.load(write(tmp_path, GOOD))
    assert cfg.terminal.station == "麻章区湖光镇东岭村便民服务站"
    idcard = cfg.devices["idcard"]
    assert (idcard.driver, idcard.options.port, idcard.options.baudrate) == ("samv", "/dev/ttyUSB0", 115200)
    assert cfg.devices["receipt"].options.port == 9100


def test_unknown_driver_names_section_and_key(tmp_path):
    err = error_of(tmp_path, '[devices.idcard]\ndriver = "samv2"\nport = "/dev/ttyS0"\n')
    assert "[devices.idcard]" in str(err) and "'driver'" in str(err) and "samv2" in str(err)


def test_missing_driver(tmp_path):
    err = error_of(tmp_path, '[devices.idcard]\nport = "/dev/ttyS0"\n')
    assert "[devices.idcard] key 'driver' is missing" in str(err)


def test_missing_required_key(tmp_path):
    err = error_of(tmp_path, '[devices.idcard]\ndriver = "samv"\n')
    assert "[devices.idcard] key 'port' is missing" in str(err)


def test_mistyped_key_in_both_languages(tmp_path):
    err = error_of(tmp_path, '[devices.idcard]\ndriver = "samv"\nport = "/dev/ttyS0"\nbaudrate = "fast"\n')
    assert "[devices.idcard] key 'baudrate' must be an integer, not 'fast'" in str(err)
    chinese = err.message("zh_CN")
    assert "baudrate" in chinese and "整数" in chinese


def test_unknown_key_is_rejected(tmp_path):
    err = error_of(tmp_path, '[devices.idcard]\ndriver = "samv"\nport = "/dev/ttyS0"\nbaud = 9600\n')
    assert "[devices.idcard] unknown key 'baud'" in str(err) and "baudrate" in str(err)


def test_unknown_section_and_bad_toml(tmp_path):
    assert "[printer]" in str(error_of(tmp_path, "[printer]\nx = 1\n"))
    assert "not valid TOML" in str(error_of(tmp_path, "[devices.idcard\n"))


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        config.load(tmp_path / "absent.toml")


def test_config_path_order(monkeypatch, tmp_path):
    monkeypatch.delenv("KIOSK_CONFIG", raising=False)
    assert config.config_path(None) == config.DEMO_CONFIG
    monkeypatch.setenv("KIOSK_CONFIG", str(tmp_path / "env.toml"))
    assert config.config_path(None) == tmp_path / "env.toml"
    assert config.config_path(str(tmp_path / "arg.toml")) == tmp_path / "arg.toml"


def test_production_example_loads_and_cannot_be_left():
    cfg = config.load(Path(__file__).resolve().parents[1] / "deploy" / "kiosk.toml.example")
    assert not cfg.maintenance.allow_exit and cfg.maintenance.pin
    assert cfg.devices["receipt"].options.connection == "usb"


def test_demo_config_loads():
    cfg = config.load(config.DEMO_CONFIG)
    assert {"idcard", "staffcard", "receipt", "a4", "scanner"} <= set(cfg.devices)


values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
keys = st.sampled_from(["driver", "port", "baudrate", "host", "connection", "queue", "device", "x"]) | st.text(max_size=6)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=6), st.dictionaries(keys, values | st.sampled_from(
    ["samv", "escpos", "cups", "sane", "pcsc", "camera"]), max_size=5), max_size=3))
def test_any_device_sections_give_a_config_or_a_config_error(devices):
    try:
        cfg = config.parse({"devices": devices})
    except ConfigError as exc:
        assert exc.message("zh_CN") and exc.message("en")
    else:
        assert set(cfg.devices) == set(devices)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=string.printable + "[]=\"'设备", max_size=200))
def test_any_text_gives_a_config_or_a_config_error(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("cfg") / "k.toml"
    path.write_text(text, encoding="utf-8")
    try:
        config.load(path)
    except ConfigError:
        pass


def test_upstream_section_is_typed_and_checked(tmp_path):
    cfg = config.load(write(tmp_path, '[upstream]\nurl = "https://zwfw.example.gov.cn/kiosk"\n'
                                      'token_file = "/etc/kiosk/upstream.token"\ntimeout_s = 15\n'))
    assert (cfg.upstream.url, cfg.upstream.timeout_s, cfg.upstream.ca_file) == (
        "https://zwfw.example.gov.cn/kiosk", 15.0, "")
    assert config.parse({}).upstream.url == ""  # none configured: applications stay queued
    err = error_of(tmp_path, '[upstream]\nurl = "ftp://zwfw.example.gov.cn"\n')
    assert "[upstream]" in str(err) and "'url'" in str(err)
    err = error_of(tmp_path, '[upstream]\nurl = "https://h"\ntimeout = 3\n')
    assert "[upstream] unknown key 'timeout'" in str(err) and "timeout_s" in str(err)
