"""The sandbox's certificate: a one-page A4 PDF (办理结果通知书) with its verification code."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from drivers.idcard.identity import masked_id

FONT_FILE = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
FONT = "SandboxCJK"


@dataclass(frozen=True)
class CertificateFacts:
    case_no: str
    item_name: str
    handling_body: str
    applicant: str
    id_number: str
    completed_on: date
    verification_code: str


def certificate_pdf(facts: CertificateFacts) -> bytes:
    """The PDF bytes; the text (Chinese) is extractable, so tests can read it back."""
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, FONT_FILE, subfontIndex=0))
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, invariant=True)
    pdf.setTitle(f"办理结果通知书 {facts.case_no}")
    width, height = A4
    pdf.setFont(FONT, 22)
    pdf.drawCentredString(width / 2, height - 40 * mm, "办理结果通知书")
    pdf.setFont(FONT, 12)
    lines = (
        f"办件编号：{facts.case_no}",
        f"事项名称：{facts.item_name}",
        f"申请人：{facts.applicant}（公民身份号码 {masked_id(facts.id_number)}）",
        "办理结果：准予办理，已办结。",
        f"办结日期：{facts.completed_on.year}年{facts.completed_on.month}月{facts.completed_on.day}日",
        f"办理机构：{facts.handling_body}",
        f"核验码：{facts.verification_code}",
    )
    for n, line in enumerate(lines):
        pdf.drawString(25 * mm, height - (62 + 11 * n) * mm, line)
    pdf.setFont(FONT, 9)
    pdf.drawString(25 * mm, 30 * mm, "本通知书由政务服务平台（沙箱）生成，可凭办件编号和核验码在线核验真伪。")
    pdf.showPage()
    pdf.save()
    return out.getvalue()
