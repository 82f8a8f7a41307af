"""My cases by the receipt's QR code: the case number in a captured picture of the receipt.

The acceptance notice's QR code carries the progress address made from ``[terminal]
progress_url`` with ``{number}`` (``kiosk.receipts.progress_url``), or the number alone
when no address is configured. ``number_in_image`` finds and decodes the code in a
picture from the document camera or the flatbed; ``number_in_text`` takes the number out
of what the code says. OpenCV is imported only when a picture is read.
"""
from __future__ import annotations

import re
from pathlib import Path

from l10n import N_

# a case number or the terminal's reference (``<terminal>-<yyyymmdd>-<nnnn>``): letters, digits, hyphens,
# with at least one digit
NUMBER = re.compile(r"(?=[A-Za-z-]*[0-9])[A-Za-z0-9][A-Za-z0-9-]{0,63}")


class QrLookupError(Exception):
    """No number could be read from the picture; ``msgid`` says why, in the person's words."""

    def __init__(self, msgid: str) -> None:
        super().__init__(msgid)
        self.msgid = msgid


NO_CODE = N_("No QR code was found. Hold the receipt flat under the camera, with the QR code facing up.")
NOT_OURS = N_("This QR code is not from an acceptance notice of this service. Please type the case number "
              "printed on the receipt.")


def number_in_text(text: str, pattern: str) -> str | None:
    """The case number in ``text`` (a QR code's content): the ``{number}`` part of an address made
    with ``pattern``, or a bare number; None when ``text`` is neither."""
    text = text.strip()
    if pattern and "{number}" in pattern:
        prefix, _, suffix = pattern.partition("{number}")
        if (len(text) > len(prefix) + len(suffix) and text.startswith(prefix) and text.endswith(suffix)):
            text = text[len(prefix):len(text) - len(suffix)]
    return text if NUMBER.fullmatch(text) else None


def decode_qr(image: Path | str) -> list[str]:
    """What the QR codes in the picture ``image`` say (empty codes left out); [] if there is none."""
    import cv2
    frame = cv2.imread(str(image), cv2.IMREAD_GRAYSCALE)
    if frame is None:
        raise QrLookupError(NO_CODE)
    for detector in (cv2.QRCodeDetector(), cv2.QRCodeDetectorAruco()):  # the second finds skewed codes
        ok, texts, _points, _ = detector.detectAndDecodeMulti(frame)
        if ok and any(texts):
            return [t for t in texts if t]
    return []


def number_in_image(image: Path | str, pattern: str) -> str:
    """The case number carried by the receipt's QR code in ``image``; ``QrLookupError`` when there
    is no readable code or none made by this service."""
    texts = decode_qr(image)
    if not texts:
        raise QrLookupError(NO_CODE)
    for text in texts:
        number = number_in_text(text, pattern)
        if number is not None:
            return number
    raise QrLookupError(NOT_OURS)
