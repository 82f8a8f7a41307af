"""What a villager can type finds the case: a terminal reference by its digits alone (the
numeric keypad has no letters or hyphens); and the platform's appointment slots through
``terminal.cases`` (offline: ``Unavailable``)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _cases_fixtures import sandbox_at, store_config
from _outbox_driver import application
from kiosk.cases import Cases
from kiosk.upstream.client import Unavailable


@pytest.fixture
def offline(tmp_path):
    cases = Cases.open(store_config(tmp_path, "", str(tmp_path / "token"), terminal="DL01"))
    yield cases
    cases.close()


def digits(text: str) -> str:
    return "".join(filter(str.isdigit, text))


def test_a_reference_is_found_by_its_digits_with_or_without_the_terminals(offline, tmp_path):
    first = offline.submit(application(1, tmp_path), wait_s=0).ref
    second = offline.submit(application(2, tmp_path), wait_s=0).ref
    assert first.startswith("DL01-") and second.endswith("-0002")
    for typed in (digits(second), digits(second)[2:]):  # "01" + date + number, or date + number
        found = offline.find(typed)
        assert found is not None and found.ref == second and found.status == "queued"
    assert offline.find(f" {second} ").ref == second  # the reference itself still works
    assert offline.find(digits(first)).ref == first


def test_digits_that_are_not_a_reference_here_find_nothing(offline, tmp_path):
    ref = offline.submit(application(3, tmp_path), wait_s=0).ref
    day_and_number = digits(ref)[2:]
    assert offline.find(day_and_number[:-1]) is None  # too short to be a date and a number
    assert offline.find(day_and_number[:-1] + "9") is None  # another number that day
    assert offline.find("7" + digits(ref)) is None  # not the terminal's digits


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(typed=st.text(alphabet="0123456789-%_ X", max_size=30))
def test_whatever_is_typed_finds_at_most_the_case_it_names(offline, tmp_path, typed):
    if not offline.store.value("SELECT count(*) FROM cases"):  # one case, for all the examples
        offline.submit(application(4, tmp_path), wait_s=0)
    found = offline.find(typed)
    if found is not None:
        assert typed.strip() == found.ref or digits(found.ref).endswith(typed.strip())


def test_appointment_slots_come_from_the_platform_and_offline_raise(offline, tmp_path):
    with pytest.raises(Unavailable):
        offline.appointment_slots("民政", (date.today() + timedelta(days=1)).isoformat())
    with sandbox_at(tmp_path, pace=5.0) as sandbox:
        (tmp_path / "online").mkdir()
        cases = Cases.open(store_config(tmp_path / "online", sandbox.url, sandbox.token_file, terminal="DL02"))
        try:
            monday = date.today() + timedelta(days=7 - date.today().weekday())
            slots = cases.appointment_slots("民政", monday.isoformat())
            assert slots and all(s["window"] == "民政" and s["start"].startswith(monday.isoformat()) for s in slots)
            assert all(s["free"] > 0 for s in slots)  # a Monday ahead: nothing booked, nothing past
            assert cases.appointment_slots("民政", (monday + timedelta(days=5)).isoformat()) == []  # Saturday
        finally:
            cases.close()
