"""Application forms: the validators (ID number check digit, phones, dates, numbers), prefill."""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.idcard.identity import check_digit
from drivers.sim.samv_reader import DEMO_IDENTITIES
from kiosk import forms
from kiosk.catalog import load_catalog
from kiosk.catalog.items import FormField
from kiosk.catalog.loader import BUNDLED

CATALOG = load_catalog(BUNDLED)
TODAY = date(2026, 11, 24)


def field(type_: str, required: bool = True, choices=()) -> FormField:
    return FormField("f", "字段", "Field", type_, required, tuple(choices))


def check(type_: str, raw: str, **kw):
    return forms.check(field(type_, **kw), raw, TODAY)


# -- ID numbers --------------------------------------------------------------------------------
id_bodies = st.builds(lambda region, day, seq: f"{region}{day:%Y%m%d}{seq:03d}",
                      st.integers(110000, 659999), st.dates(date(1900, 1, 1), date(2026, 1, 1)),
                      st.integers(0, 999))


@given(id_bodies)
def test_a_number_with_its_check_digit_is_taken(body):
    number = body + check_digit(body)
    assert check("id_number", number) == (number, None)
    assert check("id_number", number.lower()) == (number, None)  # a typed x is the check X


@given(id_bodies, st.sampled_from("0123456789X"))
def test_a_wrong_check_digit_is_refused_in_words(body, last):
    if last == check_digit(body):
        return
    value, problem = check("id_number", body + last)
    assert problem.msgid == forms.ID_CHECK
    assert "校验" in problem.message("zh_CN") or "最后一位" in problem.message("zh_CN")


@given(st.text(max_size=30))
def test_any_typing_gives_a_value_or_a_problem_never_an_error(raw):
    for type_ in ("text", "number", "date", "id_number", "phone", "choice"):
        value, problem = check(type_, raw, choices=("男", "女"))
        assert isinstance(value, str)
        assert problem is None or problem.message("zh_CN")


def test_id_number_length_and_birth_date():
    assert check("id_number", "11010519850315")[1].msgid == forms.ID_LENGTH
    assert check("id_number", "11010519850315123A")[1].msgid == forms.ID_LENGTH
    body = "11010519851335123"  # month 13
    assert check("id_number", body + check_digit(body))[1].msgid == forms.ID_BIRTH


# -- phones --------------------------------------------------------------------------------------
@given(st.sampled_from("3456789"), st.text("0123456789", min_size=9, max_size=9))
def test_mobile_numbers_are_taken_with_spaces_or_dashes(second, rest):
    number = "1" + second + rest
    assert check("phone", number) == (number, None)
    assert check("phone", f"{number[:3]} {number[3:7]}-{number[7:]}") == (number, None)


@pytest.mark.parametrize("raw", ["12345", "12012345678", "138001380001", "abc", "2345678", "07592345"])
def test_not_a_phone_number(raw):
    value, problem = check("phone", raw)
    assert problem.msgid == forms.PHONE and value == raw


def test_landline_with_area_code():
    assert check("phone", "0759-2345678") == ("07592345678", None)


@given(st.text(max_size=20))
def test_a_phone_number_is_ascii_digits_or_nothing(raw):
    """The one test of a phone number (the form's, the evaluation's call-back, the appointment's)."""
    digits = forms.phone_number(raw)
    assert digits == "" or (digits.isascii() and digits.isdigit() and digits[0] in "01")
    assert (check("phone", raw)[1] is None) == bool(digits) or not raw.strip()


def test_digits_of_other_scripts_are_not_a_phone_number():
    assert forms.phone_number("1380013800٣") == ""  # an Arabic-Indic three
    assert forms.phone_number("１３８００１３８０００") == "13800138000"  # full-width digits are digits


# -- dates ---------------------------------------------------------------------------------------
@given(st.dates(date(1900, 1, 1), date(2036, 12, 31)))
def test_dates_as_eight_digits_are_stored_as_iso(day):
    assert check("date", f"{day:%Y%m%d}") == (day.isoformat(), None)
    assert check("date", day.isoformat()) == (day.isoformat(), None)


def test_dates_that_do_not_exist_or_are_out_of_range():
    assert check("date", "20260230")[1].msgid == forms.NO_SUCH_DAY
    assert check("date", "2026023")[1].msgid == forms.DATE_FORMAT
    assert check("date", "18991231")[1].msgid == forms.DATE_RANGE
    assert check("date", "20400101")[1].params == {"year": 2036}


# -- numbers, text, choices, required ---------------------------------------------------------------
def test_numbers_text_and_choices():
    assert check("number", "１２３") == ("123", None)  # full-width digits from a Chinese IME
    assert check("number", "12.5")[1].msgid == forms.NOT_DIGITS
    assert check("number", "9" * 16)[1].msgid == forms.TOO_LONG
    assert check("text", "  东岭村 ")[0] == "东岭村"
    assert check("text", "村" * 61)[1].params == {"n": 60}
    assert check("choice", "女", choices=("男", "女")) == ("女", None)
    assert check("choice", "未知", choices=("男", "女"))[1].msgid == forms.NOT_A_CHOICE


def test_required_and_optional_fields():
    assert check("text", "   ")[1].msgid == forms.REQUIRED
    assert check("phone", "", required=False) == ("", None)
    assert forms.check_all([field("text"), FormField("g", "可选", "Optional", required=False)], {}) .keys() == {"f"}


# -- prefill from the ID card ---------------------------------------------------------------------
def test_prefill_from_the_card_and_the_visit_phone():
    item = CATALOG.get("2000501000")  # 无房产证明
    person = DEMO_IDENTITIES[1]
    values = forms.prefill(item.form, person, phone="13800138000")
    assert values["name"] == "李秀英" and values["id_number"] == "31011519581102204X"
    assert values["sex"] == "女" and values["address"] == person.address and values["phone"] == "13800138000"
    assert forms.prefill(item.form, None) == {}
    assert all(forms.from_card(f, person) == f.prefill.startswith("identity.") for f in item.form)


def test_every_catalog_field_has_a_way_to_be_typed():
    for item in CATALOG:
        assert forms.applicable(item)
        for f in item.form:
            assert forms.keyboard(f) in ("keypad", "pinyin", "choices")


def test_id_numbers_are_shown_in_groups():
    assert forms.shown(field("id_number"), "110105198503151230") == "110105 19850315 1230"
