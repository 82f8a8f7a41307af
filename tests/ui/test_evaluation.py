"""好差评 by touch: offered after a service, never forced; a poor rating files a complaint with
a call-back, which reaches the session's upstream sandbox through the real outbox.

What the sandbox received is read from its own database (the platform's side of the
wire): the complaint carries the phone for the call-back and the case, never the
evaluator's name or ID number.
"""
from __future__ import annotations

import json

from PIL import Image

from _platform import records, tap_shown, type_on_keypad, within
from drivers.sim.samv_reader import DEMO_IDENTITIES
from fleet.protocol import Stamp, now
from kiosk.cases import Applicant, Application, ScannedMaterial
from screens.evaluation import LevelButton, ProblemButton
from screens.widgets.pinyin_keyboard import CandidateButton, Key

PERSON = DEMO_IDENTITIES[0]
ITEM = "2000102000"  # a village item the sandbox accepts
PHONE = "13912345678"


def level_button(ui, level: str, row: str = "levels") -> LevelButton:
    return next(b for b in ui.app.screen.ids[row].children if b.level == level)


def print_a_guide(ui):
    if ui.screen == "attract":
        ui.tap((10, 10))  # wakes the terminal at home
    ui.app.go("guide", code=ITEM)
    guide = ui.app.screen
    ui.wait(lambda: guide.printer_ready, timeout=30, what="the receipt printer")
    ui.settle()
    assert guide.ids.rate.opacity == 0  # nothing offered before the service
    ui.tap(guide.ids.print_button)
    ui.wait(lambda: guide.print_state == "done", timeout=30, what="the guide printed")
    ui.settle()  # the offer appears under the print button
    return guide


def test_after_a_guide_print_the_evaluation_is_offered_skippable_and_sent(ui):
    counters = ui.app.terminal.counters
    stamp = Stamp(now(), 1, "boot-eval")
    counters.take(stamp)  # a new window of the fleet's counts begins
    sent = len(records(ui, "evaluation"))
    guide = print_a_guide(ui)

    ui.tap(guide.ids.rate)
    assert ui.screen == "evaluation"
    screen = ui.app.screen
    assert screen.case == "" and len(ui.find_all(LevelButton)) == 5
    assert ui.find(LevelButton, "★★★★★\n非常满意") and ui.find(LevelButton, "★☆☆☆☆\n非常不满意")
    assert ui.find(text="评价不记录您的姓名和身份证号，您也可以跳过。")
    tap_shown(ui, screen.ids.skip)  # never forced: back where the citizen was, nothing stored, no more asking
    assert ui.screen == "guide" and ui.app.screen.ids.rate.disabled

    guide = print_a_guide(ui)  # another print: offered again
    ui.tap(guide.ids.rate)
    assert ui.screen == "evaluation"
    screen = ui.app.screen
    tap_shown(ui, level_button(ui, "satisfied"))
    assert screen.step == "followup"
    tap_shown(ui, level_button(ui, "very_satisfied", "q_attitude"))
    assert screen.followup == {"attitude": "very_satisfied"}
    tap_shown(ui, screen.ids.followup_next)
    ui.wait(lambda: screen.step == "thanks", timeout=20, what="the evaluation stored")
    counted = counters.take(stamp).evaluations
    assert counted["satisfied"] == 1 and sum(counted.values()) == 1  # the skipped one is not counted
    new = within(lambda: records(ui, "evaluation")[sent:], 30, "the evaluation on the platform")
    assert len(new) == 1  # the skipped one was never stored
    record = new[0]
    assert record["level"] == "satisfied" and record["followup"] == {"attitude": "very_satisfied"}
    assert record["case_no"] == "" and not record["problems"]
    tap_shown(ui, screen.ids.finish)
    assert ui.screen == "home"


def test_a_poor_rating_of_a_case_files_a_complaint_with_a_call_back(ui, tmp_path):
    terminal = ui.app.terminal
    item = terminal.catalog.get(ITEM)
    page = tmp_path / "page.png"
    Image.new("L", (64, 48), 90).save(page)
    submitted = terminal.cases.submit(Application(
        item, Applicant.from_identity(PERSON, "13800138000"), {"purpose": "入学"},
        (ScannedMaterial(item.materials[0].name, (page,)),)), wait_s=15)
    assert submitted.delivered
    complaints = len(records(ui, "complaint"))

    ui.tap((10, 10))
    ui.app.go("case", number=submitted.case_no)
    case = ui.app.screen
    ui.wait(lambda: case.state == "shown", timeout=20, what="the case looked up")
    tap_shown(ui, case.ids.rate)
    screen = ui.app.screen
    assert ui.screen == "evaluation" and screen.case == submitted.case_no
    assert ui.find(text=f"评价办件：{submitted.case_no}")
    tap_shown(ui, level_button(ui, "very_dissatisfied"))
    for question in ("overall", "efficiency", "service", "attitude"):
        tap_shown(ui, level_button(ui, "dissatisfied", f"q_{question}"))
    tap_shown(ui, screen.ids.followup_next)
    assert screen.step == "problems"  # a poor rating asks what went wrong

    for problem in ("It took too long", "I had to come back more than once"):
        tap_shown(ui, next(b for b in ui.find_all(ProblemButton) if b.msgid == problem))
    assert screen.problems == ["It took too long", "I had to come back more than once"]
    keyboard = screen.ids.comment
    for letter in "man":
        tap_shown(ui, next(k for k in ui.find_all(Key, root=keyboard) if k.value == letter))
    word = ui.find_all(CandidateButton, root=keyboard)[0]
    chosen = word.text
    tap_shown(ui, word)
    assert keyboard.text == chosen

    tap_shown(ui, screen.ids.want_callback)
    assert screen.step == "callback"
    for digits, wrong in (("12345", True), (PHONE, False)):
        type_on_keypad(ui, screen.ids.phone, digits, tap=lambda widget: tap_shown(ui, widget))
        assert screen.phone_error is wrong, f"typed {digits}, the keypad has {screen.ids.phone.value!r}"
    ui.wait(lambda: screen.step == "thanks", timeout=20, what="the evaluation and complaint stored")
    ui.frames(2)  # the short page stands at its top at once, not springing back from where the keypad was
    assert screen.ids.scroll.scroll_y == 1, screen.ids.scroll.scroll_y
    assert ui.find(text="您的投诉已登记，便民服务站将在3个工作日内回访您。")

    record = within(lambda: records(ui, "complaint")[complaints:], 30, "the complaint on the platform")[-1]
    assert record["callback_phone"] == PHONE and record["case_no"] == submitted.case_no
    assert record["level"] == "very_dissatisfied" and record["comment"] == chosen
    assert record["problems"] == ["办理时间太长", "多次跑腿才办成"]  # in Chinese, whatever the screen's language
    flat = json.dumps(record, ensure_ascii=False)
    assert PERSON.name not in flat and PERSON.id_number not in flat  # the evaluator is not named
    local = terminal.cases.store.row("SELECT complaint_no FROM complaints ORDER BY ref DESC LIMIT 1")
    assert local["complaint_no"] == record["no"]  # the platform's number kept at the terminal
    evaluation = next(r for r in reversed(records(ui, "evaluation")) if r["case_no"] == submitted.case_no)
    assert "callback_phone" not in evaluation  # the phone goes with the complaint only
