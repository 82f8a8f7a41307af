"""``kiosk screenshots``: every screen of the app, with demo data, as PNG files, audited.

Runs the app on the simulated station (started in a temporary directory) under the
current display, or a private Xvfb when there is none. Each shot is named after the
screen and the state it shows; ``audit.txt`` beside them lists what the audit found.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from drivers.sim.station import SimulatedStation
from kiosk import config
from kiosk.catalog.modules import GROUPS
from screens.apply_demo import shots as apply_shots

Shot = tuple[str, Callable]


def _shots() -> list[Shot]:
    shots: list[Shot] = [
        ("attract", lambda h: None),
        ("home", lambda h: h.app.go_home()),
    ]
    shots += [(f"group-{g.id}", lambda h, g=g: h.app.go("group", group=g.id)) for g in GROUPS]
    shots += [
        ("module-news", lambda h: h.app.go("module", module="news")),
        ("module-notices", lambda h: h.app.go("module", module="notices")),
        ("module-phone_topup", lambda h: h.app.go("module", module="phone_topup")),
        ("home-large-print", lambda h: (h.app.go_home(), setattr(h.app.style, "large", True))),
        ("home-high-contrast", lambda h: (h.app.go_home(), setattr(h.app.style, "high_contrast", True))),
        ("group-village-large-print", lambda h: (h.app.go("group", group="village"),
                                                 setattr(h.app.style, "large", True))),
        ("guides", lambda h: h.app.go("guides")),
        ("guides-search-wfc", lambda h: h.app.go("guides", mode="search", letters="wfc")),
        ("guides-life-event", lambda h: h.app.go("guides", mode="event")),
        ("guide-no-house-certificate", lambda h: h.app.go("guide", code=_item_code(h, "无房产证明"))),
        ("guide-large-print", lambda h: (h.app.go("guide", code=_item_code(h, "无房产证明")),
                                         setattr(h.app.style, "large", True))),
        ("idle-countdown", _idle_countdown),
        ("maintenance-pin", lambda h: h.app.go("maintenance")),
        ("maintenance-devices", lambda h: (h.app.go("maintenance"), h.app.screen.submit_pin("2468"))),
        ("out-of-service", lambda h: h.app.show("out_of_service")),
        ("out-of-service-maintenance", lambda h: h.app.show("out_of_service", maintenance=True)),
        ("queue", lambda h: h.app.go("queue")),
        ("queue-ticket", lambda h: (h.app.go("queue"), h.app.screen.take("民政"))),
        ("staff-queue", _staff_called),
        ("attract-calling", lambda h: h.app.announce_call(h.app.terminal.queue.issue("人社"))),
        ("evaluation", lambda h: h.app.go("evaluation", case="DEMO-20261124-0007")),
        ("evaluation-followup", lambda h: (h.app.go("evaluation"), h.app.screen.choose_level("satisfied"))),
        ("evaluation-poor", lambda h: (h.app.go("evaluation"), h.app.screen.choose_level("dissatisfied"),
                                       h.app.screen.after_followup())),
        ("cases", _cases_listed),
        ("cases-qr-not-ours", _cases_qr_not_ours),
        ("case-rejected", lambda h: _show_case(h, "rejected")),
        ("case-certificate", lambda h: _show_case(h, "completed")),
        ("appointment", lambda h: h.app.go("appointment")),
    ]
    shots += apply_shots()
    return shots


def _staff_called(harness) -> None:
    """The agent's screen after calling a number."""
    harness.app.terminal.queue.issue("卫计")
    harness.app.go("staff")
    harness.app.screen.call_next()


def _demo_case(status: str, case_no: str = "4408032026112400017", item_name: str = "最低生活保障申请",
               promised_in_days: int = 3):
    """A case as the platform might answer, for the shots."""
    from datetime import date, datetime, timedelta
    from kiosk.cases import CaseView
    day = datetime.now().replace(microsecond=0)
    history = [(day - timedelta(days=6), "submitted", ""), (day - timedelta(days=5), "accepted", ""),
               (day - timedelta(days=1), status, "经核查，申请人家庭收入超过本地低保标准。" if status == "rejected"
                else "准予办理")]
    promised = date.today() + timedelta(days=promised_in_days)
    return CaseView(ref="", case_no=case_no, item_code="", item_name=item_name, status=status,
                    history=tuple(history), promised_date=promised,
                    overdue=promised < date.today() and status not in ("completed", "rejected"),
                    reason=history[-1][2] if status == "rejected" else "", certificate_ready=status == "completed",
                    delivered=True)


def _cases_qr_not_ours(harness) -> None:
    """My cases after a QR code that is not a receipt's was held under the camera."""
    from kiosk.qr_lookup import NOT_OURS, QrLookupError
    harness.app.go("cases")
    harness.frames(2)
    screen = harness.app.screen
    screen._work.cancel()  # the card on the reader is read at once: the failed scan stands in for it
    screen._qr_read(None, QrLookupError(NOT_OURS))


def _cases_listed(harness) -> None:
    """My cases after the ID card was read: one completed, one overdue, one rejected."""
    harness.app.go("cases")
    harness.frames(2)  # the card on the reader is read at once: the demo list stands in for the platform's
    screen = harness.app.screen
    screen._work.cancel()
    screen._listed([_demo_case("completed"),
                    _demo_case("processing", "4408032026110300009", "临时救助申请", promised_in_days=-2),
                    _demo_case("rejected", "4408032026102800004", "高龄津贴申请")], None)


def _show_case(harness, status: str) -> None:
    """A case's page, with demo data in place of the platform's answer."""
    case = _demo_case(status)
    harness.app.go("case", number=case.case_no)
    screen = harness.app.screen
    screen._work.cancel()  # the demo case, not the platform's answer
    screen._found(case, None)


def _item_code(harness, name: str) -> str:
    return str(next(i for i in harness.app.terminal.catalog if i.name == name).code)


def _idle_countdown(harness) -> None:
    """A visit left idle: the "still there?" question with its countdown."""
    session = harness.app.terminal.session
    harness.app.wake(None)
    session.timer.warn(session.clock())
    harness.wait(lambda: harness.app.idle.parent is not None, what="the countdown")  # the app's next tick


def take_screenshots(out: Path, orientation: str = "landscape", lang: str = "zh_CN") -> list:
    """Render every shot into ``out``; returns the audit's findings (empty when all is well)."""
    from screens.xvfb import Xvfb
    out.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        if not os.environ.get("DISPLAY"):
            stack.enter_context(Xvfb())
        run_dir = Path(tempfile.mkdtemp(prefix="kiosk-shots-", dir="/tmp"))
        stack.callback(shutil.rmtree, run_dir, ignore_errors=True)
        station = stack.enter_context(SimulatedStation(run_dir, printer_port=0))
        sections = station.sections()
        cfg = config.parse({"terminal": {"station": "湖光镇东岭村便民服务站", "language": lang,
                                         "opening_hours": "每天 0:00—24:00"},
                            "queue": {"db": str(run_dir / "queue.sqlite")},
                            "maintenance": {"pin": "2468"}, "devices": sections}, run_dir / "kiosk.toml")
        from screens.audit import audit
        from screens.fonts import register_cjk_font
        from screens.harness import AppHarness
        harness = AppHarness(cfg, orientation)
        stack.callback(harness.close)
        harness.wait(lambda: harness.app.terminal.online_kinds() >= {"receipt_printer", "idcard"},
                     what="the simulated devices")
        harness.app.service_watch.stop()  # it would take the out-of-service shots back to attract
        font = register_cjk_font()
        findings = []
        for name, action in _shots():
            harness.reset()
            action(harness)
            harness.frames(4)
            path = out / f"{name}.png"
            harness.screenshot(path)
            findings += audit(harness.app, str(path), name, font)
        (out / "audit.txt").write_text("".join(f"{f}\n" for f in findings), encoding="utf-8")
        return findings
