"""The app in the fleet under Xvfb: the maintenance page by a fleet job, and a real window capture.

The app of the UI session gets a ``FleetLink`` to a private mosquitto (tests/_mosquitto.py)
and its ``FleetScreen``, as ``KioskApp.on_start`` attaches them when ``[fleet] broker`` is
set; the screenshot goes over HTTPS to a local server with a certificate of the test CA.
While waiting for the fleet's answers the test keeps drawing frames, as the app's loop would.
"""
from __future__ import annotations

import io
import signal
import subprocess
import sys
from datetime import timedelta

import pytest
from PIL import Image, ImageChops

from fleet import protocol as p
from kiosk.session import EndReason
from kiosk import config_file
from kiosk.fleet_link import RESTART_EXIT_CODE, RUNNING, FleetLink
from kiosk.fleet_options import FleetOptions
from l10n import translate
from screens.fleet_screen import FleetScreen
from tests._mosquitto import ROOT, WAIT_S, Watcher, broker
from tests._upload_server import upload_server

pytestmark = pytest.mark.timeout(180)
KIOSK = "kiosk-dev"  # the id of the UI session's terminal (the config's default)
APP = "kiosk-app"  # a `kiosk run` process of its own


@pytest.fixture(scope="module")
def mq(tmp_path_factory):
    with broker(tmp_path_factory.mktemp("fleet-ui"), {KIOSK: (), APP: ()}) as b:
        yield b


@pytest.fixture
def fleet(ui, mq, tmp_path):
    """The session's app in the fleet for one test: (link, manager); taken out again after."""
    manager = Watcher(mq)
    issued = mq.accounts[KIOSK]
    options = FleetOptions(broker=mq.url, password_file=str(issued.password_file), ca_file=str(mq.ca_file),
                           buffer_dir=str(tmp_path / "fleet"), health_interval_s=3600, metrics_interval_s=3600)
    terminal = ui.app.terminal
    assert terminal.config.terminal.id == KIOSK
    link = FleetLink(terminal, options)
    screen = FleetScreen(ui.app, link)
    terminal.fleet = link
    link.start()
    try:
        answer(ui, manager, p.state_topic(KIOSK), b'"online"', link.agent.boot_id)
        yield link, manager
    finally:
        terminal.fleet = None
        screen.close()
        link.close()
        manager.close()
        ui.reset()


def answer(ui, manager, topic, *parts: bytes | str) -> bytes:
    """The payload of the first message on ``topic`` holding every one of ``parts``, frames drawn meanwhile."""
    wanted = [x.encode() if isinstance(x, str) else x for x in parts]
    found = []

    def arrived() -> bool:
        msg = manager.poll(lambda m: m.topic == topic and all(w in m.payload for w in wanted))
        if msg is not None:
            found.append(msg.payload)
        return bool(found)

    ui.wait(arrived, timeout=20, what=f"{parts} on {topic}")
    return found[0]


def run_job(ui, manager, job_id, op, args=None) -> p.JobStatus:
    job = p.Job(job_id, op, args or {}, p.now(), p.now() + timedelta(minutes=5), "tester")
    assert manager.publish(p.job_topic(KIOSK, job_id), job.to_json()) == 0
    payload = answer(ui, manager, p.job_status_topic(KIOSK, job_id), b"SUCCEEDED")
    return p.JobStatus.parse(payload)


def test_maintenance_job_shows_the_maintenance_page_and_the_screenshot_is_the_window(ui, mq, fleet, tmp_path):
    link, manager = fleet
    run_job(ui, manager, "ui-m1", "maintenance", {"on": True})
    answer(ui, manager, p.state_topic(KIOSK), b'"maintenance"', link.agent.boot_id)
    ui.wait(lambda: ui.screen == "out_of_service", what="the maintenance page")
    page = ui.app.screen
    assert page.maintenance
    assert page.ids.headline.text == translate("This terminal is under maintenance", "zh_CN")
    ui.tap((ui.app.root.width / 2, ui.app.root.height / 2))  # a touch does not start a visit
    assert ui.screen == "out_of_service" and not ui.app.session.active

    with upload_server(mq.dir / "ca", tmp_path, host="127.0.0.1") as (url, received):
        done = run_job(ui, manager, "ui-s1", "screenshot", {"upload_url": f"{url}/shots"})
        assert done.detail["url"] == f"{url}/files/1" and received[0][:2] == ("/shots", "image/png")
    shot = Image.open(io.BytesIO(received[0][2]))
    ui.screenshot(tmp_path / "kivy.png")  # Kivy's own screenshot of the same page
    kivy = Image.open(tmp_path / "kivy.png").convert("RGB")
    assert shot.size == kivy.size == tuple(ui.app.root.size)
    assert ImageChops.difference(shot.convert("RGB"), kivy).getbbox() is None
    assert len(shot.getcolors(1 << 16) or range(1 << 16)) > 2  # text on a background, not a blank frame

    run_job(ui, manager, "ui-m2", "maintenance", {"on": False})
    ui.wait(lambda: ui.screen == "attract", what="back in service")
    answer(ui, manager, p.state_topic(KIOSK), b'"online"', link.agent.boot_id)


def test_a_visit_in_progress_ends_before_the_maintenance_page_shows(ui, fleet):
    link, manager = fleet
    ui.tap((10, 10))  # a villager wakes the terminal
    assert ui.screen == "home" and ui.app.session.active
    run_job(ui, manager, "ui-m3", "maintenance", {"on": True})
    answer(ui, manager, p.state_topic(KIOSK), b'"maintenance"', link.agent.boot_id)
    ui.frames(20)
    assert ui.screen == "home" and ui.app.session.active  # not cut off
    ui.app.session.end(EndReason.FINISHED)
    ui.wait(lambda: ui.screen == "out_of_service" and ui.app.screen.maintenance, what="the maintenance page")
    run_job(ui, manager, "ui-m4", "maintenance", {"on": False})
    ui.wait(lambda: ui.screen == "attract", what="back in service")


def test_the_technicians_screen_is_maintenance_in_the_fleet(ui, fleet):
    link, manager = fleet
    ui.app.show("maintenance")
    answer(ui, manager, p.state_topic(KIOSK), b'"maintenance"', link.agent.boot_id)
    ui.reset()
    answer(ui, manager, p.state_topic(KIOSK), b'"online"', link.agent.boot_id)


def test_kiosk_run_exits_for_a_restart_with_the_code_systemd_restarts_and_cleanly_on_sigterm(harness, mq, tmp_path):
    """The whole path in a `kiosk run` process: its fleet link, restart_app, the app's exit code."""
    issued = mq.accounts[APP]
    path = tmp_path / "kiosk.toml"
    path.write_text(config_file.dumps({
        "terminal": {"id": APP},
        "fleet": {"broker": mq.url, "password_file": str(issued.password_file), "buffer_dir": str(tmp_path / "fleet"),
                  "health_interval_s": 3600, "metrics_interval_s": 3600}}), encoding="utf-8")
    with Watcher(mq) as manager:
        for run in range(2):  # restarted, as systemd would; the second run ends by SIGTERM
            app = subprocess.Popen([sys.executable, "-m", "kiosk.cli", "--config", str(path), "run", "--windowed"],
                                   cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            try:
                started = p.Event.parse(manager.on(p.events_topic(APP), lambda b: b'"app.started"' in b).payload)
                if run == 0:
                    job = p.Job("app-r1", "restart_app", {}, p.now(), p.now() + timedelta(minutes=5), "tester")
                    assert manager.publish(p.job_topic(APP, "app-r1"), job.to_json()) == 0
                    assert b"SUCCEEDED" in manager.on(p.job_status_topic(APP, "app-r1"),
                                                      lambda b: b"SUCCEEDED" in b).payload
                    assert app.wait(WAIT_S) == RESTART_EXIT_CODE
                else:
                    app.send_signal(signal.SIGTERM)
                    assert app.wait(WAIT_S) == 0
                bye = p.State.parse(manager.on(p.state_topic(APP), lambda b: b'"offline"' in b).payload)
                assert bye.stamp.boot_id == started.stamp.boot_id
                assert not (tmp_path / "fleet" / RUNNING).exists()  # a clean end (on_stop ran): no crash report next
            finally:
                if app.poll() is None:
                    app.kill()
                app.wait()
                app.stderr.close()
