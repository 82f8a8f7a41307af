"""Hypothesis: SAM frames and text blocks from outside never hang or give a wrong Identity."""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.base import DeviceError, DeviceTimeout
from drivers.idcard import samv_protocol as sp
from drivers.idcard.identity import (
    NATIONS, Identity, InvalidCardData, check_digit, decode_text, encode_text,
)
from drivers.sim.samv_reader import DEMO_IDENTITIES

settings.register_profile("samv", deadline=None, max_examples=300)
settings.load_profile("samv")


def reader_of(chunks: list[bytes]) -> sp.FrameReader:
    pending = list(chunks)
    return sp.FrameReader(lambda timeout: pending.pop(0) if pending else b"")


@given(st.binary(max_size=600))
def test_random_bytes_give_a_real_frame_or_a_clear_error(data):
    buf = bytearray(data)
    for _ in range(len(data) + 1):  # each call consumes bytes or stops: bounded
        try:
            payload = sp.take_frame(buf)
        except sp.FrameError:
            continue
        if payload is None:
            break
        assert sp.frame(payload) in data  # only a well-formed frame that is really there


garbage = st.binary(max_size=64).filter(lambda b: b"\xAA" not in b)


@given(garbage, st.binary(min_size=3, max_size=300), st.lists(st.integers(1, 50), max_size=40))
def test_frames_after_garbage_and_in_pieces_are_found(junk, payload, cuts):
    wire = junk + sp.frame(payload)
    chunks, i = [], 0
    for n in cuts:
        chunks.append(wire[i:i + n])
        i += n
    chunks.append(wire[i:])
    assert reader_of(chunks).read_frame(timeout=1.0) == payload


@given(st.binary(min_size=4, max_size=300), st.data())
def test_truncated_frames_end_in_an_error_not_a_hang(payload, data):
    wire = sp.frame(payload)
    cut = data.draw(st.integers(0, len(wire) - 1))
    with pytest.raises((sp.FrameError, DeviceTimeout)):
        reader_of([wire[:cut]]).read_frame(timeout=0.01)


@given(st.integers(0, 1294), st.integers(1, 255))
def test_a_damaged_read_answer_is_refused_or_read_right(position, flip):
    wire = bytearray(sp.response(sp.OK, b"\x01\x00\x04\x00" + encode_text(DEMO_IDENTITIES[0])
                                 + DEMO_IDENTITIES[0].photo))
    assert len(wire) == 1295
    wire[position] ^= flip
    try:
        answer = sp.parse_response(reader_of([bytes(wire)]).read_frame(timeout=0.01))
        identity = sp.decode_read(answer.data)
    except DeviceError:
        return
    assert identity == DEMO_IDENTITIES[0]


@given(st.sampled_from(DEMO_IDENTITIES), st.lists(st.tuples(st.integers(0, 255), st.integers(0, 255)),
                                                  min_size=1, max_size=4))
def test_mutated_text_blocks_are_refused_or_decoded_exactly(identity, mutations):
    block = bytearray(encode_text(identity))
    for position, value in mutations:
        block[position] = value
    try:
        decoded = decode_text(bytes(block))
    except InvalidCardData:
        return
    # what was decoded is exactly what the bytes say: encoding it gives the same fields back
    end = 248 if decoded.card_type == "foreign_permanent" else 220
    assert encode_text(decoded)[:end] == bytes(block)[:end]


@given(st.sampled_from(DEMO_IDENTITIES), st.integers(122, 157), st.integers(1, 255))
def test_any_damage_to_the_id_number_is_caught(identity, position, flip):
    block = bytearray(encode_text(identity))
    block[position] ^= flip
    with pytest.raises(InvalidCardData):
        decode_text(bytes(block))


cjk = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)


@st.composite
def identities(draw):
    birth = draw(st.dates(date(1900, 1, 1), date(2030, 12, 31)))
    gender = draw(st.sampled_from(["男", "女"]))
    hmt = draw(st.booleans())
    seq = draw(st.integers(0, 99))
    first17 = f"{'810000' if hmt else '110105'}{birth:%Y%m%d}{seq:02d}{1 if gender == '男' else 2}"
    start = draw(st.dates(date(1990, 1, 1), date(2030, 12, 31)))
    return Identity(
        name=draw(st.text(cjk, min_size=1, max_size=15)), gender=gender,
        nation="" if hmt else draw(st.sampled_from(sorted(NATIONS.values()))), birth_date=birth,
        address=draw(st.text(cjk, min_size=1, max_size=35)), id_number=first17 + check_digit(first17),
        authority=draw(st.text(cjk, min_size=1, max_size=15)), valid_from=start,
        valid_to=draw(st.none() | st.dates(start, date(2060, 12, 31))),
        card_type="hmt_residence" if hmt else "resident",
    )


@given(identities())
def test_encode_decode_round_trip(identity):
    assert decode_text(encode_text(identity)) == identity
