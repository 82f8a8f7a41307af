"""Time to find and square up the page in one document-camera frame (1280x960).

Baseline measured in the same run: decoding the frame from PNG alone (what any
capture already costs). Run: python bench/camera_page.py
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2  # noqa: E402

from drivers.scanner.camera import find_page, square_up  # noqa: E402
from drivers.sim.camera_source import DEFAULT_CORNERS, render_scene  # noqa: E402


def timed(fn, runs: int = 30) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def main() -> None:
    frame = render_scene(DEFAULT_CORNERS)
    png = cv2.imencode(".png", frame)[1]
    decode = timed(lambda: cv2.imdecode(png, cv2.IMREAD_COLOR))
    find = timed(lambda: find_page(frame))
    corners = find_page(frame)
    warp = timed(lambda: square_up(frame, corners, 150))
    print(f"baseline: PNG decode of the frame      {decode:7.2f} ms")
    print(f"find_page (1280x960)                   {find:7.2f} ms")
    print(f"square_up to A4 at 150 dpi (1240x1754) {warp:7.2f} ms")


if __name__ == "__main__":
    main()
