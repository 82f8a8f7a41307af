"""Draining a full outbox into the upstream sandbox after an outage.

The sandbox (a subprocess, its own SQLite) is stopped; the terminal accepts ``--cases``
applications of three scanned pages each (``--page-kb`` of incompressible bytes per
page), every one sealed and committed with its outbox message while the worker retries
in vain; then the sandbox starts again. Figures: submissions per second while offline,
the time from the platform's return to an empty outbox, and cases per second delivered.
Baseline, same run: the same number of cases sent straight to the sandbox with the same
client (create, upload three pages, submit; one thread), with no store, no sealing and
no commits.

Run: python bench/outbox_drain.py [--cases 10000] [--page-kb 20] [--retry-max-s 2]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kiosk import config as config_mod  # noqa: E402
from kiosk.cases import Applicant, Application, Cases, ScannedMaterial  # noqa: E402
from kiosk.catalog.loader import BUNDLED, load_catalog  # noqa: E402
from kiosk.outbox import status  # noqa: E402
from kiosk.sealed import provision_key  # noqa: E402
from kiosk.upstream.client import Upstream  # noqa: E402
from kiosk.upstream.sandbox.process import SandboxProcess  # noqa: E402

ITEM = next(i for i in load_catalog(BUNDLED).items if i.code.basic == "0500101001")
MATERIALS = (("居民身份证或社会保障卡", 1), ("医疗费用发票", 2))


def applicant(i: int) -> Applicant:
    from drivers.idcard.identity import check_digit
    body = f"4408111980{i // 100000 % 10}1{i % 100000:05d}"[:17]
    return Applicant(f"申请人{i}", body + check_digit(body), "女", "汉族", "1980-01-01", f"东岭村{i}号", "13800138000")


def pages(root: Path, page_kb: int) -> tuple[ScannedMaterial, ...]:
    materials = []
    for m, (name, count) in enumerate(MATERIALS):
        paths = []
        for p in range(count):
            path = root / f"page-{m}-{p}.jpg"
            path.write_bytes(os.urandom(page_kb * 1024))
            paths.append(path)
        materials.append(ScannedMaterial(name, tuple(paths)))
    return tuple(materials)


def progress(label: str, done: int, total: int, started: float) -> None:
    if done % 500 == 0 or done == total:
        print(f"\r  {label}: {done}/{total} ({done / max(time.monotonic() - started, 1e-9):.0f}/s)",
              end="" if done < total else "\n", flush=True)


def outbox_run(root: Path, sandbox: SandboxProcess, token: str, n: int, page_kb: int, retry_max_s: float):
    provision_key(root / "store.key")
    cfg = config_mod.parse({"terminal": {"id": "bench-outbox"},
                            "store": {"dir": str(root / "store"), "key_file": str(root / "store.key"),
                                      "retry_max_s": retry_max_s},
                            "upstream": {"url": sandbox.url, "token_file": token}}, root / "kiosk.toml")
    materials = pages(root, page_kb)
    cases = Cases.open(cfg)
    cases.start()
    sandbox.stop()  # the line goes down
    started = time.monotonic()
    for i in range(n):
        cases.submit(Application(ITEM, applicant(i), {"note": "bench"}, materials), wait_s=0)
        progress("submitted while offline", i + 1, n, started)
    submit_rate = n / (time.monotonic() - started)
    sandbox.start()  # back
    back = time.monotonic()
    shown = 0
    while (figures := status(cases.store))["pending"] + figures["delivering"]:
        if figures["delivered"] // 500 > shown // 500:
            shown = figures["delivered"]
            progress("delivered", shown - shown % 500, n, back)
        time.sleep(0.2)
    drain_s = time.monotonic() - back
    cases.close()
    assert figures["delivered"] == n and figures["failed"] == 0, figures
    return submit_rate, drain_s


def baseline_run(root: Path, sandbox: SandboxProcess, token: str, n: int, page_kb: int) -> float:
    """Seconds for ``n`` raw create + upload + submit sequences with the same pages."""
    from kiosk.upstream.options import UpstreamOptions
    upstream = Upstream(UpstreamOptions(url=sandbox.url, token_file=token), "bench-raw")
    data = [[p.read_bytes() for p in m.pages] for m in pages(root, page_kb)]
    started = time.monotonic()
    for i in range(n):
        request = {"ref": f"raw-{i}", "item_code": ITEM.code.basic, "applicant": applicant(i).__dict__,
                   "form": {"note": "bench"}, "materials": [{"index": m, "name": name, "pages": count}
                                                           for m, (name, count) in enumerate(MATERIALS)]}
        case_no = upstream.create_case(f"raw-{i}", request)["case_no"]
        for m, (name, _) in enumerate(MATERIALS):
            for p, page in enumerate(data[m], 1):
                upstream.upload_material(case_no, m, name, p, page)
        upstream.submit_case(case_no)
        progress("raw calls", i + 1, n, started)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10000)
    parser.add_argument("--page-kb", type=int, default=20)
    parser.add_argument("--retry-max-s", type=float, default=2.0, help="the [store] retry_max_s of the run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="outbox-bench-") as tmp:
        root = Path(tmp)
        with SandboxProcess(root / "sandbox.db", pace=3600) as sandbox:
            token = str(root / "token")
            sandbox.options(token)
            (root / "outbox").mkdir()
            (root / "raw").mkdir()
            submit_rate, drain_s = outbox_run(root / "outbox", sandbox, token, args.cases, args.page_kb,
                                              args.retry_max_s)
            raw_s = baseline_run(root / "raw", sandbox, token, args.cases, args.page_kb)
    n = args.cases
    print(f"{n} cases of 3 pages x {args.page_kb} KB")
    print(f"  submitted offline (sealed, committed): {submit_rate:.0f} cases/s")
    print(f"  reconnect to empty outbox: {drain_s:.1f} s = {n / drain_s:.1f} cases/s "
          f"(retry_max_s {args.retry_max_s})")
    print(f"  baseline, raw calls without the outbox: {raw_s:.1f} s = {n / raw_s:.1f} cases/s "
          f"(outbox {drain_s / raw_s:.2f}x)")


if __name__ == "__main__":
    main()
