"""The app against a bare Kivy app started the same way, in the same run, on the same Xvfb.

- cold start: process start → home drawn and touchable (the bare app: its first frame). The
  app is started as ``App.run`` starts it and draws its first frame (the attract screen); the
  wake-up then draws home. Target at most 2× the bare app;
- memory: PSS after visiting every module (the bare app: after its first frames);
  target at most 1.35× the bare app. Measured at once after the last tap, and again after
  both apps ran ``REST_S`` seconds untouched (what the terminal holds between visits). USS
  too: a shared library's pages count in PSS as a share of every process that maps it, so
  PSS moves with what else runs (Mesa's and Kivy's libraries are the bulk of the bare app);
  USS and the difference between the apps do not;
- touch-to-drawn: a tap's release → the next screen drawn, p95 over many screen changes
  (the bare app: a tap that changes a label); target p95 under 100 ms.

The devices are the simulated station's. The two apps' runs alternate, so a change in the
machine's load falls on both; medians of ``RUNS`` runs each. Run: ``python bench/app_ui.py``.
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 5
REST_S = 5.0


def memory_kb() -> dict[str, int]:
    """PSS, and USS (the pages no other process maps: PSS less the shares of shared libraries,
    which move with whatever else maps them)."""
    rollup = {line.split(":")[0]: int(line.split()[1])
              for line in Path("/proc/self/smaps_rollup").read_text().splitlines()[1:]}
    return {"pss": rollup["Pss"], "uss": rollup["Private_Clean"] + rollup["Private_Dirty"]}


def rest(loop) -> dict[str, int]:
    """Memory after ``REST_S`` seconds of frames with no touch."""
    end = time.monotonic() + REST_S
    while time.monotonic() < end:
        loop.idle()
    return memory_kb()


def tap_and_draw(loop, widget, changed) -> float:
    """Seconds from a tap's release to the frame that shows its result."""
    from kivy.tests.common import UnitTestTouch
    touch = UnitTestTouch(*widget.to_window(*widget.center))
    touch.touch_down()
    loop.idle()
    start = time.perf_counter()
    touch.touch_up()
    while True:
        loop.idle()  # input, clock, layout, draw and flip of one frame
        if changed():
            return time.perf_counter() - start


def child_bare(started: float) -> dict:
    from screens.run import prepare_kivy
    prepare_kivy("landscape", windowed=True)
    from kivy.base import EventLoop
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.button import Button
    from kivy.uix.label import Label
    root = BoxLayout(orientation="vertical")
    label, button = Label(text="0"), Button(text="+1")
    button.bind(on_release=lambda *_: setattr(label, "text", str(int(label.text) + 1)))
    root.add_widget(label)
    root.add_widget(button)
    EventLoop.ensure_window()
    EventLoop.window.add_widget(root)
    EventLoop.start()
    EventLoop.idle()
    ready = time.time() - started
    times = []
    for _ in range(60):
        before = label.text
        times.append(tap_and_draw(EventLoop, button, lambda: label.text != before))
    return {"start_s": ready, "memory_kb": memory_kb(), "rest_memory_kb": rest(EventLoop), "taps": times}


def child_kiosk(started: float, config_path: str) -> dict:
    from screens.run import prepare_kivy
    prepare_kivy("landscape", windowed=True)
    from kivy.base import EventLoop as loop
    from kiosk import config
    from kiosk.terminal import Terminal
    from screens.app import KioskApp
    app = KioskApp(Terminal(config.load(config_path)))
    app._run_prepare()  # what App.run does before its loop
    loop.start()
    loop.idle()  # the first frame: the attract screen
    app.wake(None)
    loop.idle()  # home drawn
    ready = time.time() - started
    from kiosk.catalog.modules import GROUPS, MODULES
    times = []
    for _ in range(3):
        for group in GROUPS:
            app.go_home()
            loop.idle()
            button = next(w for w in app.screen.ids.groups.children if w.group_id == group.id)
            times.append(tap_and_draw(loop, button, lambda: app.manager.current == "group"))
            for mod in [m for m in MODULES if m.group == group.id]:
                button = next(w for w in app.screen.ids.modules.children if w.module_id == mod.id)
                times.append(tap_and_draw(loop, button, lambda: app.manager.current != "group"))
                back = app.root.ids.topbar.ids.back
                times.append(tap_and_draw(loop, back, lambda: app.manager.current == "group"))
    return {"start_s": ready, "memory_kb": memory_kb(), "rest_memory_kb": rest(loop), "taps": times}


def run_child(mode: str, *args: str) -> dict:
    started = time.time()
    out = subprocess.run([sys.executable, __file__, mode, repr(started), *args],
                         capture_output=True, text=True, timeout=300)
    line = [l for l in out.stdout.splitlines() if l.startswith("{")]
    if out.returncode or not line:
        raise SystemExit(f"{mode} failed:\n{out.stderr[-3000:]}")
    return json.loads(line[-1])


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


def main() -> None:
    from drivers.sim.station import SimulatedStation
    from screens.xvfb import Xvfb
    run_dir = Path(tempfile.mkdtemp(prefix="kiosk-bench-", dir="/tmp"))
    try:
        with Xvfb(), SimulatedStation(run_dir, printer_port=0) as station:
            station.badge.remove()  # a citizen's visit: no agent's staff badge on the reader
            cfg = run_dir / "kiosk.toml"
            cfg.write_text(station.config_text(), encoding="utf-8")
            bare, kiosk = [], []
            for _ in range(RUNS):
                bare.append(run_child("bare"))
                kiosk.append(run_child("kiosk", str(cfg)))
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    start_b = statistics.median(r["start_s"] for r in bare)
    start_k = statistics.median(r["start_s"] for r in kiosk)

    def mib(runs: list[dict], key: str, kind: str) -> float:
        return statistics.median(r[key][kind] for r in runs) / 1024
    taps_b = [t for r in bare for t in r["taps"]]
    taps_k = [t for r in kiosk for t in r["taps"]]
    print(f"cold start to touchable home: {start_k * 1000:.0f} ms; bare Kivy app: {start_b * 1000:.0f} ms; "
          f"ratio {start_k / start_b:.2f}× (target ≤ 2×)")
    for key, when in (("memory_kb", "after every module"), ("rest_memory_kb", f"after {REST_S:.0f} s untouched")):
        for kind in ("pss", "uss"):
            k, b = mib(kiosk, key, kind), mib(bare, key, kind)
            print(f"{kind.upper()} {when}: {k:.1f} MiB; bare Kivy app: {b:.1f} MiB; ratio {k / b:.2f}×; "
                  f"the app's own {k - b:.1f} MiB" + (" (target ≤ 1.35×)" if kind == "pss" else ""))
    print(f"touch-to-drawn p95: {p95(taps_k) * 1000:.1f} ms over {len(taps_k)} screen changes; "
          f"bare app p95: {p95(taps_b) * 1000:.1f} ms (target < 100 ms)")
    print(f"load average while measuring (1 min): {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        mode, started = sys.argv[1], float(sys.argv[2])
        result = child_bare(started) if mode == "bare" else child_kiosk(started, sys.argv[3])
        print(json.dumps(result))
        os._exit(0)  # the devices' threads need not wind down for a figure
    main()
