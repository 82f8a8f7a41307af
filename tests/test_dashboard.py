"""The fleet dashboard in headless Chromium (Debian's, driven by Playwright), against the real thing:
a ``fleet-manager`` process (HTTPS, its ingest process, its job publisher) on a real mosquitto,
simulated terminals from ``fleet-sim`` with a month of history behind them (written through
the manager's writer), and one kiosk's real fleet agent whose receipt printer runs out of paper.

Each page is also saved at desktop and tablet sizes, and looked at (the page it should be, not
blank): into a temporary directory, or into $FLEET_SHOTS when set. The committed screenshots are
refreshed so: ``FLEET_SHOTS=docs/screenshots/fleet .venv/bin/python -m pytest tests/test_dashboard.py``.
"""
from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import select

from fleet import auth, credentials, sim_layout
from fleet import protocol as p
from fleet.db import Database
from fleet.models import TIER_CASES_PER_STAFF, Alert, AuditEntry, Device, Job, JobTarget
from kiosk.fleet_agent import FleetAgent, FleetOptions
from tests._fleet_history import seed
from tests._fleet_manager import eventually
from tests._mosquitto import MANAGER, ROOT, WAIT_S, broker, free_port
from tests.test_fleet_agent import Printer, _DeviceList

pytestmark = pytest.mark.timeout(300)
playwright = pytest.importorskip("playwright.sync_api")
expect = playwright.expect

SIM = sim_layout.layout(6, "dash", 11, 2)
PAPER = "kiosk-p"  # a kiosk's own agent, with a printer the test runs out of paper
PASSWORD = "secret-password"
ROLES = {"viewer-1": "viewer", "operator-1": "operator", "technician-1": "technician", "clerk-1": "viewer"}
LOCKED = "clerk-1"  # the operator whose sign-in the test locks
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SIZES = {"desktop": {"width": 1440, "height": 900}, "tablet": {"width": 820, "height": 1180}}
UI_WAIT_MS = WAIT_S * 2000  # how long a page may take to show what ingest is writing
expect.set_options(timeout=UI_WAIT_MS)


# -- the fleet: broker, manager process, simulated terminals ------------------------------------
@pytest.fixture(scope="module")
def mq(tmp_path_factory):
    with broker(tmp_path_factory.mktemp("dash-mq"), {**{t.id: t.groups for t in SIM}, PAPER: ()}) as b:
        yield b


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """The manager's directory: its database, certificate and log."""
    return tmp_path_factory.mktemp("dash-manager")


@pytest.fixture(scope="module")
def manager(mq, home) -> Iterator[str]:
    """``fleet-manager`` in its own process, over HTTPS; the database seeded with the sim's history."""
    url = f"sqlite:///{home / 'fleet.db'}"
    db = Database(url).create()
    seed(db, SIM, 30, p.now(), seed=11, fault_rate=4.0)
    db.close()
    for name, role in ROLES.items():
        (home / "pw").write_text(PASSWORD)
        run_manager("add-operator", name, "--role", role, "--password-file", str(home / "pw"), "--db", url)
    cert, key = credentials.sign(mq.dir / "ca", home, "manager", hosts=("localhost", "127.0.0.1"), client=False)
    port = free_port()
    log = (home / "manager.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "fleet.manager", "--broker", mq.url, "--db", url, "--listen", f"127.0.0.1:{port}",
         "--tls-cert", str(cert), "--tls-key", str(key), "--public-url", f"https://localhost:{port}",
         "--mqtt-password-file", str(mq.accounts[MANAGER].password_file), "--log-level", "WARNING"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
    base = f"https://localhost:{port}"
    try:
        with httpx.Client(verify=ssl.create_default_context(cafile=mq.ca_file)) as http:
            def up() -> bool:
                assert proc.poll() is None, "fleet-manager exited: " + (home / "manager.log").read_text()
                with contextlib.suppress(httpx.TransportError):
                    return http.get(f"{base}/login").status_code == 200
                return False
            eventually(up)
        yield base
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def run_manager(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "fleet.manager", *args], cwd=ROOT, check=True, capture_output=True)


@pytest.fixture(scope="module")
def db(manager, home) -> Iterator[Database]:
    """The manager's database, read beside it (what the pages should show)."""
    database = Database(f"sqlite:///{home / 'fleet.db'}")
    yield database
    database.close()


@pytest.fixture(scope="module")
def sim(mq, manager) -> Iterator[None]:
    certs = mq.accounts[SIM[0].id].password_file.parent
    proc = subprocess.Popen(
        [sys.executable, "-m", "fleet.sim", "--broker", mq.url, "--count", str(len(SIM)), "--prefix", "dash",
         "--seed", "11", "--township-count", "2", "--password-file", str(certs / "{id}.password"),
         "--ca-file", str(mq.ca_file)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield
    proc.terminate()
    proc.wait(30)


@pytest.fixture(scope="module")
def paper_kiosk(mq, manager, db, tmp_path_factory) -> Iterator[Printer]:
    """The kiosk's agent, once the manager has its (retained) state: ingest is listening then."""
    printer = Printer("receipt")
    printer.probe()
    options = FleetOptions(broker=mq.url, password_file=str(mq.accounts[PAPER].password_file),
                           buffer_dir=str(tmp_path_factory.mktemp("dash-kiosk")), health_interval_s=3600,
                           metrics_interval_s=3600)
    agent = FleetAgent(PAPER, options, station="石桥村便民服务站", version="1.4.2", devices=_DeviceList([printer]))
    agent.start()

    def known() -> bool:
        with db.session() as s:
            device = s.get(Device, PAPER)
            return device is not None and device.state == "online"
    eventually(known)
    yield printer
    agent.stop()
    printer.close()


# -- the browser ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    """Where the screenshots go: $FLEET_SHOTS (to refresh docs/screenshots/fleet), else a temporary directory."""
    return Path(os.environ["FLEET_SHOTS"]) if os.environ.get("FLEET_SHOTS") else tmp_path_factory.mktemp("fleet-shots")


@contextlib.contextmanager
def signed_in(browser, base: str, name: str, size: str = "desktop"):
    context = browser.new_context(viewport=SIZES[size], ignore_https_errors=True, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(UI_WAIT_MS)
    page.goto(f"{base}/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button")
    page.wait_for_url(f"{base}/")
    try:
        yield page
    finally:
        context.close()


def device_row(page, kiosk: str):
    return page.locator("table.list tbody tr", has=page.locator(f"a[href='/devices/{kiosk}']"))


def reload_until(page, url: str, selector: str) -> None:
    """Load ``url`` again until ``selector`` is on it (what ingest writes arrives in its own time)."""
    def shown() -> bool:
        page.goto(url)
        return page.locator(selector).count() > 0
    eventually(shown)


def test_pages_need_a_sign_in_and_a_wrong_password_is_refused(browser, manager, shots):
    context = browser.new_context(viewport=SIZES["desktop"], ignore_https_errors=True)
    page = context.new_page()
    page.goto(f"{manager}/alerts?state=open")
    assert page.url == f"{manager}/login?next=%2Falerts%3Fstate%3Dopen"
    save(page, shots, "login", manager, "/login")
    page.fill("input[name=name]", "operator-1")
    page.fill("input[name=password]", "not-the-password")
    page.click("form.login button")
    expect(page.locator("p.error")).to_have_text("用户名或密码错误。")
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button")
    page.wait_for_url(f"{manager}/alerts?state=open")  # back where the operator was going
    page.click("text=退出登录")
    expect(page.locator("p.notice")).to_have_text("您已退出登录。")
    page.goto(f"{manager}/")
    assert "/login" in page.url
    context.close()


def test_too_many_wrong_passwords_lock_the_name_and_the_sign_in_page_says_for_how_long(browser, manager, db):
    context = browser.new_context(viewport=SIZES["desktop"], ignore_https_errors=True)
    page = context.new_page()
    page.goto(f"{manager}/login")

    def sign_in(password: str):
        page.fill("input[name=name]", LOCKED)
        page.fill("input[name=password]", password)
        with page.expect_response(lambda r: r.url == f"{manager}/login" and r.request.method == "POST") as answer:
            page.click("form.login button")
        return answer.value
    for _ in range(auth.NAME_FAILURES):
        assert sign_in("not-the-password").status == 401
    locked = sign_in(PASSWORD)  # even the right one, while the name is locked
    assert locked.status == 429 and 14 * 60 < int(locked.headers["retry-after"]) <= 15 * 60 + 1
    expect(page.locator("p.error")).to_have_text("密码错误次数过多，请 15 分钟后再试。")
    expect(page.locator("input[name=name]")).to_have_value(LOCKED)
    context.close()
    with db.session() as s:  # with the browser's address, so the limit per address counts the dashboard too
        tried = s.scalars(select(AuditEntry).where(AuditEntry.operator == LOCKED).order_by(AuditEntry.id)).all()
    assert [e.action for e in tried] == ["login.failed"] * auth.NAME_FAILURES + ["login.locked"]
    assert {(e.target, e.detail["via"]) for e in tried} == {("127.0.0.1", "dashboard")}


def test_the_overview_counts_and_lists_the_fleet_problems_first(browser, manager, sim, paper_kiosk, db, shots):
    paper_kiosk._set_state(paper_kiosk.state.status, paper="out")
    with signed_in(browser, manager, "viewer-1") as page:
        reload_until(page, f"{manager}/?q={PAPER}", f"tr:has(a[href='/devices/{PAPER}']) .badge.alert")
        page.goto(f"{manager}/")
        rows = page.locator("table.list tbody tr")
        expect(rows).to_have_count(len(SIM) + 1)
        trouble = ["trouble" in (row.get_attribute("class") or "") for row in rows.all()]
        assert trouble[0] and trouble == sorted(trouble, reverse=True)  # every terminal in trouble above the others
        assert "trouble" in (device_row(page, PAPER).get_attribute("class") or "")
        save(page, shots, "overview", manager, "/")
        tiles = dict(zip(page.locator(".tiles").first.locator("span").all_inner_texts(),
                         page.locator(".tiles").first.locator("strong").all_inner_texts()))
        assert tiles["台终端"] == str(len(SIM) + 1)
        township = SIM[0].township
        page.click(f".townships a:text('{township}')")
        expect(rows).to_have_count(sum(t.township == township for t in SIM))
        page.select_option("select[name=township]", "")
        page.check("input[name=problems]")
        page.click("form.filters button")
        expect(device_row(page, PAPER)).to_have_count(1)
        for row in rows.all():
            expect(row.locator(".badge.alert")).to_have_count(1)


def test_a_device_page_shows_its_parts_health_events_and_a_screenshot_job(browser, manager, sim, db, shots):
    kiosk = SIM[1].id
    with signed_in(browser, manager, "operator-1") as page:
        reload_until(page, f"{manager}/devices/{kiosk}", "h1 .badge.s-online")  # the live sim has come
        expect(page.locator("h1")).to_contain_text(kiosk)
        expect(page.locator("td.strip svg")).to_have_count(6)  # each part's last day
        assert page.locator("dd svg.chart").count() == 1  # the sessions sparkline of the history
        page.select_option("#job-op", "screenshot")
        page.click(".job-form button")
        page.wait_for_url(re.compile(r"/jobs/job-"))
        expect(page.locator("tr.target[data-status=SUCCEEDED]")).to_have_count(1)
        page.goto(f"{manager}/devices/{kiosk}")
        shot = page.locator("img.shot")
        expect(shot).to_be_visible()
        assert page.evaluate("document.querySelector('img.shot').naturalWidth") == 480  # the sim's PNG, decoded
        save(page, shots, "device", manager, f"/devices/{kiosk}")


def test_an_operator_acknowledges_an_alert_with_a_note(browser, manager, paper_kiosk, db, shots):
    paper_kiosk._set_state(paper_kiosk.state.status, paper="out")
    with signed_in(browser, manager, "operator-1") as page:
        reload_until(page, f"{manager}/alerts?rule=paper&state=open", f"tr:has(a[href='/devices/{PAPER}'])")
        row = page.locator("tr", has=page.locator(f"a[href='/devices/{PAPER}']"))
        expect(row).to_have_count(1)
        save(page, shots, "alerts", manager, "/alerts")
        row.locator("input[name=note]").fill("已通知代办员换纸")
        row.locator("button").click()
        expect(page.locator("p.notice")).to_have_text("告警已确认。")
        page.goto(f"{manager}/alerts?state=acknowledged")
        acked = page.locator("tr", has=page.locator(f"a[href='/devices/{PAPER}']"))
        expect(acked.locator(".note")).to_contain_text("已通知代办员换纸")
        expect(acked.locator("button")).to_have_text("解除")
    with db.session() as s:
        alert = s.scalar(select(Alert).where(Alert.device_id == PAPER, Alert.rule == "paper"))
        audit = s.scalar(select(AuditEntry).where(AuditEntry.action == "alert.ack", AuditEntry.target == PAPER))
    assert (alert.state, alert.acknowledged_by) == ("acknowledged", "operator-1")
    assert audit.operator == "operator-1" and audit.detail["note"] == "已通知代办员换纸"


def test_a_job_to_a_group_is_issued_and_its_progress_appears(browser, manager, sim, db, shots):
    group = SIM[0].group
    members = [t.id for t in SIM if t.group == group]
    with signed_in(browser, manager, "operator-1") as page:
        page.goto(f"{manager}/jobs")
        page.select_option("#job-op", "maintenance")
        expect(page.locator("#job-args")).to_have_value('{"on": true}')
        page.fill("input[name=group]", group)
        page.click(".job-form button")
        page.wait_for_url(re.compile(r"/jobs/job-"))
        job_id = page.url.rsplit("/", 1)[1]
        expect(page.locator("tr.target")).to_have_count(len(members))
        expect(page.locator("tr.target[data-status=SUCCEEDED]")).to_have_count(len(members))  # the page refreshes
        expect(page.locator("#job-progress")).to_have_text("100%")
        save(page, shots, "job", manager, f"/jobs/{job_id}")
        page.goto(f"{manager}/jobs")
        save(page, shots, "jobs", manager, "/jobs")
        page.goto(f"{manager}/?state=maintenance")
        expect(page.locator("table.list tbody tr")).to_have_count(len(members))
        # an operator may not reboot: the form does not offer it and the server refuses it
        assert "reboot" not in page.goto(f"{manager}/jobs").text()
        refused = page.request.post(f"{manager}/jobs", form={"op": "reboot", "args": "{}", "device": members[0]})
        assert refused.status == 403 and "技术员" in refused.text()
        missing = page.request.post(f"{manager}/jobs",
                                    form={"op": "screenshot", "args": "{}", "device": "kiosk-nowhere"})
        assert missing.status == 404 and "没有编号为 kiosk-nowhere 的终端。" in missing.text()  # the reader's language
    with db.session() as s:
        job = s.get(Job, job_id)
        targets = s.scalars(select(JobTarget).where(JobTarget.job_id == job_id)).all()
        assert (job.op, job.issuer, job.target_kind, job.target) == ("maintenance", "operator-1", "group", group)
        assert sorted(t.device_id for t in targets) == members and {t.status for t in targets} == {p.SUCCEEDED}
        assert s.scalar(select(AuditEntry).where(AuditEntry.action == "job.issue", AuditEntry.target == group))
    with signed_in(browser, manager, "technician-1") as page:  # maintenance off again, for the other tests
        page.goto(f"{manager}/jobs")
        page.select_option("#job-op", "maintenance")
        page.fill("#job-args", '{"on": false}')
        page.fill("input[name=group]", group)
        page.click(".job-form button")
        expect(page.locator("tr.target[data-status=SUCCEEDED]")).to_have_count(len(members))


def test_a_viewer_can_watch_but_not_issue_jobs_or_acknowledge(browser, manager, db, paper_kiosk):
    paper_kiosk._set_state(paper_kiosk.state.status, paper="out")

    def unresolved() -> Alert | None:
        with db.session() as s:
            return s.scalar(select(Alert).where(Alert.device_id == PAPER, Alert.state != "resolved"))
    alert = eventually(unresolved)
    with signed_in(browser, manager, "viewer-1") as page:
        page.goto(f"{manager}/jobs")
        expect(page.locator(".job-form")).to_have_count(0)
        expect(page.locator("main")).to_contain_text("可以查看任务，但不能下发任务")
        page.goto(f"{manager}/devices/{SIM[0].id}")
        expect(page.locator(".job-form")).to_have_count(0)
        page.goto(f"{manager}/alerts")
        expect(page.locator("form.ack")).to_have_count(0)
        refused = page.request.post(f"{manager}/jobs", form={"op": "maintenance", "args": '{"on": true}',
                                                               "device": SIM[0].id})
        assert refused.status == 403
        action = "ack" if alert.state == "open" else "resolve"
        assert page.request.post(f"{manager}/alerts/{alert.id}/{action}", form={"note": "x"}).status == 403
        assert unresolved().state == alert.state
    with db.session() as s:
        assert s.scalar(select(Job).where(Job.issuer == "viewer-1")) is None
        assert s.scalar(select(AuditEntry).where(AuditEntry.operator == "viewer-1",
                                                 AuditEntry.action.like("alert.%"))) is None


def test_station_figures_charts_and_csv_exports(browser, manager, sim, paper_kiosk, shots):
    with signed_in(browser, manager, "viewer-1") as page:
        with page.expect_download() as download:
            page.click("a[href='/api/v1/export/devices.csv']")
        assert Path(download.value.path()).read_text(encoding="utf-8").startswith("\ufeffid,station,township")
        reload_until(page, f"{manager}/stations", "tr:has-text('石桥村便民服务站')")  # the paper kiosk's, as it came
        rows = page.locator("table.list tbody tr")
        expect(rows).to_have_count(len({t.station for t in SIM}) + 1)
        first = rows.filter(has_text=SIM[0].station)
        expect(first.locator("td").nth(7)).to_contain_text(f"≥ {TIER_CASES_PER_STAFF[SIM[0].tier]}")
        assert re.fullmatch(r"\d+\.\d%\s[✓✗]", first.locator("td").nth(8).inner_text())  # the one-stop rate
        save(page, shots, "stations", manager, "/stations")
        first.locator("a").click()
        expect(page.locator(".charts svg.chart")).to_have_count(5)
        # a bar with a value (an hour with none is drawn at zero height, which is not visible)
        expect(page.locator(".charts svg .bar:not([height='0.0'])").first).to_be_visible()
        save(page, shots, "station", manager, page.url.removeprefix(manager))
        page.click("text=近24小时")
        expect(page.locator(".charts svg.chart")).to_have_count(5)
        for path, header in (("/stations.csv?days=30", "name,township,tier"),
                             ("/api/v1/export/alerts.csv?state=resolved", "id,rule,device")):
            answer = page.request.get(manager + path)
            rows_csv = list(csv.reader(io.StringIO(answer.text())))
            assert answer.text().startswith("\ufeff" + header) and len(rows_csv) > 1


def test_english_on_request(browser, manager):
    with signed_in(browser, manager, "viewer-1") as page:
        page.click("a.lang")
        expect(page.locator("h1")).to_have_text("Fleet overview")
        page.goto(f"{manager}/stations")
        expect(page.locator("h1")).to_have_text("Station figures")


def save(page, shots: Path, name: str, base: str, path: str) -> None:
    """The page as it is now, and at the other size, into ``shots``; each image looked at."""
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / f"{name}-desktop.png"), full_page=True)
    look_at(shots / f"{name}-desktop.png", SIZES["desktop"]["width"])
    other = page.context.browser.new_context(viewport=SIZES["tablet"], ignore_https_errors=True)
    other.add_cookies(page.context.cookies())
    tablet = other.new_page()
    tablet.goto(base + path)
    assert tablet.url == base + path  # signed in there too, not sent to the sign-in page
    tablet.screenshot(path=str(shots / f"{name}-tablet.png"), full_page=True)
    look_at(shots / f"{name}-tablet.png", SIZES["tablet"]["width"])
    other.close()


def look_at(png: Path, width: int) -> None:
    """A page at ``width`` with something on it: light background, dark text, some colour."""
    image = Image.open(png).convert("RGB")
    assert image.width == width and image.height >= 300, image.size
    grey = image.convert("L")
    dark = sum(grey.histogram()[:100]) / (image.width * image.height)
    assert 0.002 < dark < 0.5, f"{png.name}: {dark:.1%} dark pixels"  # text on a light page, not blank, not black
    assert len(image.getcolors(1 << 20) or ()) > 50, f"{png.name}: hardly any colours"


# -- what comes from outside: form fields and query parameters ------------------------------------
@pytest.fixture(scope="module")
def operator_http(manager, mq) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=manager, verify=ssl.create_default_context(cafile=mq.ca_file), timeout=WAIT_S) as http:
        assert http.post("/login", data={"name": "operator-1", "password": PASSWORD}).status_code == 303
        yield http


TEXT = st.text(max_size=80)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(
    st.fixed_dictionaries({"path": st.just("/jobs"), "op": st.one_of(st.sampled_from(p.OPS), TEXT),
                           "args": st.one_of(TEXT, st.recursive(st.none() | st.integers() | TEXT, lambda c: st.lists(c)
                                                                 | st.dictionaries(TEXT, c), max_leaves=5)
                                             .map(json.dumps)),
                           "device": TEXT, "group": TEXT, "expires_min": st.one_of(TEXT, st.integers().map(str))}),
    st.fixed_dictionaries({"path": st.builds("/alerts/{}/{}".format, st.integers(-5, 10**6),
                                             st.sampled_from(["ack", "resolve", "x", ""])),
                           "note": st.text(max_size=600), "next": TEXT}),
    st.fixed_dictionaries({"path": st.just("/login"), "name": TEXT, "password": TEXT, "next": TEXT})))
def test_hostile_form_fields_get_an_answer_never_a_server_error(operator_http, form):
    form = dict(form)
    answer = operator_http.post(form.pop("path"), data=form)
    assert answer.status_code < 500, answer.text[:300]
    location = answer.headers.get("location", "")
    assert not location or (location.startswith("/") and not location.startswith("//"))  # never off the site


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(["/", "/alerts", "/stations", "/jobs", "/stations/1", "/devices/dash-00000"]),
       st.dictionaries(st.sampled_from(["state", "township", "q", "page", "problems", "rule", "days", "notice"]), TEXT))
def test_hostile_query_parameters_get_an_answer_never_a_server_error(operator_http, path, query):
    assert operator_http.get(path, params=query).status_code < 500


# -- the charts, on their own ---------------------------------------------------------------------
def test_charts_escape_labels_leave_gaps_and_draw_the_target():
    from fleet.web import charts

    svg = charts.series(["<b>1</b>", "2", "3"], [4.0, None, 2.0], "t&t", target=3.0, target_label="≥ 3")
    assert svg.count('class="bar"') == 2 and "<b>" not in svg and "&lt;b&gt;" in svg and "t&amp;t" in svg
    assert 'class="target"' in svg
    line = charts.series(["a", "b"], [None, None], "empty", kind="line")
    assert 'class="empty"' in line and "polyline" not in line
    assert charts.ranking([("甲", 3), ("乙", 1)], "items").count('class="bar"') == 2
    assert str(charts.sparkline([], "none")) == "-"
