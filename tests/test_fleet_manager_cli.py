"""``fleet-manager`` as it is run: its console commands, then the server as a subprocess with
two ingest processes (on SQLite and on PostgreSQL), HTTPS, a real mosquitto and a kiosk's real
agent; operators sign in with a password (session cookie) or a token; registry import and CSV export; no ingest process outlives
a manager killed with SIGKILL."""
from __future__ import annotations

import signal
import ssl
import subprocess
import sys

import httpx
import pytest

from fleet import credentials
from kiosk.fleet_agent import FleetAgent, FleetOptions
from tests._fleet_manager import eventually
from tests._mosquitto import MANAGER, ROOT, WAIT_S, broker, free_port
from tests._postgres import db_url  # noqa: F401  (a fixture: on SQLite and on PostgreSQL)
from tests._processes import alive, command_line, descendants

pytestmark = pytest.mark.timeout(180)
REGISTRY = ("id,station,township,group,tier,groups,residents,staff\n"
            "kiosk-a,石桥村便民服务站,青山镇,qingshan,demonstration,qingshan tier-demonstration,1200,2\n")


def fleet_manager(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fleet.manager", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=60, **kwargs)


def test_console_commands_then_the_server_with_two_ingest_processes(db_url, tmp_path):  # noqa: F811
    db = db_url.replace("postgresql+psycopg://", "postgresql://")  # as an operator writes it
    (tmp_path / "pw").write_text("correct horse battery\n")
    (tmp_path / "registry.csv").write_text(REGISTRY, encoding="utf-8")
    assert fleet_manager("add-operator", "li", "--role", "technician", "--password-file", str(tmp_path / "pw"),
                         "--db", db).returncode == 0
    refused = fleet_manager("add-operator", "li", "--role", "viewer", "--db", db)
    assert refused.returncode == 2 and "exists already" in refused.stderr
    token = fleet_manager("add-token", "li", "--label", "kioskctl", "--db", db).stdout.strip()
    assert fleet_manager("import-registry", str(tmp_path / "registry.csv"), "--db", db).stdout.strip() == \
        "1 stations, 1 terminals"
    with broker(tmp_path / "mq", {"kiosk-a": ("qingshan",)}) as b:
        cert, key = credentials.sign(b.dir / "ca", tmp_path, "manager", hosts=("localhost",), client=False)
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "fleet.manager", "--broker", b.url, "--db", db, "--listen", f"127.0.0.1:{port}",
             "--ingest-processes", "2", "--tls-cert", str(cert), "--tls-key", str(key),
             "--mqtt-password-file", str(b.accounts[MANAGER].password_file), "--log-level", "WARNING"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        options = FleetOptions(broker=b.url, password_file=str(b.accounts["kiosk-a"].password_file),
                               buffer_dir=str(tmp_path / "kiosk"), groups=("qingshan",), health_interval_s=3600,
                               metrics_interval_s=3600)
        kiosk = FleetAgent("kiosk-a", options, station="石桥村便民服务站", version="0.2.0")
        tls = ssl.create_default_context(cafile=b.ca_file)
        try:
            with httpx.Client(base_url=f"https://localhost:{port}", verify=tls, timeout=WAIT_S) as http:
                eventually(lambda: _up(http, token))
                kiosk.start()
                listed = eventually(lambda: http.get("/api/v1/devices", headers=_bearer(token)).json()["devices"],
                                    lambda d: d and d[0]["state"] == "online")
                assert (listed[0]["id"], listed[0]["township"], listed[0]["tier"], listed[0]["version"]) == \
                    ("kiosk-a", "青山镇", "demonstration", "0.2.0")
                assert http.post("/api/v1/login", json={"name": "li", "password": "wrong"}).status_code == 401
                signed_in = http.post("/api/v1/login", json={"name": "li", "password": "correct horse battery"})
                assert signed_in.json() == {"name": "li", "role": "technician"}
                assert "httponly" in signed_in.headers["set-cookie"].lower()
                assert http.get("/api/v1/overview").json()["by_state"] == {"online": 1}  # by the cookie
                exported = http.get("/api/v1/export/devices.csv")
                assert exported.content.startswith("\ufeffid,station".encode()) and "石桥村便民服务站" in exported.text
                http.post("/api/v1/logout")
                assert http.get("/api/v1/overview").status_code == 401
                actions = [e["action"] for e in http.get("/api/v1/audit", headers=_bearer(token)).json()["entries"]]
                assert actions[:3] == ["login", "login.failed", "registry.import"]
        finally:
            kiosk.stop()
            server.send_signal(signal.SIGTERM)
            rc = server.wait(30)
            errors = server.stderr.read()
            server.stderr.close()
        assert rc == 0, errors


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _up(http: httpx.Client, token: str) -> bool:
    try:
        return http.get("/api/v1/me", headers=_bearer(token)).status_code == 200
    except httpx.TransportError:
        return False


def test_the_ingest_processes_end_when_the_manager_is_killed(tmp_path):
    with broker(tmp_path / "mq", {}) as b:
        server = subprocess.Popen(
            [sys.executable, "-m", "fleet.manager", "--broker", b.url, "--db", f"sqlite:///{tmp_path / 'fleet.db'}",
             "--listen", f"127.0.0.1:{free_port()}", "--ingest-processes", "2",
             "--mqtt-password-file", str(b.accounts[MANAGER].password_file), "--log-level", "WARNING"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            eventually(lambda: all(f" as fleet-ingest-{i} " in b.log() for i in range(2)))  # both subscribed
            ingest = [pid for pid in descendants(server.pid) if "spawn_main" in command_line(pid)]
            assert len(ingest) == 2
            server.send_signal(signal.SIGKILL)
            server.wait()
            eventually(lambda: not any(alive(pid) for pid in ingest))
            eventually(lambda: all(f"Client fleet-ingest-{i} disconnected." in b.log() for i in range(2)))
        finally:
            server.kill()
            server.wait()
