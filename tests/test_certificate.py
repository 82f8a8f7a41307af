"""The A4 certificate: its text (read back with pdftotext) and its QR code (decoded with OpenCV)."""
from __future__ import annotations

import subprocess
from datetime import datetime
from types import SimpleNamespace

import cv2

from kiosk.certificate import Sheet, render, sheet_for, verify_link

PATTERN = "https://www.gdzwfw.gov.cn/portal/v2/verify?case={case_no}&code={code}"


def text_of(pdf) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def qr_of(pdf, tmp_path) -> str:
    subprocess.run(["pdftoppm", "-r", "100", "-png", "-singlefile", str(pdf), str(tmp_path / "page")], check=True)
    payload, _, _ = cv2.QRCodeDetector().detectAndDecode(cv2.imread(str(tmp_path / "page.png")))
    return payload


def test_the_page_carries_case_number_code_and_qr(tmp_path):
    sheet = Sheet(item_name="无房产证明", case_no="4408032026112400017", verification_code="K7Q4-9XM2",
                  verify_url=verify_link(PATTERN, "4408032026112400017", "K7Q4-9XM2"),
                  handling_body="湖光镇人民政府", result="经核查，申请人在本镇无房产登记记录。",
                  completed_on=datetime(2026, 11, 27).date(), station="湖光镇东岭村便民服务站",
                  printed_at=datetime(2026, 11, 28, 10, 5))
    pdf = render(sheet, tmp_path / "out" / "certificate.pdf")
    text = text_of(pdf)
    for expected in ("无房产证明", "办件编号", "4408032026112400017", "验证码：K7Q4-9XM2", "湖光镇人民政府",
                     "经核查，申请人在本镇无房产登记记录。", "2026-11-27", "湖光镇东岭村便民服务站 2026-11-28 10:05"):
        assert expected in text, expected
    assert subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout.count("595.276 x 841.89") == 1
    assert qr_of(pdf, tmp_path) == "https://www.gdzwfw.gov.cn/portal/v2/verify?case=4408032026112400017&code=K7Q4-9XM2"


def test_the_sheet_comes_from_the_certificate_and_the_cases_history():
    # stand-ins with the fields of kiosk.cases.Certificate and CaseView (plain values)
    certificate = SimpleNamespace(pdf=b"%PDF", verification_code="ABCD1234", case_no="C-1", item_name="低保申请")
    case = SimpleNamespace(case_no="C-1", item_name="低保申请", history=(
        (datetime(2026, 11, 20, 9), "submitted", ""),
        (datetime(2026, 11, 26, 16), "completed", "准予办理"),
    ))
    sheet = sheet_for(certificate, case, handling_body="民政办", station="东岭村", verify_url=PATTERN)
    assert (sheet.result, sheet.completed_on.isoformat(), sheet.handling_body) == ("准予办理", "2026-11-26", "民政办")
    assert sheet.verify_url.endswith("case=C-1&code=ABCD1234")


def test_a_long_item_name_wraps_and_a_missing_result_reads_completed(tmp_path):
    sheet = Sheet(item_name="城乡居民基本医疗保险参保登记及个人缴费基数核定与变更、暂停、恢复缴费申请", case_no="X1",
                  verification_code="V1", verify_url="https://example.org/v?c=X1")
    text = text_of(render(sheet, tmp_path / "c.pdf"))
    assert sheet.item_name in "".join(text.split())
    assert "办理结果：" in text and "办结" in text and "X1" in text and "V1" in text
