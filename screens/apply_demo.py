"""Demo data for the screenshots of the apply screens: a demo card holder applying for 无房产证明
(on the check step, through the village agent).

The draft is made as the screens make it (in the visit, its pages in the visit's private
directory); the submitted case is a demo value, so no screenshot stores or prints anything.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from PIL import Image, ImageDraw

from drivers.idcard.identity import masked_id
from drivers.sim.samv_reader import DEMO_IDENTITIES
from kiosk.cases import Submitted
from kiosk.drafts import Draft

ITEM = "2000501000"  # 无房产证明
PERSON = DEMO_IDENTITIES[1]
AGENT = "04A22B5C"  # the village agent's staff card


def demo_draft(harness, complete: bool = True, agent: str = "") -> Draft:
    """A draft in a new visit: the demo card read; the form and the pages filled when ``complete``."""
    app = harness.app
    visit = app.session.start()
    draft = Draft(visit, app.terminal.catalog.get(ITEM), agent)
    draft.take_identity(PERSON)
    if complete:
        draft.set("phone", "13800138000")
        draft.set("purpose", "子女入学")
        for index in range(len(draft.item.materials) - 1):
            for _ in range(2 - index):
                draft.add_page(index, draft.new_page(_page(visit)))
        draft.skip(len(draft.item.materials) - 1)
    return draft


def _page(visit):
    """A page as the document camera squares it up: a heading bar and lines of text."""
    path = visit.scan_path(".png")
    image = Image.new("RGB", (1240, 1754), "white")
    pen = ImageDraw.Draw(image)
    pen.rectangle((100, 100, 1140, 180), fill="black")
    for n in range(24):
        pen.rectangle((100, 260 + n * 56, 100 + (1040 if n % 5 else 600), 276 + n * 56), fill=(60, 60, 60))
    image.save(path)
    return path


def demo_submitted(delivered: bool = False) -> Submitted:
    queued = Submitted(
        ref="DL01-20261124-0007", case_no="", delivered=False, status="queued", item_code=ITEM,
        item_name="无房产证明", applicant_name=PERSON.name, masked_id=masked_id(PERSON.id_number),
        materials=(("申请人居民身份证", 2), ("不动产登记资料查询申请书", 1)), promised_date=date(2026, 11, 24),
        submitted_at=datetime(2026, 11, 24, 9, 30), progress_ref="DL01-20261124-0007")
    if not delivered:
        return queued
    return replace(queued, case_no="4408112026112400123", delivered=True, status="completed",
                   progress_ref="4408112026112400123")


def _form_error(harness) -> None:
    demo_draft(harness, complete=False)
    harness.app.go("apply_form", field="phone")
    harness.app.screen._keypad.value = "12345"
    harness.app.screen.take("12345")


def _submitted(harness, delivered: bool, printed: str = "") -> None:
    draft = demo_draft(harness)
    draft.submitted = demo_submitted(delivered)
    harness.app.go("apply_submit")
    screen = harness.app.screen
    if printed == "not_printed":
        screen.print_state = "not_printed"
        screen.print_error = "打印机缺纸。请服务站工作人员装纸。"
    else:
        screen.print_state = printed


def shots() -> list:
    """(name, action) pairs for ``screens.screenshots``."""
    return [
        ("apply-card", lambda h: h.app.go("apply_card", code=ITEM)),
        ("apply-form-error", _form_error),
        ("apply-form-text", lambda h: (demo_draft(h), h.app.go("apply_form", field="agent_name"))),
        ("apply-materials", lambda h: (demo_draft(h), h.app.go("apply_materials", index=0))),
        ("apply-review", lambda h: (demo_draft(h, agent=AGENT), h.app.go("apply_review"))),
        ("apply-queued", lambda h: _submitted(h, False, "printed")),
        ("apply-completed", lambda h: _submitted(h, True, "printed")),
        ("apply-paper-out", lambda h: _submitted(h, False, "not_printed")),
    ]
