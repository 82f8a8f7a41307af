"""Scanning through scanimage against SANE's own test backend (drivers.sim.sane_test)."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st
from PIL import Image

from drivers.base import DeviceError, DeviceUnavailable, MediaError, Status
from drivers.scanner.sane import SaneOptions, SaneScanner, parse_devices, parse_progress
from drivers.sim.sane_test import SaneTestSim


@pytest.fixture
def sim(tmp_path):
    with SaneTestSim(tmp_path / "run") as s:
        yield s


@pytest.fixture
def scanner(sim):
    keys = {k: v for k, v in sim.config_section().items() if k != "driver"}
    # a scan that hangs ends in the driver's own timeout, well inside the tests' 60 s waits
    s = SaneScanner("flatbed", SaneOptions(**keys, resolution=100, timeout_s=30))
    yield s
    s.close()


def test_probe_finds_the_test_scanner(scanner):
    assert scanner.refresh().result(timeout=30).status is Status.ONLINE
    assert scanner.check_environment() == []


def test_scan_has_the_size_of_area_and_resolution(scanner, tmp_path):
    seen = []
    result = scanner.scan(tmp_path / "page.png", resolution=200, mode="Color",
                          area=(10, 20, 127, 63.5 + 0.5), progress=seen.append).result(timeout=60)
    # 127 mm at 200 dpi is 1000 px; 64 mm (the backend's 1 mm steps) is 503.9 px
    assert (result.width, result.height) == (1000, 503)
    with Image.open(result.path) as image:
        assert image.size == (1000, 503) and image.mode == "RGB"
    assert seen and seen == sorted(seen) and seen[-1] == 100.0
    assert scanner.state.status is Status.ONLINE


def test_gray_jpeg_at_the_configured_resolution(scanner, tmp_path):
    result = scanner.scan(tmp_path / "page.jpg", mode="Gray", area=(0, 0, 127, 127)).result(timeout=60)
    with Image.open(result.path) as image:  # 127 mm at 100 dpi is 500 px
        assert image.format == "JPEG" and image.mode == "L" and image.size == (500, 500)
    assert result.resolution == 100


@pytest.mark.parametrize("fault, code, cls", [
    ("jammed", "scanner.jammed", MediaError),
    ("no_docs", "scanner.no_docs", MediaError),
    ("cover_open", "scanner.cover_open", MediaError),
    ("io_error", "scanner.io_error", DeviceError),
])
def test_backend_faults_end_in_their_error_and_recover(sim, scanner, tmp_path, fault, code, cls):
    sim.set_fault(fault)
    out = tmp_path / "page.png"
    with pytest.raises(cls) as err:
        scanner.scan(out, area=(0, 0, 20, 20)).result(timeout=60)
    assert err.value.code == code
    assert scanner.state.status is Status.HARDWARE_ERROR
    assert not out.exists()
    sim.set_fault(None)
    assert scanner.scan(out, area=(0, 0, 20, 20)).result(timeout=60).path.exists()
    assert scanner.state.status is Status.ONLINE


def test_slow_scan_past_the_timeout_is_killed(sim, tmp_path):
    sim.set_fault("slow")
    keys = {k: v for k, v in sim.config_section().items() if k != "driver"}
    s = SaneScanner("flatbed", SaneOptions(**keys, resolution=300, timeout_s=1))
    try:
        with pytest.raises(DeviceError) as err:
            s.scan(tmp_path / "page.png", area=(0, 0, 200, 200)).result(timeout=30)
        assert err.value.code == "scanner.timeout"
    finally:
        s.close()


def test_no_device_is_a_status_not_an_exception(sim, scanner, tmp_path):
    sim.set_fault("no_device")
    assert scanner.refresh().result(timeout=30).status is Status.NO_DEVICE
    assert [e.code for e in scanner.check_environment()] == ["scanner.not_found"]
    with pytest.raises(DeviceUnavailable):
        scanner.scan(tmp_path / "page.png").result(timeout=60)
    sim.set_fault(None)
    assert scanner.scan(tmp_path / "page.png", area=(0, 0, 10, 10)).result(timeout=60).path.exists()
    assert scanner.state.status is Status.ONLINE


def test_unknown_device_is_no_device(sim, tmp_path):
    s = SaneScanner("flatbed", SaneOptions(device="test:7", config_dir=str(sim.config_dir)))
    try:
        assert s.refresh().result(timeout=30).status is Status.NO_DEVICE
    finally:
        s.close()


def test_unsupported_mode_is_a_clear_error(scanner, tmp_path):
    with pytest.raises(DeviceError) as err:
        scanner.scan(tmp_path / "page.png", mode="Lineart").result(timeout=60)
    assert err.value.code == "scanner.bad_option" and "--mode" in str(err.value)


def test_missing_scanimage_is_named(scanner, monkeypatch):
    """PATH without scanimage stands in for a machine without sane-utils."""
    monkeypatch.setenv("PATH", "/nonexistent")
    problems = scanner.check_environment()
    assert [e.code for e in problems] == ["scanner.no_scanimage"]
    assert "sane-utils" in str(problems[0])


def test_options_are_checked():
    with pytest.raises(ValueError, match="mode"):
        SaneOptions(device="test:0", mode="Sepia")
    with pytest.raises(ValueError, match="resolution"):
        SaneOptions(device="test:0", resolution=0)


def test_parsers_read_real_output():
    assert parse_progress("Progress: 55.7%\rProgress: 100.0%\r") == [55.7, 100.0]
    assert parse_devices("device `test:0' is a Noname frontend-tester virtual device\n") == {
        "test:0": "Noname frontend-tester virtual device"}


@given(st.text())
def test_progress_parser_never_invents_values(text):
    values = parse_progress(text)
    assert all(0 <= v <= 100 for v in values)
    assert len(values) <= text.count("%")


@given(st.text(), st.from_regex(r"[a-z0-9]{1,8}:[a-z0-9]{1,8}", fullmatch=True))
def test_device_list_parser_keeps_only_device_lines(noise, name):
    found = parse_devices(noise.replace("device `", "") + f"\ndevice `{name}' is a scanner\n")
    assert found[name] == "scanner"
    assert all(" " not in key for key in found)
