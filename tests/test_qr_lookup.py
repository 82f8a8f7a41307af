"""My cases by the receipt's QR code: the case number read from a picture of the receipt.

The QR codes are made with ``qrcode`` from ``kiosk.receipts.progress_url`` (what the printed
acceptance notice carries, error correction M as ``kiosk.printing.qr_footer`` asks the
printer for: ``render_qr_paper``), laid on the desk of the camera simulator and captured by the real
``DocumentCamera``; the address parser gets hostile strings from hypothesis.
"""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.scanner.camera import CameraOptions, DocumentCamera
from drivers.sim.camera_source import CameraSourceSim, render_qr_paper
from kiosk.qr_lookup import NO_CODE, NOT_OURS, NUMBER, QrLookupError, number_in_image, number_in_text
from kiosk.receipts import progress_url
from test_receipts import DELIVERED, PATTERN, QUEUED


@pytest.fixture
def camera(tmp_path):
    sim = CameraSourceSim(tmp_path / "camera")
    sim.start()
    yield sim, DocumentCamera("camera", CameraOptions(source=str(sim.path)))
    sim.stop()


def photographed(camera, tmp_path, paper) -> str:
    sim, device = camera
    sim.show(paper)
    return device.photo(tmp_path / "photo.png").result().path


@pytest.mark.parametrize("submitted", [DELIVERED, QUEUED], ids=["case number", "queued reference"])
def test_the_receipt_under_the_camera_gives_its_number(camera, tmp_path, submitted):
    photo = photographed(camera, tmp_path, render_qr_paper(progress_url(submitted, PATTERN)))
    assert number_in_image(photo, PATTERN) == submitted.progress_ref


def test_a_bare_number_is_read_when_no_address_is_configured(tmp_path):
    import cv2
    cv2.imwrite(str(tmp_path / "flatbed.png"), render_qr_paper(progress_url(DELIVERED, "")))
    assert number_in_image(tmp_path / "flatbed.png", "") == DELIVERED.case_no


def test_a_page_without_a_qr_code_says_so(camera, tmp_path):
    photo = photographed(camera, tmp_path, None)  # the simulator's form: text lines, no code
    with pytest.raises(QrLookupError) as caught:
        number_in_image(photo, PATTERN)
    assert caught.value.msgid == NO_CODE


def test_an_unreadable_picture_says_no_code(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(QrLookupError) as caught:
        number_in_image(tmp_path / "broken.png", PATTERN)
    assert caught.value.msgid == NO_CODE


@pytest.mark.parametrize("text", ["https://www.example.com/pay?order=123456",
                                  "https://zwfw.example.gov.cn/verify?case=440811-2026-000123&code=X1",
                                  "WIFI:S:village;T:WPA;P:secret;;"])
def test_someone_elses_qr_code_is_not_ours(camera, tmp_path, text):
    photo = photographed(camera, tmp_path, render_qr_paper(text))
    with pytest.raises(QrLookupError) as caught:
        number_in_image(photo, PATTERN)
    assert caught.value.msgid == NOT_OURS


numbers = st.from_regex(NUMBER, fullmatch=True)


@given(numbers)
def test_an_address_made_with_the_pattern_gives_its_number_back(number):
    assert number_in_text(PATTERN.replace("{number}", number), PATTERN) == number
    assert number_in_text(f"  {number}\n", PATTERN) == number  # the bare number too


@given(st.text(), st.sampled_from([PATTERN, "", "{number}", "https://x.cn/c/{number}/view", "no placeholder"]))
def test_any_text_gives_a_plain_number_or_none(text, pattern):
    number = number_in_text(text, pattern)
    assert number is None or (NUMBER.fullmatch(number) and number in text)


@given(numbers, st.text(min_size=1).filter(lambda s: not NUMBER.fullmatch(s)))
def test_hostile_text_around_the_number_is_refused(number, junk):
    address = PATTERN.replace("{number}", number)
    for text in (address + junk.strip() + "/", PATTERN.replace("{number}", number + "&x=" + junk),
                 "https://evil.example/" + address, PATTERN.replace("{number}", junk)):
        assert number_in_text(text, PATTERN) is None
