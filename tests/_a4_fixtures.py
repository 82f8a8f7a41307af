"""Shared helpers for the CUPS tests: a private cupsd run directory and a text PDF."""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from drivers.sim.cupsd import CupsSim


@contextmanager
def cups_sim() -> Iterator[CupsSim]:
    """A CupsSim in a fresh world-searchable directory (cupsd's filters run as user lp,
    and pytest's tmp_path sits under a 0700 directory)."""
    run_dir = Path(tempfile.mkdtemp(prefix="kiosk-cups-", dir="/tmp"))
    try:
        with CupsSim(run_dir) as sim:
            yield sim
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def text_pdf(path: Path, text: str) -> Path:
    """A one-page A4 PDF showing ``text`` (ASCII) in Helvetica, with a valid xref table."""
    stream = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path
