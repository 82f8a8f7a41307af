"""The document camera driver against a rendered desk scene.

There is no UVC camera or v4l2loopback on a build machine: drivers.sim.camera_source
writes what a camera would see to an image or MJPEG video file, which OpenCV opens
through the same VideoCapture path as /dev/video0. That file is the stand-in for the
device; everything after the frame (page finding, warping, writing) is the real code.
"""
from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from drivers.base import DeviceError, DeviceUnavailable, MediaError, Status
from drivers.scanner.camera import CameraOptions, DocumentCamera, find_page, order_corners
from drivers.sim.camera_source import CameraSourceSim


def camera(sim, **extra) -> DocumentCamera:
    keys = {k: v for k, v in sim.config_section().items() if k != "driver"}
    return DocumentCamera("doccam", CameraOptions(**{**keys, **extra}))


@pytest.fixture(params=[False, True], ids=["still", "video"])
def sim(request, tmp_path):
    with CameraSourceSim(tmp_path / "run", video=request.param) as s:
        yield s


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Normalised correlation of two grey images of the same size."""
    a, b = (x.astype(np.float64).ravel() - x.mean() for x in (a, b))
    return float(a @ b / np.sqrt((a @ a) * (b @ b)))


def test_page_is_found_and_squared_up(sim, tmp_path):
    cam = camera(sim)
    try:
        result = cam.scan(tmp_path / "page.png", resolution=100).result(timeout=30)
    finally:
        cam.close()
    assert np.abs(np.float32(result.corners) - np.float32(sim.corners)).max() < 3
    assert (result.width, result.height) == (827, 1169)  # A4 at 100 dpi
    scanned = cv2.imread(str(result.path), cv2.IMREAD_GRAYSCALE)
    truth = cv2.resize(cv2.cvtColor(sim.page, cv2.COLOR_BGR2GRAY), (result.width, result.height),
                       interpolation=cv2.INTER_AREA)
    assert similarity(scanned, truth) > 0.8
    upside_down = cv2.rotate(truth, cv2.ROTATE_180)
    assert similarity(scanned, upside_down) < 0.5
    assert cam.state.status is Status.ONLINE


def test_page_lying_sideways_comes_out_upright(tmp_path):
    sideways = ((250.0, 700.0), (270.0, 180.0), (950.0, 200.0), (930.0, 720.0))
    with CameraSourceSim(tmp_path, corners=sideways) as sim:
        cam = camera(sim)
        try:
            result = cam.scan(tmp_path / "page.jpg").result(timeout=30)
        finally:
            cam.close()
    assert result.height > result.width
    assert np.abs(np.float32(result.corners) - np.float32(sideways)).max() < 3


def test_empty_desk_is_no_page(sim, tmp_path):
    sim.set_fault("no_page")
    cam = camera(sim)
    try:
        with pytest.raises(MediaError) as err:
            cam.scan(tmp_path / "page.png").result(timeout=30)
        assert err.value.code == "camera.no_page"
        assert cam.state.status is Status.ONLINE
    finally:
        cam.close()


def test_unplugged_is_no_device_and_recovers(sim, tmp_path):
    cam = camera(sim)
    try:
        sim.set_fault("unplugged")
        assert cam.refresh().result(timeout=30).status is Status.NO_DEVICE
        assert [e.code for e in cam.check_environment()] == ["camera.not_found"]
        with pytest.raises(DeviceUnavailable):
            cam.scan(tmp_path / "page.png").result(timeout=30)
        sim.set_fault(None)
        assert cam.refresh().result(timeout=30).status is Status.ONLINE
        assert cam.check_environment() == []
    finally:
        cam.close()


def test_source_without_pictures_is_a_hardware_error(sim, tmp_path):
    sim.set_fault("garbage")
    cam = camera(sim)
    try:
        assert cam.refresh().result(timeout=30).status is Status.HARDWARE_ERROR
        with pytest.raises(DeviceError) as err:
            cam.scan(tmp_path / "page.png").result(timeout=30)
        assert err.value.code == "camera.no_frame"
    finally:
        cam.close()


def test_missing_device_node_is_no_device():
    cam = DocumentCamera("doccam", CameraOptions(source="/dev/video99"))
    try:
        assert cam.refresh().result(timeout=30).status is Status.NO_DEVICE
    finally:
        cam.close()


def test_options_are_checked():
    with pytest.raises(ValueError, match="resolution"):
        CameraOptions(source="0", resolution=5)
    with pytest.raises(ValueError, match="source"):
        CameraOptions(source="")


def test_corner_order_is_clockwise_from_top_left():
    pts = np.float32([[10, 200], [100, 0], [0, 10], [110, 190]])
    assert order_corners(pts).tolist() == [[0, 10], [100, 0], [110, 190], [10, 200]]


@settings(max_examples=50, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(1, 80), st.integers(1, 80), st.sampled_from([1, 3])),
              elements=st.integers(0, 255)))
def test_page_finder_on_any_frame_returns_none_or_corners_inside(frame):
    frame = frame[:, :, 0] if frame.shape[2] == 1 else frame
    corners = find_page(frame)
    if corners is not None:
        h, w = frame.shape[:2]
        assert corners.shape == (4, 2)
        assert (corners[:, 0] >= 0).all() and (corners[:, 0] < w).all()
        assert (corners[:, 1] >= 0).all() and (corners[:, 1] < h).all()


def test_probe_finds_the_camera_without_opencv(sim):
    """The probe at start looks at the source; OpenCV (~30 MiB) comes in with the first scan."""
    probe = ("import sys\n"
             "from drivers.base import Status\n"
             "from drivers.scanner.camera import CameraOptions, DocumentCamera\n"
             f"cam = DocumentCamera('doccam', CameraOptions(source={str(sim.path)!r}))\n"
             "try:\n"
             "    assert cam.refresh().result(timeout=30).status is Status.ONLINE\n"
             "finally:\n"
             "    cam.close()\n"
             "print('cv2' in sys.modules, 'numpy' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]
