"""The escpos driver against the simulated network printer over loopback TCP (and a socat pty)."""
from __future__ import annotations

import shutil
import subprocess
import threading
import time
from types import SimpleNamespace

import pytest

from drivers.base import DeviceError, DeviceTimeout, DeviceUnavailable, MediaError, ProtocolError, Recovery, Status
from drivers.printer.escpos import EscposOptions, EscposPrinter
from drivers.printer.escpos_status import Report, StatusByteError
from drivers.printer.escpos_transport import find_endpoints
from drivers.printer.receipt import Align, Cut, QrCode, Receipt, Text
from drivers.sim.escpos_printer import Fault, SimulatedEscposPrinter
from kiosk.config import ConfigError, parse

RECEIPT = Receipt((
    Text("受理通知书", width=2, height=2, bold=True, align=Align.CENTER),
    Text("申请人：张三"),
    Text("事项：居住证签注", bold=True),
    QrCode("https://zwfw.example.gov.cn/q?id=2024-000123", module_size=6, error_correction="M"),
    Cut(),
))


@pytest.fixture
def sim(tmp_path):
    with SimulatedEscposPrinter(run_dir=tmp_path) as printer:
        yield printer


def make_printer(sim, **overrides) -> EscposPrinter:
    section = sim.config_section(timeout_s=0.5, status_interval_s=0.1, **overrides)
    section.pop("driver")
    return EscposPrinter("receipt", EscposOptions(**section))


@pytest.fixture
def printer(sim):
    device = make_printer(sim)
    yield device
    device.close()


def wait_for(device, predicate, timeout=15.0):
    """Wait (bounded) until the device's state satisfies ``predicate``."""
    seen = threading.Event()
    unsubscribe = device.subscribe(lambda change: predicate(change.new) and seen.set())
    try:
        if not predicate(device.state):
            assert seen.wait(timeout), f"state stayed {device.state}"
    finally:
        unsubscribe()


# -- status bytes as the ESC/POS reference defines them ---------------------------------
def test_status_bytes_of_a_healthy_printer():
    report = Report.parse(b"\x12\x12\x12\x12")
    assert (report.status, report.detail()) == (Status.ONLINE, {"paper": "ok", "cover": "closed", "error": "none"})


def test_status_bytes_of_a_printer_out_of_paper():
    report = Report.parse(b"\x1a\x32\x12\x7e")  # offline; stopped at paper end; both sensors
    assert report.printer.offline and report.paper == "out" and report.cover == "closed"


def test_status_bytes_near_end_cover_open_and_cutter_error():
    assert Report.parse(b"\x12\x12\x12\x1e").paper == "near_end"
    assert Report.parse(b"\x1a\x16\x12\x12").cover == "open"
    cutter = Report.parse(b"\x1a\x52\x1a\x12")
    assert cutter.error.kind == "autocutter" and cutter.status is Status.HARDWARE_ERROR


@pytest.mark.parametrize("garbage", [0x00, 0xFF, 0x02, 0x10, 0x13, 0x92])
def test_a_byte_with_wrong_fixed_bits_is_garbage(garbage):
    with pytest.raises(StatusByteError):
        Report.parse(bytes([garbage, 0x12, 0x12, 0x12]))


# -- driver and simulator ---------------------------------------------------------------
def test_chinese_text_qr_and_cut_arrive_decoded(sim, printer):
    result = printer.print_job(RECEIPT).result(timeout=10)
    doc = sim.wait_documents(1)[0]
    assert doc.texts == ("受理通知书", "申请人：张三", "事项：居住证签注")
    assert doc.lines[0].width == 2 and doc.lines[0].bold and doc.lines[0].align == "center"
    assert doc.lines[2].bold and not doc.lines[1].bold
    assert [(q.payload, q.module_size, q.error_correction) for q in doc.qr_codes] == [
        ("https://zwfw.example.gov.cn/q?id=2024-000123", 6, "M")]
    assert doc.cut == "full" and result.paper == "ok" and sim.unknown_commands == ()
    assert printer.state.status is Status.ONLINE


def test_receipts_are_written_under_the_run_directory(sim, printer, tmp_path):
    printer.print_test_page().result(timeout=10)
    sim.wait_documents(1)
    text = (tmp_path / "receipts" / "receipt-0001.txt").read_text(encoding="utf-8")
    assert "自助终端打印测试" in text and "[QR] https://example.gov.cn/kiosk/test" in text


def test_paper_out_keeps_the_job_and_retry_prints_it(sim, printer):
    sim.fault = Fault.PAPER_OUT
    with pytest.raises(MediaError) as caught:
        printer.print_job(RECEIPT).result(timeout=10)
    assert caught.value.code == "printer.paper_out"
    assert [p.reason for p in printer.pending] == ["printer.paper_out"]
    assert printer.pending[0].receipt == RECEIPT
    assert printer.state.detail["paper"] == "out"
    assert sim.documents == () and sim.dropped == 0  # nothing was sent to an empty printer

    with pytest.raises(MediaError):  # still out: retrying keeps it
        printer.retry_pending().result(timeout=10)
    assert len(printer.pending) == 1

    sim.fault = Fault.NONE
    results = printer.retry_pending().result(timeout=10)
    assert [r.job_id for r in results] == [1] and printer.pending == ()
    assert sim.wait_documents(1)[0].texts == RECEIPT.texts


def test_cover_open_keeps_the_job(sim, printer):
    sim.fault = Fault.COVER_OPEN
    with pytest.raises(MediaError) as caught:
        printer.print_job(RECEIPT).result(timeout=10)
    assert caught.value.code == "printer.cover_open"
    assert printer.state.detail["cover"] == "open" and len(printer.pending) == 1
    assert printer.discard_pending().result(timeout=5) == 1 and printer.pending == ()


def test_cutter_jam_is_a_hardware_error_in_both_languages(sim, printer):
    sim.fault = Fault.CUTTER_JAM
    with pytest.raises(DeviceError) as caught:
        printer.print_job(RECEIPT).result(timeout=10)
    assert caught.value.code == "printer.hardware_error" and caught.value.recovery is Recovery.TECHNICIAN
    assert "paper cutter" in caught.value.message("en")
    assert printer.state.status is Status.HARDWARE_ERROR and printer.state.detail["error"] == "autocutter"
    sim.fault = Fault.NONE
    assert printer.refresh().result(timeout=10).status is Status.ONLINE


def test_paper_near_end_is_reported_and_still_prints(sim, printer):
    sim.fault = Fault.PAPER_NEAR_END
    assert printer.print_job(RECEIPT).result(timeout=10).paper == "near_end"
    assert printer.state.detail["paper"] == "near_end"
    assert len(sim.wait_documents(1)) == 1


def test_a_mute_printer_is_offline_not_paper_adequate(sim, printer):
    printer.refresh().result(timeout=10)
    assert printer.state.status is Status.ONLINE
    sim.fault = Fault.MUTE
    assert printer.refresh().result(timeout=10).status is Status.OFFLINE
    with pytest.raises(DeviceTimeout) as caught:
        printer.print_job(RECEIPT).result(timeout=10)
    assert caught.value.code == "printer.no_answer" and len(printer.pending) == 1
    assert sim.documents == ()


def test_garbage_status_is_a_protocol_error(sim, printer):
    sim.fault = Fault.GARBAGE
    with pytest.raises(ProtocolError) as caught:
        printer.print_job(RECEIPT).result(timeout=10)
    assert caught.value.code == "printer.bad_status"
    assert printer.state.status is Status.HARDWARE_ERROR and len(printer.pending) == 1


def test_refused_connection_is_offline_and_unavailable(sim, printer):
    sim.fault = Fault.REFUSED
    with pytest.raises(DeviceUnavailable) as caught:
        printer.print_job(RECEIPT).result(timeout=10)
    assert caught.value.code == "printer.offline" and printer.state.status is Status.OFFLINE


def test_printer_stopped_and_restarted_recovers_by_itself(sim, printer):
    printer.start()
    wait_for(printer, lambda s: s.status is Status.ONLINE)
    sim.stop()
    wait_for(printer, lambda s: s.status is Status.OFFLINE)
    sim.start()
    wait_for(printer, lambda s: s.status is Status.ONLINE)
    printer.print_job(RECEIPT).result(timeout=10)
    assert sim.wait_documents(1)[0].texts == RECEIPT.texts


def test_serial_connection_through_a_pty(sim, tmp_path):
    """socat links a pty (the printer's serial port, as the driver sees it) to the simulator."""
    link = tmp_path / "ttyPRN"
    socat = subprocess.Popen([shutil.which("socat") or "socat", f"pty,raw,echo=0,link={link}",
                              f"tcp:127.0.0.1:{sim.port}"])
    try:
        for _ in range(100):
            if link.exists():
                break
            time.sleep(0.05)
        device = EscposPrinter("serial", EscposOptions(connection="serial", device=str(link),
                                                       baudrate=115200, timeout_s=2.0))
        try:
            assert device.check_environment() == []
            device.print_job(RECEIPT).result(timeout=10)
            assert sim.wait_documents(1)[0].texts == RECEIPT.texts
            assert device.state.status is Status.ONLINE
        finally:
            device.close()
    finally:
        socat.terminate()
        socat.wait(timeout=5)


def test_environment_check_names_a_missing_serial_port(tmp_path):
    device = EscposPrinter("p", EscposOptions(connection="serial", device=str(tmp_path / "ttyNONE")))
    problems = device.check_environment()
    device.close()
    assert [p.code for p in problems] == ["printer.port_missing"]
    assert str(tmp_path / "ttyNONE") in problems[0].message("zh_CN")


# -- configuration -----------------------------------------------------------------------
@pytest.mark.parametrize("section, key", [
    ({"connection": "bluetooth"}, "connection"),
    ({"connection": "usb", "usb_vendor": 0x0416}, "usb_product"),
    ({"port": 70000}, "port"),
    ({"timeout_s": 0}, "timeout_s"),
])
def test_bad_options_name_the_key(section, key):
    with pytest.raises(ConfigError) as caught:
        parse({"devices": {"receipt": {"driver": "escpos", **section}}}, "kiosk.toml")
    assert key in str(caught.value) and "devices.receipt" in str(caught.value)


def test_simulator_config_section_loads():
    with SimulatedEscposPrinter() as sim:
        config = parse({"devices": {"receipt": sim.config_section()}})
    assert config.devices["receipt"].options.port == sim.port


# -- USB ---------------------------------------------------------------------------------
def test_usb_endpoint_finding_picks_the_bulk_pair():
    """No USB printer can be attached here, so the USB link itself is not exercised; this
    checks only its endpoint choice, on a fake interface descriptor (a mock, by necessity)."""
    def ep(address, attributes):
        return SimpleNamespace(bEndpointAddress=address, bmAttributes=attributes)

    interrupt_in, bulk_out, bulk_in = ep(0x83, 0x03), ep(0x01, 0x02), ep(0x82, 0x02)
    out, inp = find_endpoints([interrupt_in, bulk_out, bulk_in])
    assert (out, inp) == (bulk_out, bulk_in)
    with pytest.raises(OSError):
        find_endpoints([interrupt_in, bulk_out])
