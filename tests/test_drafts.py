"""An application put together in a visit: card, form, pages; what it submits; what the wipe leaves."""
from __future__ import annotations

import pytest
from PIL import Image

from drivers.sim.samv_reader import DEMO_IDENTITIES
from kiosk.catalog import load_catalog
from kiosk.catalog.loader import BUNDLED
from kiosk.drafts import PREVIEW_PX, Draft
from kiosk.session import EndReason, Session

ITEM = load_catalog(BUNDLED).get("2000501000")  # 无房产证明: applicant fields, phone, 3 materials
PERSON = DEMO_IDENTITIES[0]


@pytest.fixture
def session(tmp_path):
    session = Session(temp_root=tmp_path)
    session.start()
    yield session
    session.end(EndReason.FINISHED)


def page(draft, colour="white"):
    path = draft.visit.scan_path(".png")
    Image.new("RGB", (2480, 3508), colour).save(path)
    return draft.new_page(path)


def fill(draft):
    draft.take_identity(PERSON)
    for f in draft.item.form:
        if f.name not in draft.values and f.required:
            draft.set(f.name, {"phone": "13800138000"}.get(f.name, f.choices[0] if f.choices else "东岭村"))


def test_the_card_fills_and_locks_its_fields(session):
    draft = Draft(session.visit, ITEM)
    assert Draft.of(session.visit) is draft
    draft.take_identity(PERSON)
    assert draft.values["name"] == "张伟" and draft.values["id_number"] == PERSON.id_number
    assert draft.locked(draft.field("name")) and not draft.locked(draft.field("phone"))


def test_a_wrong_value_is_kept_with_its_problem_until_corrected(session):
    draft = Draft(session.visit, ITEM)
    assert draft.set("phone", "12345").msgid.startswith("A mobile number")
    assert "phone" in draft.problems and draft.values["phone"] == "12345"
    assert draft.set("phone", "138 0013 8000") is None
    assert "phone" not in draft.problems and draft.values["phone"] == "13800138000"
    assert Draft(session.visit, ITEM).values == {}  # a new application in the same visit
    fresh = Draft(session.visit, ITEM)
    fresh.take_identity(PERSON)
    assert fresh.values["phone"] == "13800138000"  # the visit's phone (session.phone) is offered again


def test_pages_previews_retake_and_skip(session):
    draft = Draft(session.visit, ITEM)
    first, second, retaken = page(draft), page(draft), page(draft, "grey")
    with Image.open(first.preview) as preview:
        assert max(preview.size) == PREVIEW_PX
    draft.add_page(0, first)
    draft.add_page(0, second)
    draft.add_page(0, retaken, replace=0)
    assert draft.pages[0] == [retaken, second]
    assert draft.next_material() == 1
    draft.skip(1)
    assert draft.next_material() == 2 and draft.material_done(1)


def test_the_application_holds_the_card_holder_the_form_and_the_pages(session):
    draft = Draft(session.visit, ITEM)
    with pytest.raises(ValueError):
        draft.application()
    fill(draft)
    for index in range(len(ITEM.materials)):
        if index == 1:
            draft.skip(index)
        else:
            draft.add_page(index, page(draft))
    application = draft.application()
    assert application.applicant.name == "张伟" and application.applicant.phone == "13800138000"
    assert application.form["id_number"] == PERSON.id_number
    assert [m.name for m in application.materials] == [ITEM.materials[0].name, ITEM.materials[2].name]
    assert all(p.exists() for m in application.materials for p in m.pages)


def test_the_wipe_takes_the_draft_and_its_scans(session):
    visit = session.visit
    draft = Draft(visit, ITEM)
    fill(draft)
    draft.add_page(0, page(draft))
    folder = visit.dir
    session.end(EndReason.IDLE)
    assert Draft.of(visit) is None and visit.identity is None
    assert not folder.exists()
