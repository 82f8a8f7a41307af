"""The JSON API in-process (FastAPI's TestClient over the real app, on a real SQLite file and on a
private PostgreSQL server):
the registry import, station figures and series, CSV exports, operators and tokens, and the
upload endpoint's refusals. Jobs that reach kiosks are in test_fleet_manager.py; here no job is
published, so the publisher is never connected."""
from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from fleet import auth, registry
from fleet import protocol as p
from fleet.api import create_app
from fleet.broker import BrokerOptions
from fleet.db import Database
from fleet.deps import Context
from fleet.jobs import Jobs, Publisher
from fleet.models import AuditEntry, Job, JobTarget
from fleet.writer import Incoming, Writer
from tests._postgres import db_url  # noqa: F401  (a fixture: each test on SQLite and on PostgreSQL)

REGISTRY = ("id,station,township,group,tier,groups,residents,staff\n"
            "kiosk-a,石桥村便民服务站,青山镇,qingshan,standard,,1200,2\n"
            "kiosk-b,东河村便民服务站,青山镇,qingshan,simple,,800,1\n")


@pytest.fixture
def db(db_url):  # noqa: F811
    database = Database(db_url).create()
    yield database
    database.close()


@pytest.fixture
def client(db):
    jobs = Jobs(db, Publisher(BrokerOptions("mqtt://127.0.0.1:1")), "https://localhost:8443")
    with TestClient(create_app(Context(db, jobs, secure_cookies=False))) as test_client:
        yield test_client


@pytest.fixture
def technician(db):
    return as_role(db, "technician")


def as_role(db, role: str) -> dict[str, str]:
    with db.session(write=True) as s:
        _, secret = auth.issue_token(s, auth.add_operator(s, f"{role}-x", role), "api", "test")
    return {"Authorization": f"Bearer {secret}"}


def test_registry_import_then_station_figures_series_and_csv(db, client):
    technician, viewer = as_role(db, "technician"), as_role(db, "viewer")
    assert client.post("/api/v1/registry", content=REGISTRY, headers=viewer).status_code == 403
    bad = client.post("/api/v1/registry", content="id,station,township,tier\nkiosk-c,x,y,gold\n", headers=technician)
    assert bad.status_code == 400 and "line 2" in bad.json()["detail"]
    assert client.post("/api/v1/registry", content=REGISTRY, headers=technician).json() == {"stations": 2, "devices": 2}
    now = p.now()
    figures = p.Metrics(p.Stamp(now, 1, "boot"), 60.0, sessions=4, cases_submitted=3, cases_by_item={"dibao": 3},
                        queue=p.QueueFigures(2, 0, 2, 45.0),
                        evaluations={**dict.fromkeys(p.EVALUATION_LEVELS, 0), "satisfied": 1})
    Writer(db).write([Incoming(p.Topic("metrics", kiosk="kiosk-a"), figures, now)])
    stations = {s["name"]: s for s in client.get("/api/v1/stations?days=1", headers=viewer).json()["stations"]}
    stone = stations["石桥村便民服务站"]
    assert (stone["cases"], stone["cases_per_staff_day"], stone["tier_threshold"], stone["meets_tier"]) == (3, 1.5, 0.5, True)
    assert (stone["avg_wait_s"], stone["satisfaction"], stations["东河村便民服务站"]["cases"]) == (45.0, 1.0, 0)
    series = client.get(f"/api/v1/stations/{stone['id']}/series?days=1&bucket=hour", headers=viewer).json()
    assert [pt["sessions"] for pt in series["points"]] == [4] and series["cases_by_item"] == {"dibao": 3}
    assert client.get("/api/v1/stations/999/series", headers=viewer).status_code == 404
    exported = client.get("/api/v1/export/stations.csv?days=1", headers=viewer)
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert {r["name"]: r["cases"] for r in rows} == {"石桥村便民服务站": "3", "东河村便民服务站": "0"}
    hourly = client.get(f"/api/v1/export/metrics.csv?station={stone['id']}", headers=viewer).text
    assert hourly.splitlines()[0].lstrip("\ufeff") == "t,sessions,cases,prints,scans,queue_issued,avg_wait_s,satisfaction"


def test_operators_and_tokens_by_role(db, client):
    technician, viewer = as_role(db, "technician"), as_role(db, "viewer")
    new = {"name": "王芳", "role": "operator", "password": "long enough"}
    assert client.post("/api/v1/operators", json=new, headers=viewer).status_code == 403
    assert client.post("/api/v1/operators", json=new, headers=technician).status_code == 201
    assert client.post("/api/v1/operators", json={**new, "role": "admin"}, headers=technician).status_code == 400
    assert client.post("/api/v1/login", json={"name": "王芳", "password": "long enough"}).json()["role"] == "operator"
    made = client.post("/api/v1/tokens", json={"label": "phone", "days": 30}, headers=viewer).json()
    mine = {"Authorization": f"Bearer {made['token']}"}
    assert client.get("/api/v1/me", headers=mine).json() == {"name": "viewer-x", "role": "viewer"}
    assert [t["label"] for t in client.get("/api/v1/tokens", headers=viewer).json()["tokens"]] == ["test", "phone"]
    assert client.delete(f"/api/v1/tokens/{made['id']}", headers=viewer).json() == {"ok": True}
    assert client.get("/api/v1/me", headers=mine).status_code == 401
    assert client.get("/api/v1/me").json()["name"] == "王芳"  # the session cookie of the login above


def test_uploads_need_their_token_the_right_type_and_a_bounded_size(db, client):
    with db.session(write=True) as s:
        for job, op in (("job-s", "screenshot"), ("job-l", "collect_logs")):
            s.add(Job(id=job, op=op, target_kind="device", target="kiosk-a", issuer="li",
                      targets=[JobTarget(device_id="kiosk-a", upload_token_hash=auth.digest("t0ken"))]))
    url = "/api/v1/uploads/job-s/kiosk-a"
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 10
    assert client.post(url, params={"token": "wrong"}, content=png, headers={"content-type": "image/png"}).status_code == 403
    assert client.post(url, params={"token": "t0ken"}, content=b"log", headers={"content-type": "text/plain"}).status_code == 415
    assert client.post(url, params={"token": "t0ken"}, content=b"GIF89a", headers={"content-type": "image/png"}).status_code == 415
    too_big = client.post(url, params={"token": "t0ken"}, content=b"\0" * (16 * 1024 * 1024 + 1),
                          headers={"content-type": "image/png"})
    assert too_big.status_code == 413
    kept = client.post(url, params={"token": "t0ken"}, content=png, headers={"content-type": "image/png"})
    assert kept.status_code == 201 and kept.headers["location"] == f"/api/v1/uploads/{kept.json()['id']}"
    assert client.post(url, params={"token": "t0ken"}, content=png, headers={"content-type": "image/png"}).status_code == 403
    logs = client.post("/api/v1/uploads/job-l/kiosk-a", params={"token": "t0ken"}, content="日志\n".encode(),
                       headers={"content-type": "text/plain; charset=utf-8"})
    assert logs.status_code == 201
    viewer = as_role(db, "viewer")
    assert client.get(kept.headers["location"], headers=viewer).content == png
    assert client.get(logs.headers["location"], headers=viewer).text == "日志\n"
    assert client.get(kept.headers["location"]).status_code == 401


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                           max_leaves=10)
job_bodies = st.fixed_dictionaries({}, optional={"op": st.sampled_from(p.OPS) | st.text(max_size=10),
                                                 "args": json_values, "device": st.text(max_size=70),
                                                 "group": st.text(max_size=70), "expires_in_s": json_values})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=job_bodies | json_values)
def test_hostile_job_requests_are_refused_with_a_reason_never_a_crash(client, technician, body):
    answer = client.post("/api/v1/jobs", json=body, headers=technician)
    assert answer.status_code in (400, 404, 422, 503) and answer.json()["detail"]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300) | st.lists(st.lists(st.text(max_size=12), max_size=9), max_size=4).map(
    lambda rows: "id,station,township,tier,group,groups,residents,staff\n" + "\n".join(",".join(r) for r in rows)))
def test_any_registry_text_is_read_or_refused_with_a_line(text):
    try:
        rows = registry.parse(text)
    except registry.RegistryError as exc:
        assert str(exc)
    else:
        assert all(p.valid_id(r["id"]) and r["tier"] in ("demonstration", "standard", "simple") for r in rows)


def test_a_job_the_broker_does_not_take_is_failed_not_left_queued(db, client, technician):
    client.post("/api/v1/registry", content=REGISTRY, headers=technician)
    issued = client.post("/api/v1/jobs", json={"op": "reboot", "device": "kiosk-a"}, headers=technician)
    assert issued.status_code == 201  # recorded; the publisher here never reached a broker
    target = client.get(f"/api/v1/jobs/{issued.json()['id']}", headers=technician).json()["targets"][0]
    assert (target["status"], target["detail"]["code"]) == (p.FAILED, "job.not_sent")
    assert client.post("/api/v1/jobs", json={"op": "screenshot", "group": "nobody"}, headers=technician).status_code == 404


def test_wrong_passwords_lock_the_name_then_the_address_and_the_reason_is_in_the_readers_language(db, client):
    with db.session(write=True) as s:
        for name in ("wang", "li", "zhao"):
            auth.add_operator(s, name, "viewer", "right password")

    def sign_in(name: str, password: str, lang: str = "en"):
        return client.post("/api/v1/login", json={"name": name, "password": password},
                           headers={"Accept-Language": lang})
    for _ in range(auth.NAME_FAILURES - 1):
        assert sign_in("wang", "wrong").status_code == 401
    assert sign_in("wang", "right password").status_code == 200  # a good sign-in clears the count
    for _ in range(auth.NAME_FAILURES):
        assert sign_in("wang", "wrong", "zh-CN,zh;q=0.9").json()["detail"] == "用户名或密码错误。"
    locked = sign_in("wang", "right password", "zh-CN")
    assert locked.status_code == 429 and 14 * 60 < int(locked.headers["retry-after"]) <= 15 * 60 + 1
    assert locked.json()["detail"] == "密码错误次数过多，请 15 分钟后再试。"
    assert sign_in("li", "right password").status_code == 200  # another name from the same address
    with db.session() as s:
        assert auth.lockout_left(s, "wang", now=p.now() + auth.LOCKOUT) is None  # it ends by itself
        latest = s.scalars(select(AuditEntry).where(AuditEntry.operator == "wang").order_by(AuditEntry.id.desc()).limit(2))
        assert [e.action for e in latest] == ["login.locked", "login.failed"]
    for n in range(auth.ADDRESS_FAILURES - 2 * auth.NAME_FAILURES + 1):  # names that do not exist count too
        assert sign_in(f"guess-{n}", "wrong").status_code == 401
    assert sign_in("zhao", "right password").json()["detail"].startswith("Too many wrong passwords.")


def test_the_api_says_why_in_the_language_asked_for(db, client, technician):
    bad_op = {"op": "fly", "device": "kiosk-a"}
    chinese = client.post("/api/v1/jobs", json=bad_op, headers={**technician, "Accept-Language": "zh-CN,zh;q=0.9"})
    assert chinese.status_code == 400 and chinese.json()["detail"].startswith("任务类型须为以下之一：")
    client.cookies.set("fleet_lang", "en")  # the dashboard's choice outweighs the browser's
    english = client.post("/api/v1/jobs", json=bad_op, headers={**technician, "Accept-Language": "zh-CN"})
    assert english.json()["detail"].startswith("The op must be one of")
    client.cookies.clear()
    viewer = as_role(db, "viewer")
    refused = client.post("/api/v1/jobs", json={"op": "reboot", "device": "kiosk-a"},
                          headers={**viewer, "Accept-Language": "zh"})
    assert refused.status_code == 403
    assert refused.json()["detail"] == "此操作需要“运维员”角色，viewer-x 的角色是“查看员”。"
    assert client.get("/api/v1/me", headers={"Accept-Language": "zh"}).json()["detail"] == "请先登录。"
