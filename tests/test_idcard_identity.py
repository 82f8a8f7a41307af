"""The Identity value, the 256-byte text block (spec layout) and the GB 11643 check digit."""
from __future__ import annotations

from datetime import date

import pytest

from drivers.base import DeviceError
from drivers.idcard.identity import (
    NATIONS, Identity, InvalidCardData, check_digit, decode_text, encode_text, is_valid_id_number,
    masked_id,
)
from drivers.sim.samv_reader import DEMO_IDENTITIES


def block(**fields: str) -> bytes:
    """A text block written straight from the spec's offset table (not with encode_text)."""
    layout = {"name": (0, 30), "gender": (30, 2), "nation": (32, 4), "birth": (36, 16),
              "address": (52, 70), "number": (122, 36), "authority": (158, 30),
              "from": (188, 16), "to": (204, 16), "type": (248, 2)}
    values = {"name": "王小红", "gender": "2", "nation": "01", "birth": "19491231",
              "address": "北京市朝阳区光华路1号", "number": "11010519491231002X",
              "authority": "北京市公安局朝阳分局", "from": "20100101", "to": "20300101", "type": ""}
    values.update(fields)
    raw = bytearray(b" \x00" * 128)
    for key, (start, size) in layout.items():
        data = values[key].encode("utf-16-le")
        assert len(data) <= size
        raw[start:start + len(data)] = data
    return bytes(raw)


def test_check_digit_follows_gb11643():
    assert check_digit("11010519491231002") == "X"
    assert is_valid_id_number("11010519491231002X")
    assert not is_valid_id_number("110105194912310021")
    assert not is_valid_id_number("11010519491231002")
    with pytest.raises(ValueError):
        check_digit("1101051949123100A")


def test_decodes_a_block_laid_out_as_the_spec_says():
    identity = decode_text(block(), photo=b"WLT")
    assert identity == Identity(
        name="王小红", gender="女", nation="汉族", birth_date=date(1949, 12, 31),
        address="北京市朝阳区光华路1号", id_number="11010519491231002X",
        authority="北京市公安局朝阳分局", valid_from=date(2010, 1, 1), valid_to=date(2030, 1, 1),
        card_type="resident", photo=b"WLT")


def test_long_term_validity_and_the_json_shape():
    identity = decode_text(block(to="长期"))
    assert identity.valid_to is None
    assert identity.as_dict() == {
        "id_number": "11010519491231002X", "name": "王小红", "gender": "女", "nation": "汉族",
        "birth_date": "1949-12-31", "address": "北京市朝阳区光华路1号",
        "authority": "北京市公安局朝阳分局", "valid_from": "2010-01-01", "valid_to": "长期",
        "card_type": "resident",
    }


def test_nation_codes_cover_gb3304():
    assert len(NATIONS) == 58
    assert NATIONS["01"] == "汉族" and NATIONS["05"] == "维吾尔族" and NATIONS["56"] == "基诺族"
    assert decode_text(block(nation="97")).nation == "其他"
    assert decode_text(block(nation="98")).nation == "外国血统中国籍人士"


def test_residence_permit_has_no_nation():
    number = "81000019900120153" + check_digit("81000019900120153")
    identity = decode_text(block(nation="", gender="1", birth="19900120", number=number, type="J"))
    assert identity.card_type == "hmt_residence" and identity.nation == ""


def test_foreign_permanent_residence_card():
    raw = bytearray(b" \x00" * 128)
    for start, text in ((0, "SMITH JOHN"), (120, "1"), (122, "CAN110085010101"), (152, "CAN"),
                        (158, "史约翰"), (188, "20180301"), (204, "20280301"), (220, "19850101"),
                        (236, "02"), (240, "1100"), (248, "I")):
        data = text.encode("utf-16-le")
        raw[start:start + len(data)] = data
    identity = decode_text(bytes(raw))
    assert (identity.card_type, identity.name, identity.name_en, identity.nation, identity.id_number) == (
        "foreign_permanent", "史约翰", "SMITH JOHN", "CAN", "CAN110085010101")
    assert identity.birth_date == date(1985, 1, 1) and identity.authority == "1100"
    encoded = encode_text(identity)  # the card version (236) is not kept
    assert encoded[:236] == raw[:236] and encoded[240:250] == raw[240:250]


@pytest.mark.parametrize("fields, problem", [
    ({"number": "110105194912310021"}, "id_number"),  # wrong check digit
    ({"number": "11010519500101001X"}, "id_number"),  # valid number, other birth date
    ({"gender": "1"}, "id_number"),  # the number says female
    ({"birth": "19491232", "number": "11010519491232002X"}, "birth_date"),
    ({"from": "2010010"}, "valid_from"),
    ({"to": "永久"}, "valid_to"),
    ({"nation": "57"}, "nation"),
    ({"nation": ""}, "nation"),  # only a residence permit may leave it blank
    ({"name": ""}, "name"),
    ({"name": "王\n明"}, "name"),
])
def test_invalid_blocks_are_refused(fields, problem):
    with pytest.raises(InvalidCardData) as info:
        decode_text(block(**fields))
    assert info.value.code == "idcard.bad_data" and info.value.params == {"field": problem}
    assert isinstance(info.value, DeviceError)


def test_bad_utf16_is_refused():
    raw = bytearray(block())
    raw[0:2] = b"\x00\xd8"  # a lone high surrogate
    with pytest.raises(InvalidCardData):
        decode_text(bytes(raw))
    with pytest.raises(InvalidCardData):
        decode_text(block()[:255])


@pytest.mark.parametrize("identity", DEMO_IDENTITIES, ids=lambda i: i.name)
def test_demo_identities_round_trip(identity):
    assert is_valid_id_number(identity.id_number)
    assert decode_text(encode_text(identity), identity.photo) == identity


def test_encoder_refuses_what_does_not_fit():
    with pytest.raises(ValueError):
        encode_text(Identity("名" * 16, "男", "汉族", date(1949, 12, 31), "址", "11010519491231002X",
                             "局", date(2010, 1, 1), None))


def test_masked_id():
    assert masked_id("11010519491231002X") == "110105********002X"
    assert masked_id("CAN110085010101") == "CAN110*****0101"
