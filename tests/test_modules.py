"""The registry of the 26 function modules in six groups."""
from __future__ import annotations

import pytest

from kiosk.catalog.modules import GROUPS, IDCARD, MODULES, PRINTER, missing_devices, module, modules_in


def test_twenty_six_modules_in_six_groups_with_unique_ids():
    assert len(MODULES) == 26
    assert len(GROUPS) == 6
    ids = [m.id for m in MODULES]
    assert len(set(ids)) == len(ids)
    assert {m.group for m in MODULES} == {g.id for g in GROUPS}
    assert [len(modules_in(g.id)) for g in GROUPS] == [3, 5, 2, 9, 3, 4]


def test_every_module_has_a_title_an_icon_and_known_devices():
    for m in MODULES:
        assert m.title and m.icon
        assert set(m.needs) | set(m.uses) <= {"idcard", "receipt_printer", "scanner", "camera", "a4_printer"}
        assert not set(m.needs) & set(m.uses)


def test_the_twenty_sixth_is_my_cases_and_guides_are_offered():
    assert module("cases").group == "government"
    guides = module("guides")
    assert guides.offered and guides.not_offered == "" and PRINTER in guides.uses


def test_modules_not_offered_yet_say_so_in_a_sentence():
    later = [m for m in MODULES if not m.offered]
    assert later
    for m in later:
        assert m.not_offered.endswith(".") and len(m.not_offered.split()) >= 6


def test_missing_devices():
    online = module("online")
    assert missing_devices(online, set()) == (IDCARD,)
    assert missing_devices(online, {IDCARD}) == ()
    assert missing_devices(module("guides"), set()) == ()   # no printer: the guide still shows, QR on screen


def test_unknown_module():
    with pytest.raises(KeyError):
        module("lottery")
