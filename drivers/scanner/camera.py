"""A document camera (UVC) through OpenCV: capture a frame, find the page, square it up.

``source`` is a device (``/dev/video0`` or an index such as ``"0"``), a video file or
a still image (the simulator's stand-in for a camera). The page is the largest
four-cornered bright region of the frame; it is warped to an upright A4 image at
``resolution`` dpi.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from drivers.base import (Device, DeviceError, DeviceUnavailable, MediaError, Options, Recovery,
                          Status)
from drivers.scanner.result import ScanResult, image_format
from l10n import N_

if TYPE_CHECKING:  # cv2 and numpy (~100 ms at start) are imported where they are used
    import numpy as np

log = logging.getLogger(__name__)

A4_MM = (210.0, 297.0)
MIN_CONTRAST = 60  # grey levels between page and desk
_STILLS = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}
# how picture and video files begin: the probe looks, it does not decode (OpenCV stays out)
_SIGNATURES = ((0, b"\x89PNG\r\n\x1a\n"), (0, b"\xff\xd8\xff"), (0, b"BM"), (0, b"II*\x00"),
               (0, b"MM\x00*"), (8, b"AVI "), (4, b"ftyp"), (0, b"\x1aE\xdf\xa3"))


@dataclass(frozen=True)
class CameraOptions(Options):
    """``[devices.NAME] driver = "camera"``.

    source: "/dev/video0", a camera index ("0"), or a video or image file.
    resolution: dpi of the squared-up A4 page. timeout_s: opening the camera and
    reading a frame. warmup_frames: frames dropped while exposure settles.
    min_page_fraction: the smallest page, as a fraction of the frame's area.
    """

    source: str
    resolution: int = 150
    timeout_s: float = 10.0
    warmup_frames: int = 3
    min_page_fraction: float = 0.1

    def __post_init__(self) -> None:
        if not self.source:
            raise ValueError("source: must not be empty")
        if not 25 <= self.resolution <= 600:
            raise ValueError("resolution: must be between 25 and 600 dpi")
        if not 0 < self.timeout_s <= 600:
            raise ValueError("timeout_s: must be between 0 and 600 seconds")
        if not 0 <= self.warmup_frames <= 100:
            raise ValueError("warmup_frames: must be between 0 and 100")
        if not 0 < self.min_page_fraction < 1:
            raise ValueError("min_page_fraction: must be between 0 and 1")


def order_corners(points: np.ndarray) -> np.ndarray:
    """Four points → top-left, top-right, bottom-right, bottom-left of an upright page."""
    import numpy as np
    pts = np.asarray(points, np.float32).reshape(4, 2)
    centre = pts.mean(axis=0)
    angles = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    pts = pts[np.argsort(angles)]  # clockwise on screen (y points down)
    pts = np.roll(pts, -int(np.argmin(pts.sum(axis=1))), axis=0)
    width = np.linalg.norm(pts[1] - pts[0]) + np.linalg.norm(pts[2] - pts[3])
    height = np.linalg.norm(pts[3] - pts[0]) + np.linalg.norm(pts[2] - pts[1])
    if width > height:  # the page lies sideways: its left edge becomes its top
        pts = np.roll(pts, 1, axis=0)
    return pts


def find_page(frame: np.ndarray, min_fraction: float = 0.1) -> np.ndarray | None:
    """The page's corners (see ``order_corners``) in ``frame``, or None if there is none.

    The page must lie wholly inside the frame and be clearly brighter than the desk.
    """
    import cv2
    import numpy as np
    if frame is None or frame.ndim not in (2, 3) or min(frame.shape[:2]) < 16:
        return None
    gray = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    gray = cv2.GaussianBlur(gray, (5, 5), 0)
    _, mask = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    inside, outside = gray[mask > 0], gray[mask == 0]
    if not inside.size or not outside.size or float(inside.mean()) - float(outside.mean()) < MIN_CONTRAST:
        return None  # no bright sheet on a darker desk, only shading
    min_area = min_fraction * gray.shape[0] * gray.shape[1]
    height, width = gray.shape
    for contour in sorted(contours, key=cv2.contourArea, reverse=True)[:5]:
        if cv2.contourArea(contour) < min_area:
            break
        hull = cv2.convexHull(contour)
        approx = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True)
        xs, ys = approx[:, 0, 0], approx[:, 0, 1]
        cut_off = xs.min() < 2 or ys.min() < 2 or xs.max() > width - 3 or ys.max() > height - 3
        if len(approx) == 4 and cv2.isContourConvex(approx) and not cut_off:
            corners = approx.reshape(4, 1, 2).astype(np.float32)
            criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 30, 0.01)
            cv2.cornerSubPix(gray, corners, (7, 7), (-1, -1), criteria)
            return order_corners(corners)
    return None


def square_up(frame: np.ndarray, corners: np.ndarray, resolution: int) -> np.ndarray:
    """The page inside ``corners`` warped to an upright A4 image at ``resolution`` dpi."""
    import cv2
    import numpy as np
    w, h = (round(mm / 25.4 * resolution) for mm in A4_MM)
    dst = np.float32([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]])
    m = cv2.getPerspectiveTransform(np.float32(corners), dst)
    return cv2.warpPerspective(frame, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


class DocumentCamera(Device):
    kind = "camera"
    Options = CameraOptions

    def _missing(self) -> DeviceUnavailable:
        return DeviceUnavailable("camera.not_found", N_(
            "The document camera {source} was not found: check its USB cable"), source=self.options.source)

    def _capture(self) -> np.ndarray:
        """One frame from the source; NO_DEVICE / HARDWARE_ERROR state on failure."""
        import cv2
        source = self.options.source
        self._check_present()
        if Path(source).suffix.lower() in _STILLS:
            frame = cv2.imread(source, cv2.IMREAD_COLOR)
        else:
            frame = self._read_video(int(source) if source.isdigit() else source)
        if frame is None:
            raise self._no_frame()
        return frame

    def _path(self) -> Path:
        source = self.options.source
        return Path(f"/dev/video{source}" if source.isdigit() else source)

    def _check_present(self) -> None:
        if not self._path().exists():
            self._set_state(Status.NO_DEVICE, error="not_found")
            raise self._missing()

    def _no_frame(self) -> DeviceError:
        self._set_state(Status.HARDWARE_ERROR, error="no_frame")
        return DeviceError("camera.no_frame", N_("The document camera {source} sent no picture"),
                           recovery=Recovery.TECHNICIAN, source=self.options.source)

    def _read_video(self, source: int | str) -> np.ndarray | None:
        import cv2
        ms = int(self.options.timeout_s * 1000)
        cap = cv2.VideoCapture(source, cv2.CAP_ANY,
                               [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms])
        try:
            if not cap.isOpened():
                return None
            frame = None
            for _ in range(self.options.warmup_frames + 1):
                ok, latest = cap.read()
                if not ok:
                    break  # a file can be shorter than the warm-up: keep the last frame
                frame = latest
            return frame
        finally:
            cap.release()

    # -- status ----------------------------------------------------------------
    def probe(self) -> None:
        """The camera is there and can be opened; a file holds pictures. No frame is decoded:
        that would bring OpenCV and a frame's memory into the app before anyone scans."""
        self._check_present()
        path = self._path()
        try:
            if path.is_char_device():
                os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK))
            else:
                with path.open("rb") as f:
                    head = f.read(16)
                if not any(head[at:at + len(sig)] == sig for at, sig in _SIGNATURES):
                    raise self._no_frame()
        except OSError:
            raise self._no_frame() from None
        self._set_state(Status.ONLINE, error="")

    def check_environment(self) -> list[DeviceError]:
        path = self._path()
        if not path.exists():
            return [self._missing()]
        if not os.access(path, os.R_OK):
            return [DeviceUnavailable("camera.no_permission", N_(
                "No permission to read {source}: add the kiosk user to the group {group}"),
                source=str(path), group="video")]
        return []

    # -- scanning ----------------------------------------------------------------
    def scan(self, out: Path | str, *, resolution: int | None = None,
             progress: Callable[[float], None] | None = None) -> Future[ScanResult]:
        """Capture a frame, find the page, square it up and write it to ``out``."""
        out = Path(out)
        image_format(out)
        return self.submit(self._scan, out, resolution or self.options.resolution, progress)

    def photo(self, out: Path | str, *, progress: Callable[[float], None] | None = None) -> Future[ScanResult]:
        """Capture a frame and write it to ``out`` as it is: no page is looked for (a receipt's
        QR code, read wherever it lies in the frame)."""
        out = Path(out)
        image_format(out)
        return self.submit(self._photo, out, progress)

    def _photo(self, out: Path, progress: Callable[[float], None] | None) -> ScanResult:
        frame = self._frame(progress)
        self._write(out, frame)
        if progress is not None:
            progress(100.0)
        height, width = frame.shape[:2]
        return ScanResult(out, width, height, 0, "Color", self.options.source)  # a frame has no dpi

    def _frame(self, progress: Callable[[float], None] | None) -> np.ndarray:
        frame = self._capture()
        self._set_state(Status.ONLINE, error="")
        if progress is not None:
            progress(50.0)
        return frame

    def _write(self, out: Path, image: np.ndarray) -> None:
        import cv2
        out.parent.mkdir(parents=True, exist_ok=True)
        if not cv2.imwrite(str(out), image):
            raise DeviceError("camera.write_failed", N_("Could not write the scanned image to {path}"),
                              path=str(out))

    def _scan(self, out: Path, resolution: int, progress: Callable[[float], None] | None) -> ScanResult:
        frame = self._frame(progress)
        corners = find_page(frame, self.options.min_page_fraction)
        if corners is None:
            raise MediaError("camera.no_page", N_(
                "No document was found under the camera: lay the page flat inside the frame"),
                recovery=Recovery.RETRY)
        page = square_up(frame, corners, resolution)
        self._write(out, page)
        if progress is not None:
            progress(100.0)
        height, width = page.shape[:2]
        return ScanResult(out, width, height, resolution, "Color", self.options.source,
                          tuple((float(x), float(y)) for x, y in corners))
