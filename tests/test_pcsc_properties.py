"""APDU and BER-TLV parsing of card bytes: malformed input gives a clear error, never a hang
or a wrong result. The "card" here is the simulator's own APDU handler called in-process
(VirtualCard.respond), no pcscd involved."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.base import DeviceError, ProtocolError
from drivers.idcard import tlv
from drivers.idcard.apdu import MAX_CHAIN, ApduError, exchange, parse_response
from drivers.idcard.card_profiles import load_profiles, run_profile
from drivers.sim.pcscd import PcscDaemon
from drivers.sim.vpcd_card import SOCIAL_SECURITY, VirtualCard

one_byte_tags = st.integers(0, 255).filter(lambda t: t & 0x1F != 0x1F)
two_byte_tags = st.builds(lambda a, b: ((a | 0x1F) << 8) | b, st.integers(0, 255), st.integers(0x1F, 0x7F))
tags = one_byte_tags | two_byte_tags
items = st.lists(st.builds(tlv.Tlv, tags, st.binary(max_size=300)), max_size=8)


@given(items)
def test_tlv_round_trip(objects):
    assert tlv.parse(tlv.encode(objects)) == objects


@given(st.binary(max_size=64))
def test_tlv_any_bytes_parse_exactly_or_fail_clearly(data):
    try:
        parsed = tlv.parse(data)
    except tlv.TlvError as exc:
        assert "offset" in str(exc) or "tag" in str(exc)
    else:
        assert tlv.encode(parsed) == data  # nothing skipped, nothing invented


@given(items.filter(bool), st.data())
def test_tlv_truncated_is_an_error_or_a_prefix(objects, data):
    encoded = tlv.encode(objects)
    cut = data.draw(st.integers(0, len(encoded) - 1))
    try:
        parsed = tlv.parse(encoded[:cut])
    except tlv.TlvError:
        return
    assert parsed == objects[:len(parsed)] and len(parsed) < len(objects)


@pytest.mark.parametrize("bad", ["80 01", "81 05 01", "01 80", "01 81 10" + "00" * 16, "01 82 00 10" + "00" * 16,
                                 "1F", "1F 80 01 00", "1F 81 81 01 00", "01 85 00 00 00 00 01 00"])
def test_tlv_strict_rejections(bad):
    with pytest.raises(tlv.TlvError):
        tlv.parse(bytes.fromhex(bad.replace(" ", "")))


@given(st.binary(max_size=40))
def test_response_split_or_error(raw):
    try:
        response = parse_response(raw)
    except ApduError:
        assert len(raw) < 2 or not (0x61 <= raw[-2] <= 0x6F or 0x90 <= raw[-2] <= 0x9F)
    else:
        assert response.data + bytes([response.sw1, response.sw2]) == raw


@given(st.lists(st.binary(max_size=12), min_size=1, max_size=20))
@settings(max_examples=300)
def test_exchange_with_arbitrary_answers_ends(answers):
    calls = []

    def card(command):
        calls.append(command)
        return answers[min(len(calls) - 1, len(answers) - 1)]

    try:
        response = exchange(card, bytes.fromhex("00B0000000"))
    except ApduError:
        pass
    else:
        assert response.sw1 not in (0x61, 0x6C)
    assert len(calls) <= MAX_CHAIN + 2


def test_endless_get_response_chain_is_cut():
    with pytest.raises(ApduError, match="GET RESPONSE"):
        exchange(lambda command: b"\x00\x61\x01", bytes.fromhex("00B0000000"))


def _card():
    return VirtualCard(PcscDaemon("/nonexistent-unused"), "social_security")


def test_profile_reads_the_simulated_card():
    assert run_profile(load_profiles()["social_security"], _card().respond) == SOCIAL_SECURITY


@given(st.data())
def test_truncated_card_data_is_an_error(data):
    card = _card()

    def truncating(command):
        answer = card.respond(command)
        if command[1] in (0xB0, 0xB2) and answer[-2:] == b"\x90\x00":
            body = answer[:-2]
            return body[:data.draw(st.integers(0, len(body) - 1))] + answer[-2:]
        return answer

    with pytest.raises(ProtocolError):
        run_profile(load_profiles()["social_security"], truncating)


@given(st.binary(min_size=0, max_size=12))
def test_garbage_badge_answers_never_give_a_wrong_uid(answer):
    profile = load_profiles()["badge"]
    try:
        fields = run_profile(profile, lambda command: answer)
    except DeviceError:
        return
    response = parse_response(answer)
    assert response.sw_hex == "9000" and fields["uid"] == response.data.hex().upper()
