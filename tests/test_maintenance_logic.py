"""The maintenance core without a screen: tap counter, PIN gate and lock-out, status in
words, and the self-tests against the simulators (real ESC/POS bytes, real SAM frames)."""
from __future__ import annotations

import pytest

from drivers.base import DeviceState, Status
from drivers.sim.escpos_printer import SimulatedEscposPrinter
from drivers.sim.samv_reader import DEMO_IDENTITIES, SimulatedSamvReader
from kiosk import config
from kiosk import maintenance as mt
from kiosk.terminal import Terminal


class FakeClock:
    def __init__(self):
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def test_five_taps_within_the_window_make_the_gesture():
    clock = FakeClock()
    counter = mt.TapCounter(taps=5, window_s=4.0, clock=clock)
    assert not any(counter.tap() for _ in range(4))
    clock.now += 4.5
    assert not counter.tap()  # the first four are too old now
    assert not any(counter.tap() for _ in range(3))
    assert counter.tap()
    assert not counter.tap()  # it starts over
    counter.reset()
    assert not any(counter.tap() for _ in range(4))


def test_pin_gate_counts_wrong_tries_and_locks_out():
    clock = FakeClock()
    gate = mt.PinGate("2468", max_tries=5, lockout_s=300, clock=clock)
    assert gate.check("1111") == mt.PinCheck("wrong", 4)
    assert gate.check("2468").outcome == "ok"  # a right PIN resets the count
    for left in (4, 3, 2, 1):
        assert gate.check("246") == mt.PinCheck("wrong", left)
    assert gate.check("24680") == mt.PinCheck("locked_out", wait_s=300)
    assert gate.check("2468") == mt.PinCheck("locked_out", wait_s=300)
    clock.now += 299.5
    assert gate.check("2468").outcome == "locked_out" and gate.locked_out_for() == pytest.approx(0.5)
    clock.now += 1
    assert gate.locked_out_for() == 0
    assert gate.check("0000") == mt.PinCheck("wrong", 4)  # a fresh count after the lock-out
    assert gate.check("2468").outcome == "ok"


def test_an_empty_pin_keeps_maintenance_locked():
    gate = mt.PinGate("")
    assert not gate.enabled
    assert gate.check("").outcome == "no_pin"
    assert gate.check("1234").outcome == "no_pin"


def test_status_and_detail_in_words():
    paper_out = DeviceState(Status.ONLINE, {"paper": "out", "cover": "closed", "error": "none"})
    assert mt.status_words(paper_out, "en") == "✓ working"
    assert mt.detail_words(paper_out.detail, "en") == "paper out"
    assert mt.needs_attention(paper_out)
    fine = DeviceState(Status.ONLINE, {"paper": "ok", "cover": "closed", "error": "none"})
    assert not mt.needs_attention(fine) and mt.detail_words(fine.detail, "en") == "paper OK"
    assert mt.needs_attention(DeviceState(Status.OFFLINE))
    assert mt.status_words(DeviceState(Status.NO_DEVICE), "en") == "✕ not found"
    assert mt.detail_words({"firmware": "1.2"}, "en") == "firmware: 1.2"  # unknown keys as they are
    assert mt.kind_words("a4_printer", "en") == "A4 printer" and mt.kind_words("robot", "en") == "robot"


@pytest.fixture
def terminal(tmp_path):
    with SimulatedEscposPrinter(port=0, run_dir=tmp_path / "printer") as printer, \
            SimulatedSamvReader(link=tmp_path / "samv", card=DEMO_IDENTITIES[0]) as samv:
        cfg = config.parse({"devices": {"receipt": printer.config_section(), "idcard": samv.config_section()}},
                           tmp_path / "kiosk.toml")
        term = Terminal(cfg)
        term.printer, term.samv = printer, samv
        try:
            yield term
        finally:
            term.close()


def test_receipt_self_test_prints_and_a_fault_is_an_outcome(terminal):
    outcome = mt.print_receipt_test(terminal).result(timeout=20)
    assert outcome.ok and outcome.text("en").startswith("✓ Test receipt printed (job 1,")
    assert "自助终端打印测试" in terminal.printer.wait_documents(1)[0].texts
    terminal.printer.fault = "paper_out"
    failed = mt.print_receipt_test(terminal).result(timeout=20)
    assert not failed.ok and failed.error.code == "printer.paper_out"
    assert failed.text("en") == "✕ The receipt printer is out of paper. Please ask the station staff for help."


def test_id_card_self_test_gives_the_masked_number_only(terminal):
    card = DEMO_IDENTITIES[0]
    outcome = mt.read_id_card(terminal, timeout=10).result(timeout=20)
    assert outcome.ok
    text = outcome.text("en")
    assert card.name in text and card.id_number[:6] + "********" + card.id_number[-4:] in text
    assert card.id_number not in text and card.id_number not in repr(outcome)


def test_a_missing_device_is_said_in_words(terminal, tmp_path):
    outcome = mt.scan_page(terminal, tmp_path / "scans").result(timeout=1)
    assert not outcome.ok and outcome.text("en") == "No scanner is configured on this terminal."
    assert mt.print_a4_test(terminal).result(timeout=1).text("en") == "No A4 printer is configured on this terminal."
