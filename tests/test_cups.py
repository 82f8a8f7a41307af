"""A4 printing against a private cupsd with the real cups-pdf backend (drivers.sim.cupsd)."""
from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from drivers.base import DeviceError, DeviceUnavailable, MediaError, Status
from drivers.printer.cups import CupsOptions, CupsPrinter
from tests._a4_fixtures import cups_sim, text_pdf


@pytest.fixture
def sim():
    with cups_sim() as s:
        yield s


@pytest.fixture
def printer(sim):
    p = CupsPrinter("a4", CupsOptions(**{k: v for k, v in sim.config_section().items() if k != "driver"},
                                      job_timeout_s=60))
    yield p
    p.close()


def pdftotext(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_config_section_names_the_driver(sim):
    section = sim.config_section()
    assert section["driver"] == "cups" and section["queue"] == sim.queue
    assert Path(section["server"]).is_socket()


def test_pdf_is_printed_and_its_text_arrives(sim, printer, tmp_path):
    seen = []
    result = printer.print_pdf(text_pdf(tmp_path / "doc.pdf", "Kiosk certificate 4711"),
                               title="cert", progress=seen.append).result(timeout=90)
    assert result.queue == sim.queue and result.job_id > 0
    outputs = sim.printed()
    assert len(outputs) == 1
    assert "Kiosk certificate 4711" in pdftotext(outputs[0])
    assert seen[-1].state == "completed" and seen[-1].job_id == result.job_id
    assert printer.refresh().result(timeout=10).status is Status.ONLINE


def test_idle_queue_is_online(printer):
    state = printer.refresh().result(timeout=10)
    assert state.status is Status.ONLINE
    assert state.detail["queue_state"] == "idle" and state.detail["paper"] == "ok"


def test_test_page_is_a4(sim, printer):
    printer.print_test_page().result(timeout=90)
    (out,) = sim.printed()
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True).stdout
    size = next(line for line in info.splitlines() if line.startswith("Page size:"))
    width, height = (float(v) for v in size.split()[2:5:2])
    assert abs(width - 595) < 3 and abs(height - 842) < 3


def test_stopped_queue_is_a_hardware_error_and_the_job_is_cancelled(sim, printer, tmp_path):
    sim.set_fault("queue_stopped")
    state = printer.refresh().result(timeout=10)
    assert state.status is Status.HARDWARE_ERROR
    assert "Paper jam" in state.detail["message"]
    with pytest.raises(MediaError) as err:
        printer.print_pdf(text_pdf(tmp_path / "a.pdf", "stopped")).result(timeout=30)
    assert err.value.code == "cups.queue_stopped" and "Paper jam" in str(err.value)
    assert sim.connection().getJobs(which_jobs="not-completed") == {}
    sim.set_fault(None)
    assert printer.refresh().result(timeout=10).status is Status.ONLINE
    printer.print_pdf(text_pdf(tmp_path / "b.pdf", "after")).result(timeout=90)
    assert [p for p in sim.printed() if "after" in pdftotext(p)]


def test_failing_backend_ends_the_job_in_an_error(sim, printer, tmp_path):
    sim.set_fault("job_fails")
    with pytest.raises(DeviceError) as err:
        printer.print_pdf(text_pdf(tmp_path / "a.pdf", "fails")).result(timeout=90)
    assert err.value.code == "cups.job_failed"
    sim.set_fault(None)
    printer.print_pdf(text_pdf(tmp_path / "b.pdf", "works")).result(timeout=90)
    assert len(sim.printed()) == 1


def test_file_the_filters_reject_fails_the_job(printer, tmp_path):
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4\nthis is not a PDF at all\n" * 20)
    with pytest.raises(DeviceError) as err:
        printer.print_pdf(bad).result(timeout=90)
    assert err.value.code == "cups.job_failed"


def test_cupsd_down_is_offline_and_recovers(sim, printer, tmp_path):
    sim.set_fault("cupsd_down")
    assert printer.refresh().result(timeout=10).status is Status.OFFLINE
    with pytest.raises(DeviceUnavailable) as err:
        printer.print_pdf(text_pdf(tmp_path / "a.pdf", "x")).result(timeout=30)
    assert err.value.code == "cups.unreachable"
    assert [e.code for e in printer.check_environment()] == ["cups.unreachable"]
    assert "CUPS is not running" in str(printer.check_environment()[0])
    sim.set_fault(None)
    assert printer.refresh().result(timeout=10).status is Status.ONLINE


def test_polling_notices_cupsd_going_away(sim):
    changes = []
    p = CupsPrinter("a4", CupsOptions(queue=sim.queue, server=str(sim.socket_path), poll_s=0.1))
    p.subscribe(changes.append)
    p.start()
    try:
        p.refresh().result(timeout=10)
        sim.set_fault("cupsd_down")
        gone = threading.Event()
        p.subscribe(lambda c: c.new.status is Status.OFFLINE and gone.set())
        assert gone.wait(timeout=30)
    finally:
        p.close()
    assert changes[0].new.status is Status.ONLINE


def test_missing_queue_is_no_device_and_named_in_the_environment_check(sim):
    p = CupsPrinter("a4", CupsOptions(queue="nope", server=str(sim.socket_path)))
    try:
        assert p.refresh().result(timeout=10).status is Status.NO_DEVICE
        problems = p.check_environment()
        assert [e.code for e in problems] == ["cups.no_queue"]
        assert "nope does not exist" in str(problems[0])
    finally:
        p.close()


def test_options_are_checked():
    with pytest.raises(ValueError, match="queue"):
        CupsOptions(queue="")
    with pytest.raises(ValueError, match="job_timeout_s"):
        CupsOptions(queue="q", job_timeout_s=0)


@given(state=st.one_of(st.none(), st.integers()), message=st.one_of(st.none(), st.text()),
       reasons=st.one_of(st.text(), st.lists(st.text())), accepting=st.booleans())
def test_any_printer_attributes_map_onto_the_vocabulary(state, message, reasons, accepting):
    p = CupsPrinter("a4", CupsOptions(queue="q"))
    try:
        p._apply({"printer-state": state, "printer-state-message": message,
                  "printer-state-reasons": reasons, "printer-is-accepting-jobs": accepting})
        assert p.state.status in Status
        expected_ok = state in (3, 4) and accepting and not any(
            r.startswith(("media-empty", "media-needed", "cover-open", "door-open"))
            for r in ([reasons] if isinstance(reasons, str) else reasons))
        assert (p.state.status is not Status.HARDWARE_ERROR) == expected_ok
    finally:
        p.close()
