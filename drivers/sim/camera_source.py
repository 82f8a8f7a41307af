"""A stand-in for a UVC document camera: a rendered desk scene written to a file.

There is no camera (and no v4l2loopback) on a build machine, so ``CameraSourceSim``
renders what a camera above the counter would see: a desk with a skewed, rotated A4
page with lines of text on it. It writes the scene as a still image (``.png``) or a
short MJPEG video (``.avi``) that ``DocumentCamera`` opens through OpenCV exactly as
it opens ``/dev/video0``. ``corners`` holds the true page corners in frame pixels
(top-left, top-right, bottom-right, bottom-left of the page), ``page`` the flat page.

Faults, switchable at run time with ``set_fault``:

- ``"no_page"``: the desk is empty.
- ``"unplugged"``: the source file is gone (as ``/dev/video0`` is when unplugged).
- ``"garbage"``: the source exists but holds no decodable frame.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from drivers.sim.base import Simulator

FAULTS = ("no_page", "unplugged", "garbage")
FRAME = (1280, 960)  # width, height
PAGE = (840, 1188)  # A4 at 1/0.25 mm
DEFAULT_CORNERS = ((402.0, 118.0), (952.0, 236.0), (842.0, 880.0), (268.0, 762.0))


def render_page(lines: int = 14) -> np.ndarray:
    """The flat page: a heading bar and ``lines`` lines of text, black on white."""
    page = np.full((PAGE[1], PAGE[0], 3), 250, np.uint8)
    cv2.rectangle(page, (70, 70), (PAGE[0] - 70, 150), (20, 20, 20), -1)
    for i in range(lines):
        y = 230 + i * 64
        cv2.putText(page, f"Line {i + 1:02d}: application form field value", (80, y),
                    cv2.FONT_HERSHEY_SIMPLEX, 1.0, (30, 30, 30), 2, cv2.LINE_AA)
    return page


def render_qr_paper(text: str) -> np.ndarray:
    """A strip of receipt paper with the QR code of ``text`` in its lower half, as the receipt
    printer prints it (error correction M), to lay under the camera with ``show``."""
    import qrcode
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=6, border=4)
    code.add_data(text)
    qr = np.array(code.make_image().convert("RGB"))[:, :, ::-1]
    paper = np.full((qr.shape[0] * 3 // 2, qr.shape[1] + 40, 3), 245, np.uint8)
    paper[qr.shape[0] // 2:, 20:20 + qr.shape[1]] = qr
    return paper


def render_scene(corners: tuple[tuple[float, float], ...] | None, seed: int = 7,
                 page: np.ndarray | None = None) -> np.ndarray:
    """The desk with ``page`` (default: ``render_page()``) warped onto ``corners`` (None: an empty desk)."""
    rng = np.random.default_rng(seed)
    w, h = FRAME
    ramp = np.linspace(70, 110, w, dtype=np.float32)[None, :, None]
    desk = np.broadcast_to(ramp * np.array([0.55, 0.75, 1.0], np.float32), (h, w, 3)).copy()
    desk += rng.normal(0, 6, desk.shape).astype(np.float32)
    scene = np.clip(desk, 0, 255).astype(np.uint8)
    cv2.circle(scene, (1120, 800), 70, (40, 40, 60), -1)  # a cup on the desk
    if corners is not None:
        page = render_page() if page is None else page
        h_page, w_page = page.shape[:2]
        src = np.float32([[0, 0], [w_page - 1, 0], [w_page - 1, h_page - 1], [0, h_page - 1]])
        m = cv2.getPerspectiveTransform(src, np.float32(corners))
        warped = cv2.warpPerspective(page, m, FRAME, flags=cv2.INTER_LINEAR)
        mask = cv2.warpPerspective(np.full(page.shape[:2], 255, np.uint8), m, FRAME)
        scene[mask > 127] = warped[mask > 127]
    scene = cv2.GaussianBlur(scene, (3, 3), 0)
    return np.clip(scene + rng.normal(0, 3, scene.shape), 0, 255).astype(np.uint8)


class CameraSourceSim(Simulator):
    """Writes the scene to ``run_dir/camera.png`` (or ``.avi`` with ``video=True``)."""

    def __init__(self, run_dir: Path | str, *, video: bool = False,
                 corners: tuple[tuple[float, float], ...] = DEFAULT_CORNERS, resolution: int = 100):
        self.path = Path(run_dir) / ("camera.avi" if video else "camera.png")
        self.corners = corners
        self.resolution = resolution
        self.page = render_page()
        self.shown: np.ndarray | None = None  # a paper laid under the camera instead of the form
        self.fault: str | None = None

    def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._write()

    def stop(self) -> None:
        self.path.unlink(missing_ok=True)

    def set_fault(self, fault: str | None) -> None:
        """Switch to ``fault`` (one of ``FAULTS``) or back to normal with ``None``."""
        if fault is not None and fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; known: {', '.join(FAULTS)}")
        self.fault = fault
        self._write()

    def show(self, paper: np.ndarray | None) -> None:
        """Lay ``paper`` (a BGR image, e.g. a receipt) on the desk instead of the form; None: the form again."""
        self.shown = paper
        self._write()

    def _write(self) -> None:
        self.path.unlink(missing_ok=True)
        if self.fault == "unplugged":
            return
        if self.fault == "garbage":
            self.path.write_bytes(b"\x00not an image\xff" * 64)
            return
        scene = render_scene(None if self.fault == "no_page" else self.corners, page=self.shown)
        if self.path.suffix == ".png":
            cv2.imwrite(str(self.path), scene)
            return
        writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*"MJPG"), 10, FRAME)
        try:
            for _ in range(10):
                writer.write(scene)
        finally:
            writer.release()

    def config_section(self) -> dict:
        """The ``[devices.NAME]`` keys that point the ``camera`` driver at this source."""
        return {"driver": "camera", "source": str(self.path), "resolution": self.resolution}
