"""The fleet manager end to end: a real mosquitto on loopback, kiosks' real fleet agents
(one in a subprocess killed with -9), the manager's ingest, job publisher and HTTPS API;
all of it once on SQLite and once on a private PostgreSQL server.

The kiosk's hooks (maintenance page, screen capture, restart) are recorders: what they
would do to a terminal cannot run here.
"""
from __future__ import annotations

import io
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from fleet import protocol as p
from fleet.db import Database
from fleet.ingest import Ingest
from fleet.jobs import Target
from fleet.manager import run_ingest
from fleet.models import Device, Event, JobTarget
from kiosk.fleet_agent import FleetAgent, FleetOptions
from kiosk.fleet_jobs import JobHooks
from tests._fleet_manager import broker_options, eventually, manager
from tests._mosquitto import ROOT, Watcher, broker
from tests._postgres import DATABASES, db_url, url_for  # noqa: F401  (db_url: a fixture)
from tests.test_fleet_agent import Printer, Recorder, _DeviceList

pytestmark = pytest.mark.timeout(180)
GROUPS = {"kiosk-a": ("county-x",), "kiosk-b": (), "kiosk-c": ("county-x",), "kiosk-d": (), "kiosk-e": ()}


@pytest.fixture(scope="module", params=DATABASES)
def database(request):
    return request.param


@pytest.fixture(scope="module")
def mq(database, tmp_path_factory):  # a broker per database: nothing retained or queued carries over
    with broker(tmp_path_factory.mktemp("manager-mq"), GROUPS) as b:
        yield b


@pytest.fixture(scope="module")
def fleet(mq, database, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("manager")
    with manager(mq, tmp, url_for(database, tmp)) as m:
        yield m


@pytest.fixture(scope="module")
def tokens(fleet):
    return {role: fleet.token(f"{role}-1", role) for role in ("viewer", "operator", "technician")}


def agent(mq, tmp_path, kiosk: str, **kwargs) -> FleetAgent:
    options = FleetOptions(broker=mq.url, password_file=str(mq.accounts[kiosk].password_file),
                           buffer_dir=str(tmp_path / kiosk), groups=GROUPS[kiosk], health_interval_s=3600,
                           metrics_interval_s=3600, upload_hosts=("localhost",), ca_file=str(mq.ca_file))
    return FleetAgent(kiosk, options, station="石桥村便民服务站", version="0.1.0", **kwargs)


def state_of(fleet, kiosk: str, boot_id: str, state: str) -> Device:
    return fleet.query(lambda s: s.get(Device, kiosk),
                       lambda d: d is not None and (d.boot_id, d.state) == (boot_id, state))


def target(fleet, job: str, kiosk: str, final=True) -> JobTarget:
    return fleet.query(lambda s: s.get(JobTarget, (job, kiosk)),
                       lambda t: t is not None and (t.status in p.FINAL_STATUSES or not final))


def test_state_and_the_last_will_when_a_kiosk_is_killed(mq, fleet, tmp_path):
    child = subprocess.Popen([sys.executable, str(ROOT / "tests" / "_fleet_child.py"), "kiosk-b", mq.url,
                              str(mq.accounts["kiosk-b"].password_file), str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        boot_id = child.stdout.readline().strip()
        online = state_of(fleet, "kiosk-b", boot_id, "online")
        assert (online.version, online.station.name) == ("0.1.0", "test-station")
        os.kill(child.pid, signal.SIGKILL)
        offline = state_of(fleet, "kiosk-b", boot_id, "offline")
        assert offline.conn == online.conn and offline.state_since >= online.state_since
        assert offline.duplicates == 0
    finally:
        child.kill()
        child.wait()
        child.stdout.close()


def test_health_on_a_change_opens_an_alert_that_an_operator_acknowledges(mq, fleet, tokens, tmp_path):
    printer = Printer("receipt")
    printer.probe()
    kiosk = agent(mq, tmp_path, "kiosk-c", devices=_DeviceList([printer]))
    kiosk.start()
    try:
        state_of(fleet, "kiosk-c", kiosk.boot_id, "online")
        printer._set_state(printer.state.status, paper="out")
        with fleet.http(tokens["viewer"]) as viewer, fleet.http(tokens["operator"]) as operator:
            def alerts():
                return viewer.get("/api/v1/alerts", params={"device": "kiosk-c"}).json()["alerts"]
            paper = eventually(alerts)[0]
            assert (paper["rule"], paper["part"], paper["severity"], paper["state"]) == ("paper", "receipt", "critical", "open")
            assert viewer.post(f"/api/v1/alerts/{paper['id']}/ack").status_code == 403
            acked = operator.post(f"/api/v1/alerts/{paper['id']}/ack").json()
            assert (acked["state"], acked["acknowledged_by"]) == ("acknowledged", "operator-1")
            assert operator.post(f"/api/v1/alerts/{paper['id']}/ack").status_code == 409
            printer._set_state(printer.state.status, paper="ok")  # paper refilled: resolved by itself
            eventually(alerts, lambda found: found == [])
            page = viewer.get("/api/v1/devices/kiosk-c").json()
            assert [h["detail"].get("paper") for h in page["health"]][:2] == ["ok", "out"]
    finally:
        kiosk.stop()
        printer.close()


def test_a_job_from_the_api_through_its_whole_life_with_roles_and_audit(mq, fleet, tokens, tmp_path):
    recorder = Recorder()
    kiosk = agent(mq, tmp_path, "kiosk-a", hooks=JobHooks(maintenance=recorder.hook("maintenance")))
    kiosk.start()
    try:
        state_of(fleet, "kiosk-a", kiosk.boot_id, "online")
        job = {"op": "maintenance", "args": {"on": True}, "group": "county-x"}
        with fleet.http(tokens["viewer"]) as viewer, fleet.http(tokens["operator"]) as operator, \
                fleet.http(tokens["technician"]) as technician:
            assert viewer.post("/api/v1/jobs", json=job).status_code == 403
            assert operator.post("/api/v1/jobs", json={"op": "reboot", "device": "kiosk-a"}).status_code == 403
            issued = operator.post("/api/v1/jobs", json=job)
            assert issued.status_code == 201, issued.text
            job_id = issued.json()["id"]
            assert issued.json()["targets"][0]["status"] == p.QUEUED
            done = target(fleet, job_id, "kiosk-a")
            assert (done.status, done.progress, done.detail) == (p.SUCCEEDED, 100, {"on": True})
            assert recorder.calls == [("maintenance", True)]
            seen = viewer.get(f"/api/v1/jobs/{job_id}").json()
            # kiosk-c, the group's other member, is stopped: its copy waits at the broker
            assert (seen["done"], seen["counts"], seen["issuer"]) == (False, {p.SUCCEEDED: 1, p.QUEUED: 1}, "operator-1")
            assert viewer.get("/api/v1/audit").status_code == 403
            log = technician.get("/api/v1/audit", params={"operator": "operator-1"}).json()["entries"]
            newest = log[0]  # the refused attempts left no entry
            assert (newest["action"], newest["target"], newest["detail"]["job"], newest["detail"]["op"]) == \
                ("job.issue", "county-x", job_id, "maintenance")
    finally:
        kiosk.stop()


def test_a_screenshot_is_uploaded_over_https_with_a_one_time_token(mq, fleet, tokens, tmp_path):
    image = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(image, "PNG")
    kiosk = agent(mq, tmp_path, "kiosk-e", hooks=JobHooks(capture_screen=image.getvalue))
    kiosk.start()
    jobs_seen = Watcher(mq, subscribe=(p.jobs_filter("kiosk-e"),))
    try:
        state_of(fleet, "kiosk-e", kiosk.boot_id, "online")
        with fleet.http(tokens["operator"]) as operator:
            job_id = operator.post("/api/v1/jobs", json={"op": "screenshot", "device": "kiosk-e"}).json()["id"]
            done = target(fleet, job_id, "kiosk-e")
            assert done.status == p.SUCCEEDED, done.detail
            shot = operator.get(done.detail["url"])
            assert (shot.status_code, shot.content, shot.headers["content-type"]) == (200, image.getvalue(), "image/png")
            last = operator.get("/api/v1/devices/kiosk-e").json()["last_screenshot"]
            assert done.detail["url"] == fleet.url + last["url"]
            upload_url = p.Job.parse(jobs_seen.on(p.job_topic("kiosk-e", job_id)).payload).args["upload_url"]
            assert upload_url.startswith(f"{fleet.url}/api/v1/uploads/{job_id}/kiosk-e?token=")
            again = operator.post(upload_url, content=image.getvalue(), headers={"content-type": "image/png"})
            assert again.status_code == 403  # the token worked once
            assert "upload_url" not in operator.get(f"/api/v1/jobs/{job_id}").json()["args"]
    finally:
        jobs_seen.close()
        kiosk.stop()


def test_a_job_queued_while_offline_runs_on_return_and_an_expired_one_times_out(mq, fleet, tmp_path):
    recorder = Recorder()
    first = agent(mq, tmp_path, "kiosk-d", hooks=JobHooks(restart_app=recorder.hook("restart")))
    first.start()
    state_of(fleet, "kiosk-d", first.boot_id, "online")
    first.stop()
    state_of(fleet, "kiosk-d", first.boot_id, "offline")
    late = fleet.jobs.issue("restart_app", {}, Target(device="kiosk-d"), "tester", timedelta(seconds=1))
    waiting = fleet.jobs.issue("restart_app", {}, Target(device="kiosk-d"), "tester", timedelta(minutes=10))
    time.sleep(1.1)  # let the first one expire before the kiosk returns
    again = agent(mq, tmp_path, "kiosk-d", hooks=JobHooks(restart_app=recorder.hook("restart")))
    again.start()
    try:
        assert target(fleet, late.id, "kiosk-d").status == p.TIMED_OUT
        assert target(fleet, waiting.id, "kiosk-d").status == p.SUCCEEDED
        assert recorder.calls == [("restart",)]
    finally:
        again.stop()


def test_two_ingest_processes_on_the_shared_subscription_handle_each_message_once(
        db_url, tmp_path, capfd):  # noqa: F811
    with broker(tmp_path / "mq", {"kiosk-s": ()}) as b:
        kiosk = Watcher(b, "kiosk-s", subscribe=())
        birth = p.State(p.Stamp(p.now(), 400, "boot-s"), "online", 0, "0.1.0", "东河村便民服务站")
        assert kiosk.publish(p.state_topic("kiosk-s"), birth.to_json(), retain=True) in (0, 16)  # 16: no subscriber yet
        db = Database(db_url).create()
        spawn = multiprocessing.get_context("spawn")
        workers = [spawn.Process(target=run_ingest, args=(db_url, broker_options(b), i, "INFO")) for i in range(2)]
        for worker in workers:
            worker.start()
        try:
            eventually(b.log, lambda log: all(f"fleet-ingest-{i} 1 $share/fleet/kiosk/v1/+/events" in log
                                               for i in range(2)))
            for seq in range(400):
                event = p.Event(p.Stamp(p.now(), seq, "boot-s"), "test.split", "info").to_json()
                kiosk.client.publish(p.events_topic("kiosk-s"), event, qos=1)

            def stored() -> int:
                with db.session() as s:
                    return s.scalar(select(func.count()).select_from(Event))
            assert eventually(stored, lambda n: n >= 400) == 400
        finally:
            kiosk.close()
            for worker in workers:
                worker.terminate()
                worker.join(30)
            db.close()
        stopped = re.findall(r"ingest fleet-ingest-\d stopped: (\d+) received, \d+ written, (\d+) duplicates",
                             capfd.readouterr().err)
        received = [int(n) for n, _ in stopped]
        # the retained state once, by the snapshot of process 0: not again on either shared subscription
        assert len(received) == 2 and sum(received) == 401 and min(received) > 1, received
        assert [int(d) for _, d in stopped] == [0, 0]


def test_a_manager_that_starts_later_learns_the_states_the_broker_retained(db_url, tmp_path):  # noqa: F811
    with broker(tmp_path / "mq", {"kiosk-r": ()}) as b:
        kiosk = Watcher(b, "kiosk-r", subscribe=())
        birth = p.State(p.Stamp(p.now(), 0, "boot-r"), "maintenance", 0, "0.1.0", "东河村便民服务站")
        assert kiosk.publish(p.state_topic("kiosk-r"), birth.to_json(), retain=True) in (0, 16)  # 16: no subscriber yet
        kiosk.close()
        db = Database(db_url).create()
        late = Ingest(db, broker_options(b), "late", retained_snapshot=True)
        late.start()
        try:
            def learned():
                with db.session() as s:
                    return s.get(Device, "kiosk-r")
            assert eventually(learned, lambda d: d is not None and d.state != "unknown").state == "maintenance"
        finally:
            late.stop()
            db.close()
