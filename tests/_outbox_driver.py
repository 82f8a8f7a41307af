"""A kiosk process for the crash tests: submits applications and delivers them, or only delivers.

    python tests/_outbox_driver.py CONFIG submit FIRST COUNT   # COUNT applications, then wait until delivered
    python tests/_outbox_driver.py CONFIG drain                # deliver what is queued, then print the status

Application i (FIRST <= i < FIRST + COUNT) is made by ``application(i, pages_dir)``: its own
applicant (``id_number_of(i)``) and two materials of one and two pages. After each submit
returns it prints ``SUBMITTED <i> <ref>``: what the kiosk promised. The crash tests run it
with ``KIOSK_CRASH_AT`` (see ``kiosk.crashpoints``) and kill -9 falls wherever that says.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from drivers.idcard.identity import check_digit
from kiosk import config as config_mod
from kiosk.cases import Applicant, Application, Cases, ScannedMaterial
from kiosk.catalog.loader import BUNDLED, load_catalog

ITEM_CODE = "2000102000"  # a village item the sandbox accepts


def id_number_of(i: int) -> str:
    body = f"440811198{i // 1000 % 10}0101{i % 1000:03d}"
    return body + check_digit(body)


def page_bytes(i: int, material: int, page: int) -> bytes:
    """A small PNG, different for every page."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (64, 48), color=(i * 7 + material * 31 + page * 13) % 256).save(out, "PNG")
    return out.getvalue()


def application(i: int, pages_dir: Path, item=None) -> Application:
    item = item or next(x for x in load_catalog(BUNDLED).items if x.code.basic == ITEM_CODE)
    materials = []
    for m, (name, count) in enumerate((("居民身份证", 1), ("户口簿", 2))):
        pages = []
        for page in range(1, count + 1):
            path = pages_dir / f"{i}-{m}-{page}.png"
            path.write_bytes(page_bytes(i, m, page))
            pages.append(path)
        materials.append(ScannedMaterial(name, tuple(pages)))
    applicant = Applicant(name=f"测试{i}", id_number=id_number_of(i), gender="男", nation="汉族",
                          birth_date="1980-01-01", address=f"广东省湛江市坡头区东岭村{i}号", phone="13800138000")
    return Application(item, applicant, {"purpose": "入学"}, tuple(materials))


def wait_drained(cases: Cases, timeout: float = 120.0) -> dict:
    from kiosk.outbox import status

    deadline = time.monotonic() + timeout
    while True:
        figures = status(cases.store)
        if figures["pending"] == figures["delivering"] == 0 or time.monotonic() > deadline:
            return figures
        cases.outbox.nudge()
        time.sleep(0.05)


def main(argv: list[str]) -> int:
    cfg = config_mod.load(argv[0])
    cases = Cases.open(cfg)
    cases.start()
    if argv[1] == "submit":
        first, count = int(argv[2]), int(argv[3])
        pages_dir = Path(cfg.store.dir).parent / "pages"
        pages_dir.mkdir(exist_ok=True)
        for i in range(first, first + count):
            submitted = cases.submit(application(i, pages_dir), wait_s=0)
            sys.stdout.write(f"SUBMITTED {i} {submitted.ref}\n")  # one write: a kill cannot split it
            sys.stdout.flush()
    figures = wait_drained(cases)
    print(json.dumps(figures), flush=True)
    cases.close()
    return 0 if figures["pending"] == figures["delivering"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
