"""What a scan produces, whether it came from a flatbed (SANE) or a document camera."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

IMAGE_FORMATS = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".tif": "tiff", ".tiff": "tiff"}


@dataclass(frozen=True)
class ScanResult:
    """An image file written by a scan.

    ``corners`` is where a document camera found the page in its frame (top-left,
    top-right, bottom-right, bottom-left, in frame pixels); None for a flatbed.
    """

    path: Path
    width: int  # pixels
    height: int
    resolution: int  # dpi
    mode: str  # "Color", "Gray" or "Lineart"
    device: str
    corners: tuple[tuple[float, float], ...] | None = None


def image_format(out: Path) -> str:
    """The image format named by ``out``'s suffix; ValueError for one we do not write."""
    try:
        return IMAGE_FORMATS[out.suffix.lower()]
    except KeyError:
        raise ValueError(f"unsupported image file type {out.suffix!r}: use .png, .jpg or .tiff") from None
