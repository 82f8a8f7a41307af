"""kioskctl against a real fleet-manager process, a real mosquitto and fleet-sim terminals.

Everything runs as it would in a county: the manager (``fleet-manager``, its ingest and
HTTPS API with a certificate of the test CA) and fleet-sim in their own processes, each
simulated terminal with its own broker account under the deploy ACL, the registry
imported from ``fleet-sim --registry-csv``. kioskctl runs as a command; its progress
bars are checked on a real pseudo-terminal. One terminal, ``kctl-paper``, is played by
the test with that terminal's own account, to raise a paper alert on cue.
"""
from __future__ import annotations

import contextlib
import http.server
import io
import json
import os
import pty
import select
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet import credentials
from fleet import protocol as p
from fleet import sim_layout
from fleet import kioskctl
from fleet.kioskctl import duration
from fleet.kioskctl_view import table, width
from tests._fleet_manager import eventually
from tests._mosquitto import MANAGER, ROOT, Watcher, broker, free_port

pytestmark = pytest.mark.timeout(240)
SEED, COUNT = 11, 4
FLEET = sim_layout.layout(COUNT, "kctl", SEED, 2)
PAPER = "kctl-paper"  # a terminal the test speaks for
TOWNSHIP = FLEET[0].group
MEMBERS = sorted(t.id for t in FLEET if t.group == TOWNSHIP)


def run(*args: str, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env=env, **kwargs)


class Fleet:
    def __init__(self, url: str, token_file: str, ca_file: str, mq):
        self.url, self.token_file, self.ca_file, self.mq = url, token_file, ca_file, mq

    def ctl(self, *args: str, lang: str = "en", token_file: str | None = None) -> subprocess.CompletedProcess:
        return run("-m", "fleet.kioskctl", "--url", self.url, "--token-file", token_file or self.token_file,
                   "--ca-file", self.ca_file, "--lang", lang, *args)

    def json(self, *args: str):
        done = self.ctl(*args, "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory) -> Iterator[Fleet]:
    tmp = tmp_path_factory.mktemp("kioskctl")
    accounts = {t.id: t.groups for t in FLEET} | {PAPER: ()}
    with broker(tmp / "mq", accounts) as mq:
        db = f"sqlite:///{tmp / 'fleet.db'}"
        registry = tmp / "registry.csv"
        assert run("-m", "fleet.sim", "--count", str(COUNT), "--prefix", "kctl", "--seed", str(SEED),
                   "--township-count", "2", "--registry-csv", str(registry)).returncode == 0
        for command in (["add-operator", "tech", "--role", "technician"], ["add-operator", "view", "--role", "viewer"],
                        ["import-registry", str(registry)]):
            done = run("-m", "fleet.manager", *command, "--db", db)
            assert done.returncode == 0, done.stderr
        tokens = {}
        for name in ("tech", "view"):
            tokens[name] = tmp / f"{name}.token"
            tokens[name].write_text(run("-m", "fleet.manager", "add-token", name, "--db", db).stdout.strip())
        cert, key = credentials.sign(mq.dir / "ca", tmp, "manager", hosts=("localhost", "127.0.0.1"), client=False)
        port = free_port()
        url = f"https://localhost:{port}"
        logs = open(tmp / "processes.log", "w")
        manager = subprocess.Popen(
            [sys.executable, "-m", "fleet.manager", "--broker", mq.url, "--db", db, "--listen", f"127.0.0.1:{port}",
             "--tls-cert", str(cert), "--tls-key", str(key), "--public-url", url, "--log-level", "WARNING",
             "--mqtt-password-file", str(mq.accounts[MANAGER].password_file)],
            cwd=ROOT, stdout=logs, stderr=logs)
        certs = mq.accounts[PAPER].password_file.parent
        sim = subprocess.Popen(
            [sys.executable, "-m", "fleet.sim", "--broker", mq.url, "--count", str(COUNT), "--prefix", "kctl",
             "--seed", str(SEED), "--township-count", "2", "--speed", "10", "--fault-rate", "0",
             "--ca-file", str(mq.ca_file), "--password-file", str(certs / "{id}.password")],
            cwd=ROOT, stdout=logs, stderr=logs)
        try:
            f = Fleet(url, str(tokens["tech"]), str(mq.ca_file), mq)
            f.viewer_token = str(tokens["view"])
            def ready(done: subprocess.CompletedProcess) -> bool:  # every terminal online, its health in
                found = json.loads(done.stdout)["devices"] if done.returncode == 0 else []
                return len(found) == COUNT and all(d["disk_free_mb"] is not None for d in found)
            eventually(lambda: f.ctl("devices", "--state", "online", "--json"), ready)
            yield f
        finally:
            for proc in (sim, manager):
                proc.terminate()
                proc.wait(30)
            logs.close()


def test_devices_lists_the_registry_with_chinese_headers_lined_up(fleet):
    done = fleet.ctl("devices", "--township", FLEET[0].township, lang="zh_CN")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[:4] == ["终端", "服务站", "乡镇", "状态"]
    for kiosk in MEMBERS:
        row = next(line for line in lines if line.startswith(kiosk))
        terminal = next(t for t in FLEET if t.id == kiosk)
        assert terminal.station in row and "在线" in row
        assert width(row.split(terminal.station)[0]) == width(lines[0].split("服务站")[0])  # the column lines up
    assert lines[-1] == f"共 {len(MEMBERS)} 台终端，显示 {len(MEMBERS)} 台"


def test_device_shows_its_parts_and_an_unknown_one_exits_2(fleet):
    done = fleet.ctl("device", FLEET[1].id)
    assert done.returncode == 0, done.stderr
    assert FLEET[1].station in done.stdout and "receipt" in done.stdout and "paper=ok" in done.stdout
    missing = fleet.ctl("device", "kctl-nobody")
    assert missing.returncode == 2 and missing.stderr.startswith("kioskctl: Not found:")


def test_stations_show_tiers_and_their_thresholds(fleet):
    data = fleet.json("stations")
    assert {s["name"] for s in data["stations"]} >= {t.station for t in FLEET}
    done = fleet.ctl("stations", lang="zh_CN")
    assert done.returncode == 0 and "人均日办件量" in done.stdout and "统计范围：最近 30 天" in done.stdout


def test_an_alert_is_listed_acknowledged_and_cannot_be_acknowledged_twice(fleet):
    kiosk = Watcher(fleet.mq, PAPER, subscribe=())  # the terminal itself, with its own account
    try:
        stamp = p.Stamp(p.now(), 0, "paperboot")
        kiosk.publish(p.state_topic(PAPER), p.State(stamp, "online", 0, "1.0", "纸尽村便民服务站").to_json(), retain=True)
        part = p.DeviceHealth("receipt_printer", "online", {"paper": "out", "cover": "closed"})
        kiosk.publish(p.health_topic(PAPER), p.Health(p.Stamp(p.now(), 1, "paperboot"), {"receipt": part}).to_json())
    finally:
        kiosk.close()
    alerts = eventually(lambda: fleet.json("alerts", "--open")["alerts"],
                        lambda found: any(a["device"] == PAPER for a in found))
    alert = next(a for a in alerts if a["device"] == PAPER)
    listed = fleet.ctl("alerts", "--open", lang="zh_CN")
    assert any(line.startswith(str(alert["id"])) and PAPER in line and "待处理" in line
               for line in listed.stdout.splitlines())
    assert fleet.ctl("alerts", "ack", str(alert["id"]), token_file=fleet.viewer_token).returncode == 2  # a viewer
    acked = fleet.ctl("alerts", "ack", str(alert["id"]), lang="zh_CN")
    assert acked.returncode == 0 and acked.stdout.strip() == f"告警 {alert['id']} 已确认"
    again = fleet.ctl("alerts", "ack", str(alert["id"]))
    assert again.returncode == 2 and "refused the request" in again.stderr
    assert all(a["id"] != alert["id"] for a in fleet.json("alerts", "--open")["alerts"])
    assert fleet.ctl("alerts", "ack").returncode == 2  # no number


def test_a_group_job_watched_line_by_line_exits_0_when_all_succeed(fleet):
    done = fleet.ctl("job", "maintenance", "--args", '{"on": true}', "--group", TOWNSHIP, "--watch", "--timeout", "2m")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Job ") and f"{len(MEMBERS)} terminals" in lines[0]
    for kiosk in MEMBERS:
        assert f"{kiosk}  succeeded  100%" in lines
    assert lines[-1] == f"succeeded {len(MEMBERS)}"
    eventually(lambda: {d["id"]: d["state"] for d in fleet.json("devices", "--township", FLEET[0].township)["devices"]},
               lambda found: all(found[k] == "maintenance" for k in MEMBERS))
    fleet.ctl("job", "maintenance", "--args", '{"on": false}', "--group", TOWNSHIP, "--watch")


def test_a_rejected_job_exits_1_with_the_terminals_reason(fleet):
    done = fleet.ctl("job", "maintenance", "--args", '{"on": "yes"}', "--device", FLEET[2].id, "--watch")
    assert done.returncode == 1
    assert f"{FLEET[2].id}  rejected  0%  (Bad arguments: args.on must be true or false)" in done.stdout


def test_watching_on_a_terminal_draws_progress_bars(fleet):
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "fleet.kioskctl", "--url", fleet.url, "--token-file", fleet.token_file, "--ca-file",
         fleet.ca_file, "job", "push_content", "--args", json.dumps({"sha256": "ab" * 32}), "--device", FLEET[3].id,
         "--watch"], cwd=ROOT, stdout=secondary, stderr=secondary)
    os.close(secondary)
    screen = b""
    while True:
        ready, _, _ = select.select([primary], [], [], 60)
        try:
            chunk = os.read(primary, 4096) if ready else b""
        except OSError:  # the other side closed
            chunk = b""
        if not chunk:
            break
        screen += chunk
    os.close(primary)
    assert proc.wait(30) == 0
    text = screen.decode("utf-8")
    assert "\x1b[2K" in text and "\x1b[1F" in text  # the bar is redrawn in place
    assert f"{FLEET[3].id}  {'█' * 24} 100%  成功" in text  # Chinese by default
    assert "执行中" in text  # it was seen on its way


def test_exit_codes_for_a_missing_token_a_wrong_one_bad_input_and_no_manager(fleet, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSKCTL")}
    no_token = run("-m", "fleet.kioskctl", "--url", fleet.url, "--lang", "en", "devices", env=env)
    assert no_token.returncode == 2 and "No API token" in no_token.stderr
    wrong = tmp_path / "wrong.token"
    wrong.write_text("not-a-token")
    refused = fleet.ctl("devices", token_file=str(wrong))
    assert refused.returncode == 2 and "does not accept this token" in refused.stderr
    assert fleet.ctl("job", "reboot", "--device", "a", "--group", "b").returncode == 2
    bad_json = fleet.ctl("job", "reboot", "--device", FLEET[0].id, "--args", "{on}")
    assert bad_json.returncode == 2 and "--args is not JSON" in bad_json.stderr
    unknown_op = fleet.ctl("job", "fly", "--device", FLEET[0].id)
    assert unknown_op.returncode == 2 and "op must be one of" in unknown_op.stderr
    gone = run("-m", "fleet.kioskctl", "--url", f"https://localhost:{free_port()}", "--token-file", fleet.token_file,
               "--lang", "en", "devices")
    assert gone.returncode == 3 and "Cannot reach the fleet manager" in gone.stderr


def test_a_watch_that_outlasts_its_timeout_exits_3(fleet):
    done = fleet.ctl("job", "reboot", "--device", PAPER, "--watch", "--timeout", "3s")  # nobody runs it
    assert done.returncode == 3 and "Gave up waiting for job" in done.stderr
    assert f"{PAPER}  queued  0%" in done.stdout


def test_durations_and_tables():
    assert [duration(x) for x in ("90", "90s", "10m", "2h", "1d")] == [90, 90, 600, 7200, 86400]
    with pytest.raises(Exception):
        duration("ten minutes")
    assert table(["名称", "n"], [["石桥村", "1"], ["ab", "22"]]).splitlines() == ["名称    n", "石桥村  1", "ab      22"]


class Answering:
    """A plain HTTP server that answers every request with ``body`` (a manager gone wrong, or a
    misconfigured proxy in front of it)."""

    def __init__(self):
        self.body, self.status = b"", 200
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self):
                self.send_response(outer.status)
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body)

            do_GET = do_POST = answer

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture(scope="module")
def answering(tmp_path_factory):
    server = Answering()
    server.token_file = tmp_path_factory.mktemp("answering") / "token"
    server.token_file.write_text("t")
    yield server
    server.server.shutdown()


def test_a_manager_answer_that_is_not_json_exits_3(answering):
    answering.body, answering.status = b"<html>proxy</html>", 200
    done = run("-m", "fleet.kioskctl", "--url", answering.url, "--lang", "en", "devices",
               env={**os.environ, "KIOSKCTL_TOKEN": "t"})
    assert done.returncode == 3 and "not JSON" in done.stderr


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=12)
COMMANDS = (["devices"], ["device", "kctl-x"], ["alerts"], ["alerts", "ack", "1"], ["stations"],
            ["job", "reboot", "--device", "kctl-x", "--watch", "--timeout", "0s"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answer=st.one_of(JSON.map(lambda v: json.dumps(v).encode()), st.binary(max_size=64)),
       status=st.sampled_from([200, 201, 400, 401, 403, 404, 409, 422, 500, 502]),
       command=st.sampled_from(COMMANDS))
def test_any_answer_from_the_manager_ends_in_a_message_and_an_exit_code(answering, answer, status, command):
    answering.body, answering.status = answer, status
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = kioskctl.main(["--url", answering.url, "--token-file", str(answering.token_file), "--lang", "en",
                              *command])
    assert code in (0, 1, 2, 3)
    if code >= 2:
        assert err.getvalue().startswith("kioskctl: ")
