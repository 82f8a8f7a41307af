"""The receipt job model and its ESC/POS bytes, checked against the command reference."""
from __future__ import annotations

import pytest

from drivers.printer.receipt import Align, Cut, Feed, QrCode, Receipt, Text, diagnostic_page, render
from drivers.sim.escpos_decoder import EscposDecoder

HEAD = b"\x1b@\x1c&"  # ESC @ (initialise), FS & (Chinese character mode)


def test_chinese_line_goes_out_in_gb18030_with_its_style():
    data = render(Receipt((Text("中文", width=2, height=1, bold=True, align=Align.CENTER),)))
    # GS ! 0x10 (double width), ESC E 1 (bold), ESC a 1 (centre), 中文 in GB18030, LF
    assert data == HEAD + b"\x1d!\x10" + b"\x1bE\x01" + b"\x1ba\x01" + b"\xd6\xd0\xce\xc4\n"


def test_characters_outside_gbk_go_out_as_four_byte_gb18030():
    data = render(Receipt((Text("𠀀"),)))  # U+20000, CJK extension B
    assert data == HEAD + b"\x1d!\x00\x1bE\x00\x1ba\x00" + b"\x95\x32\x82\x36\n"


def test_qr_code_is_native_gs_paren_k_with_size_and_error_correction():
    data = render(Receipt((QrCode("AB", module_size=5, error_correction="Q", align=Align.RIGHT),)))
    assert data == HEAD + b"\x1ba\x02" + (
        b"\x1d(k\x04\x001A2\x00"    # fn 65: model 2
        b"\x1d(k\x03\x001C\x05"     # fn 67: module size 5
        b"\x1d(k\x03\x001E2"        # fn 69: error correction Q (50)
        b"\x1d(k\x05\x001P0AB"      # fn 80: store "AB" (pL = 2 + 3)
        b"\x1d(k\x03\x001Q0"        # fn 81: print the stored symbol
    )


def test_feed_and_cuts():
    data = render(Receipt((Feed(3), Cut(), Cut(partial=True))))
    assert data == HEAD + b"\x1bd\x03" + b"\x1bd\x06\x1dV\x00" + b"\x1bd\x06\x1dV\x01"


@pytest.mark.parametrize("make", [
    lambda: Text("x", width=9),
    lambda: Text("x", height=0),
    lambda: Text("line\nbreak"),
    lambda: Text("esc\x1b@"),
    lambda: Text("\ud800"),
    lambda: QrCode(""),
    lambda: QrCode("x" * 2954),
    lambda: QrCode("x", module_size=17),
    lambda: QrCode("x", error_correction="X"),
    lambda: Feed(256),
])
def test_invalid_blocks_are_refused(make):
    with pytest.raises(ValueError):
        make()


def test_a_receipt_holds_only_blocks():
    with pytest.raises(TypeError):
        Receipt(("just a string",))


def test_diagnostic_page_decodes_to_its_own_text():
    page = diagnostic_page()
    docs = []
    EscposDecoder(on_document=docs.append).feed(render(page))
    assert len(docs) == 1 and docs[0].cut == "full"
    assert docs[0].texts == page.texts
    assert [q.payload for q in docs[0].qr_codes] == list(page.qr_payloads)
    assert {(line.width, line.height) for line in docs[0].lines} >= {(2, 2), (1, 2), (2, 1), (1, 1)}
    assert {line.align for line in docs[0].lines} == {"left", "center", "right"}
