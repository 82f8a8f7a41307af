"""The acceptance notice (受理通知书): what it says, delivered or queued, and how it fits the paper."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.printer.receipt import Text, render
from drivers.sim.escpos_decoder import EscposDecoder
from kiosk.cases import Submitted
from kiosk.printing import PAPER_COLUMNS, columns_of
from kiosk.receipts import notice_lines, notice_receipt, progress_url

PATTERN = "https://zwfw.example.gov.cn/progress?case={number}"
QUEUED = Submitted(
    ref="DL01-20261124-0007", case_no="", delivered=False, status="queued", item_code="2000501000",
    item_name="无房产证明", applicant_name="李秀英", masked_id="310115********204X",
    materials=(("居民身份证", 2), ("户口簿", 1)), promised_date=date(2026, 11, 27),
    submitted_at=datetime(2026, 11, 24, 9, 30), progress_ref="DL01-20261124-0007")
DELIVERED = replace(QUEUED, case_no="440811-2026-000123", delivered=True, status="submitted",
                    progress_ref="440811-2026-000123")


def printed(submitted, language="zh_CN", paper_mm=58):
    docs = []
    EscposDecoder(on_document=docs.append).feed(render(notice_receipt(
        submitted, language, station="湖光镇东岭村便民服务站", url_pattern=PATTERN,
        printed_at=datetime(2026, 11, 24, 9, 31), paper_mm=paper_mm)))
    assert len(docs) == 1
    return docs[0]


def test_a_delivered_case_prints_its_case_number_and_a_progress_qr():
    doc = printed(DELIVERED)
    text = "\n".join(doc.texts)
    assert doc.texts[0] == "受理通知书"
    assert "440811-2026-000123" in text and "DL01-20261124-0007" not in text
    assert "无房产证明" in text and "李秀英" in text and "310115********204X" in text
    assert "居民身份证：2页" in text.replace(" ", "") and "户口簿：1页" in text.replace(" ", "")
    assert "2026年11月27日" in text and "湖光镇东岭村便民服务站" in text and "2026-11-2409:31" in text.replace(" ", "")
    assert [qr.payload for qr in doc.qr_codes] == ["https://zwfw.example.gov.cn/progress?case=440811-2026-000123"]
    number = next(line for line in doc.lines if line.text == "440811-2026-000123")
    assert number.bold and number.height == 2
    assert doc.cut == "full"


def test_a_queued_case_prints_the_reference_and_says_it_waits_for_the_line():
    text = "".join(printed(QUEUED).texts).replace(" ", "")
    assert "受理编号DL01-20261124-0007" in text
    assert "网络恢复后自动报送" in text
    assert printed(QUEUED).qr_codes[0].payload.endswith("case=DL01-20261124-0007")


def test_on_the_spot_items_say_completed_instead_of_a_promised_date():
    lines = dict(notice_lines(replace(DELIVERED, status="completed"), "en"))
    assert lines["Result"] == "Completed on the spot" and "Promised by" not in lines


def test_an_agents_application_names_the_agent_and_a_citizens_does_not():
    text = "".join(printed(replace(DELIVERED, agent="04A22B5C")).texts).replace(" ", "")
    assert "代办：村代办员（工作证04A22B5C）" in text
    assert "代办员" not in "".join(printed(DELIVERED).texts)


def test_english_notice():
    text = "\n".join(printed(QUEUED, "en").texts)
    assert "Acceptance notice" in text and "Reference\nDL01-20261124-0007" in text and "27/11/2026" in text


def test_progress_url_without_a_pattern_is_the_number():
    assert progress_url(DELIVERED, "") == "440811-2026-000123"


@pytest.mark.parametrize("paper", sorted(PAPER_COLUMNS))
@given(name=st.text(st.characters(codec="gb18030", categories=("L", "N", "P")), min_size=1, max_size=40),
       pages=st.integers(1, 99))
def test_every_line_fits_the_paper(paper, name, pages):
    receipt = notice_receipt(replace(DELIVERED, item_name=name, materials=((name, pages),)), paper_mm=paper)
    for block in receipt.blocks:
        if isinstance(block, Text):
            assert columns_of(block.text) * block.width <= PAPER_COLUMNS[paper], block.text
