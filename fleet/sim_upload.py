"""What a simulated terminal uploads for ``screenshot`` and ``collect_logs``, and the upload itself.

A screenshot is a small PNG drawn for the terminal (its id, station and state on a plain
screen), the logs are plausible lines; both go to the job's ``upload_url`` over HTTPS as
the kiosk sends them (a POST; the reply's ``Location`` names where it is kept).
"""
from __future__ import annotations

import io
import ssl
import urllib.error
import urllib.request
from datetime import timedelta
from urllib.parse import urljoin

from PIL import Image, ImageDraw

from fleet.protocol import format_ts, now

TIMEOUT_S = 30.0


def screenshot(kiosk: str, label: str, state: str) -> bytes:
    """A 480×270 PNG standing in for the terminal's screen."""
    image = Image.new("RGB", (480, 270), (178, 34, 34) if state != "online" else (24, 94, 168))
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 60, 460, 250), fill=(245, 245, 240))
    draw.text((20, 20), f"{kiosk}  {label}", fill=(255, 255, 255))
    for row in range(4):
        draw.rectangle((40 + row * 105, 90, 125 + row * 105, 220), fill=(220, 226, 235))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def log_text(kiosk: str, lines: int) -> bytes:
    """``lines`` log lines, oldest first, a minute apart."""
    start = now() - timedelta(minutes=lines)
    return "".join(f"{format_ts(start + timedelta(minutes=k))} INFO kiosk.fleet_agent: {kiosk} heartbeat {k}\n"
                   for k in range(lines)).encode("utf-8")


def upload(url: str, body: bytes, content_type: str, tls: ssl.SSLContext | None) -> str:
    """POST ``body``; the URL it is kept at. Raises OSError (with the reason) when it fails."""
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, context=tls, timeout=TIMEOUT_S) as reply:
            location = reply.headers.get("Location")
    except urllib.error.URLError as exc:
        raise OSError(str(exc.reason)) from None
    return urljoin(url, location) if location else url
