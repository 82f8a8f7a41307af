"""Hypothesis: status bytes, the simulator's decoder on arbitrary bytes, and render/decode round trips."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.base import Status
from drivers.printer.escpos_status import (ErrorCause, OfflineCause, PaperSensor, PrinterStatus, Report,
                                           StatusByteError)
from drivers.printer.receipt import Align, Cut, Feed, QrCode, Receipt, Text, render
from drivers.sim.escpos_decoder import EscposDecoder

pytestmark = pytest.mark.timeout(120)
PARSERS = (PrinterStatus, OfflineCause, ErrorCause, PaperSensor)


def fixed_bits_ok(value: int) -> bool:
    return value & 0b1001_0011 == 0b0001_0010


@given(st.integers(0, 255), st.sampled_from(PARSERS))
def test_any_status_byte_parses_to_its_bits_or_is_garbage(value, parser):
    if not fixed_bits_ok(value):
        with pytest.raises(StatusByteError):
            parser.parse(value)
        return
    parsed = parser.parse(value)
    if parser is PaperSensor:
        assert parsed == PaperSensor(near_end=bool(value & 0x0C), out=bool(value & 0x60))
    else:
        assert tuple(vars(parsed).values()) == tuple(bool(value >> b & 1) for b in (2, 3, 5, 6))


@given(st.binary(min_size=4, max_size=4))
def test_four_answers_map_onto_the_device_model(answers):
    if not all(fixed_bits_ok(b) for b in answers):
        with pytest.raises(StatusByteError):
            Report.parse(answers)
        return
    report = Report.parse(answers)
    out = bool(answers[3] & 0x60 or answers[1] & 0x20)
    assert report.paper == ("out" if out else "near_end" if answers[3] & 0x0C else "ok")
    assert report.cover == ("open" if answers[1] & 0x04 else "closed")
    broken = answers[2] & 0b0010_1100
    assert (report.status is Status.HARDWARE_ERROR) == bool(broken)
    assert report.status in (Status.ONLINE, Status.BUSY, Status.HARDWARE_ERROR)


@given(st.binary(max_size=8).filter(lambda b: len(b) != 4))
def test_a_wrong_number_of_answers_is_a_clear_error(answers):
    with pytest.raises(ValueError):
        Report.parse(answers)


def decode(data: bytes, chunks: list[int] | None = None) -> tuple[list, list[int], EscposDecoder]:
    docs, statuses = [], []
    decoder = EscposDecoder(on_status=statuses.append, on_document=docs.append)
    if chunks is None:
        decoder.feed(data)
    else:
        pos = 0
        for size in chunks:
            decoder.feed(data[pos:pos + size])
            pos += size
        decoder.feed(data[pos:])
    return docs, statuses, decoder


escpos_noise = st.lists(st.one_of(
    st.binary(max_size=12),
    st.sampled_from([b"\x1b", b"\x1d", b"\x1c", b"\x10\x04", b"\x1d(k", b"\x1dV", b"\x1c&", b"\x1b@",
                     b"\n", b"\x1d(k\x03\x001Q0", b"\x1d(k\xff\xff", b"\x1dv0\x00\xff\xff\xff\xff",
                     "中文".encode("gb18030")]),
), max_size=40).map(b"".join)


@settings(max_examples=300)
@given(escpos_noise, st.lists(st.integers(1, 16), max_size=20))
def test_decoder_survives_any_bytes_and_splitting_does_not_matter(data, chunks):
    whole = decode(data)
    split = decode(data, chunks)
    assert whole[0] == split[0] and whole[1] == split[1]
    assert all(1 <= n <= 4 for n in whole[1])
    assert len(whole[2]._buf) <= 65536 + 5


texts = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=30)
blocks = st.one_of(
    st.builds(Text, texts, st.integers(1, 8), st.integers(1, 8), st.booleans(), st.sampled_from(Align)),
    st.builds(QrCode, st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=60),
              st.integers(1, 16), st.sampled_from("LMQH"), st.sampled_from(Align)),
    st.builds(Feed, st.integers(0, 255)),
    st.builds(Cut, st.booleans()),
)


@settings(max_examples=200)
@given(st.lists(blocks, max_size=15), st.lists(st.integers(1, 64), max_size=10))
def test_any_receipt_decodes_back_to_its_text_and_qr_codes(body, chunks):
    receipt = Receipt(tuple(body) + (Cut(),))
    docs, statuses, decoder = decode(render(receipt), chunks)
    assert len(docs) == sum(isinstance(b, Cut) for b in receipt.blocks) and statuses == []
    lines = [line for doc in docs for line in doc.lines]
    expected = [b for b in receipt.blocks if isinstance(b, Text)]
    assert [(l.text, l.width, l.height, l.bold, l.align) for l in lines] == [
        (t.text, t.width, t.height, t.bold, t.align.value) for t in expected]
    qrs = [q for doc in docs for q in doc.qr_codes]
    assert [(q.payload, q.module_size, q.error_correction) for q in qrs] == [
        (q.payload, q.module_size, q.error_correction) for q in receipt.blocks if isinstance(q, QrCode)]
    assert [d.cut for d in docs] == [("partial" if c.partial else "full")
                                     for c in receipt.blocks if isinstance(c, Cut)]
    assert list(decoder.unknown) == []
