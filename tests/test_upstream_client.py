"""The platform's client against the real sandbox (a subprocess on loopback): every call, each fault,
idempotency, resuming an interrupted upload, restarts, TLS."""
from __future__ import annotations

import datetime as dt
import hashlib
import http.client
import ipaddress
import json
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from drivers.idcard.identity import check_digit
from kiosk.cases import add_working_days
from kiosk.catalog.loader import BUNDLED, load_catalog
from kiosk.catalog.parse import parse_catalog
from kiosk.upstream import client as C
from kiosk.upstream.client import BadReply, Rejected, Unavailable, Upstream
from kiosk.upstream.options import UpstreamOptions
from kiosk.upstream.sandbox.app import PAGE
from kiosk.upstream.sandbox.process import SandboxProcess

PACE = 0.3
ON_THE_SPOT = "2000101000"  # 城乡居民基本医疗保险参保登记, 现场办结
TWENTY_DAYS = "0500101001"  # 城乡居民医保零星医疗费用报销, 20 working days
GOOD_ID = "44081119900307" + "123"
GOOD_ID += check_digit(GOOD_ID)
BAD_ID = GOOD_ID[:17] + ("0" if GOOD_ID[17] != "0" else "1")
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 2000  # 512 KB: three chunks


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    with SandboxProcess(tmp_path_factory.mktemp("sandbox") / "platform.db", pace=PACE) as process:
        yield process


@pytest.fixture
def up(sandbox, tmp_path):
    sandbox.clear_faults()
    client = Upstream(sandbox.options(tmp_path / "token"), "test-kiosk")
    yield client
    client.close()
    sandbox.clear_faults()


def request(ref: str, item: str = TWENTY_DAYS, id_number: str = GOOD_ID, pages: tuple[int, ...] = (1,),
            form: dict | None = None) -> dict:
    return {"ref": ref, "item_code": item, "applicant": {"name": "张三", "id_number": id_number, "phone": "13800138000"},
            "form": form or {"purpose": "报销"}, "agent": "",
            "materials": [{"index": i, "name": f"材料{i}", "pages": n} for i, n in enumerate(pages)]}


def submitted_case(up: Upstream, ref: str, **kwargs) -> tuple[str, dict]:
    case_no = up.create_case(ref, request(ref, **kwargs))["case_no"]
    for index, pages in enumerate(kwargs.get("pages", (1,))):
        for page in range(1, pages + 1):
            up.upload_material(case_no, index, f"材料{index}", page, PNG + ref.encode())
    return case_no, up.submit_case(case_no)


def settled(up: Upstream, case_no: str) -> dict:
    """The case once it reached completed or rejected (polled; the sandbox moves every PACE seconds)."""
    for _ in range(200):
        case = up.case(case_no)
        if case["status"] in ("completed", "rejected"):
            return case
        time.sleep(PACE / 3)
    raise AssertionError(f"{case_no} never settled: {case}")


# -- config -----------------------------------------------------------------------------
def test_options_check_url_and_timeout():
    assert UpstreamOptions(url="https://zwfw.example.gov.cn/kiosk").timeout_s == 10.0
    for bad in ("ftp://host", "https://", "zwfw.example.gov.cn", "https://h/p?x=1"):
        with pytest.raises(ValueError, match="url"):
            UpstreamOptions(url=bad)
    with pytest.raises(ValueError, match="timeout_s"):
        UpstreamOptions(url="https://h", timeout_s=0)


# -- the calls --------------------------------------------------------------------------
def test_catalog_sync_serves_the_bundled_catalog(up):
    reply = up.catalog()
    bundled = load_catalog(BUNDLED)
    synced = parse_catalog(reply["document"], "platform")
    assert (reply["version"], reply["region"]) == (bundled.version, bundled.region)
    assert [i.code.basic for i in synced] == [i.code.basic for i in bundled]


def test_create_is_exactly_once_per_key(up, sandbox):
    first = up.create_case("once-1", request("once-1"))
    again = up.create_case("once-1", request("once-1"))
    other = up.create_case("once-2", request("once-2"))
    assert first == again and first["status"] == "draft"
    assert other["case_no"] != first["case_no"]
    with pytest.raises(Rejected) as info:
        up.create_case("once-1", request("once-1", form={"purpose": "另一个"}))
    assert (info.value.code, info.value.status) == ("idempotency_key_reused", 422) and info.value.reason
    refs = [c["ref"] for c in sandbox.summary()["cases"]]
    assert refs.count("once-1") == 1 and refs.count("once-2") == 1


def test_concurrent_repeats_of_one_key_make_one_case(up, sandbox):
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: up.create_case("race-1", request("race-1")), range(16)))
    assert len({a["case_no"] for a in answers}) == 1
    assert [c["ref"] for c in sandbox.summary()["cases"]].count("race-1") == 1


def test_a_case_goes_from_submitted_to_completed_with_its_certificate(up):
    case_no, answer = submitted_case(up, "flow-1", pages=(2, 1))
    assert answer["status"] == "submitted" and not answer["on_the_spot"]
    assert answer["promised_date"] == add_working_days(dt.date.today(), 20).isoformat()
    assert up.submit_case(case_no)["submitted_at"] == answer["submitted_at"]  # idempotent
    case = settled(up, case_no)
    assert [h["status"] for h in case["history"]] == ["submitted", "accepted", "processing", "completed"]
    assert case["item_name"] == "城乡居民医保零星医疗费用报销" and case["reason"] == ""
    assert case["certificate"]["ready"] and case["certificate"]["verification_code"]
    pdf, code = up.certificate(case_no)
    assert code == case["certificate"]["verification_code"]
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    assert "办理结果通知书" in text and case_no in text and code in text and "城乡居民医保零星医疗费用报销" in text
    assert GOOD_ID not in text  # the ID number is masked


def test_an_on_the_spot_item_is_completed_at_submission(up):
    case_no, answer = submitted_case(up, "spot-1", item=ON_THE_SPOT)
    assert answer["on_the_spot"] and answer["status"] == "completed"
    assert answer["promised_date"] == dt.date.today().isoformat()
    assert up.case(case_no)["certificate"]["ready"]


def test_a_bad_id_number_is_refused_and_a_marked_form_denied(up):
    refused, _ = submitted_case(up, "refuse-1", id_number=BAD_ID)
    denied, _ = submitted_case(up, "deny-1", form={"purpose": "测试驳回"})
    case = settled(up, refused)
    assert [h["status"] for h in case["history"]] == ["submitted", "rejected"]
    assert "公民身份号码" in case["reason"] and not case["certificate"]["ready"]
    case = settled(up, denied)
    assert [h["status"] for h in case["history"]] == ["submitted", "accepted", "processing", "rejected"]
    assert "不予批准" in case["reason"]
    with pytest.raises(Rejected) as info:
        up.certificate(denied)
    assert info.value.code == "certificate_not_ready"


def test_submit_needs_every_page(up):
    case_no = up.create_case("missing-1", request("missing-1", pages=(2,)))["case_no"]
    up.upload_material(case_no, 0, "材料0", 1, PNG)
    with pytest.raises(Rejected) as info:
        up.submit_case(case_no)
    assert info.value.code == "materials_incomplete" and "材料0第2页" in info.value.reason
    with pytest.raises(Rejected) as info:
        up.upload_material(case_no, 1, "材料1", 1, PNG)
    assert info.value.code == "no_such_page"


def test_cases_of_a_person_newest_first_without_drafts(up):
    person = "44081119851111" + "456"
    person += check_digit(person)
    older, _ = submitted_case(up, "person-1", id_number=person)
    newer, _ = submitted_case(up, "person-2", id_number=person, item=ON_THE_SPOT)
    up.create_case("person-3", request("person-3", id_number=person))
    assert [c["case_no"] for c in up.cases_for(person)] == [newer, older]
    assert up.cases_for("11010119491001000X") == []


def test_unknown_case_and_unknown_item_are_rejected(up):
    with pytest.raises(Rejected) as info:
        up.case("44081100000000000000")
    assert (info.value.code, info.value.status) == ("not_found", 404)
    with pytest.raises(Rejected) as info:
        up.create_case("item-x", request("item-x", item="2099999000"))
    assert info.value.code == "unknown_item" and "2099999000" in info.value.reason


# -- uploads ------------------------------------------------------------------------------
def raw(sandbox, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, dict]:
    """One request as another process of the terminal would send it (what a crash leaves behind)."""
    conn = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=5)
    conn.request(method, "/v1" + path, body=body, headers={
        "Authorization": "Bearer sandbox-token", "X-Terminal-Id": "test-kiosk", **(headers or {})})
    response = conn.getresponse()
    reply = json.loads(response.read())
    conn.close()
    return response.status, reply


def test_an_interrupted_upload_resumes_where_it_stopped(up, sandbox):
    case_no = up.create_case("resume-1", request("resume-1"))["case_no"]
    page = f"/cases/{case_no}/materials/0/pages/1"
    head = {"name": "材料0", "size": len(PNG), "sha256": hashlib.sha256(PNG).hexdigest()}
    assert raw(sandbox, "PUT", page, json.dumps(head).encode(), {"Content-Type": "application/json"})[0] == 200
    status, state = raw(sandbox, "PATCH", page, PNG[:C.CHUNK], {"Upload-Offset": "0"})
    assert status == 200 and state["offset"] == C.CHUNK and not state["complete"]  # then the terminal "crashed"
    seen = []
    up.upload_material(case_no, 0, "材料0", 1, PNG, on_progress=lambda sent, total: seen.append((sent, total)))
    assert seen[0] == (C.CHUNK, len(PNG)) and seen[-1] == (len(PNG), len(PNG))
    assert raw(sandbox, "GET", page)[1]["complete"]
    seen.clear()
    up.upload_material(case_no, 0, "材料0", 1, PNG, on_progress=lambda sent, total: seen.append(sent))
    assert seen == [len(PNG)]  # already complete: nothing sent again
    assert up.submit_case(case_no)["status"] == "submitted"


def test_a_corrupted_upload_starts_over_and_a_different_page_conflicts(up, sandbox):
    case_no = up.create_case("corrupt-1", request("corrupt-1"))["case_no"]
    page = f"/cases/{case_no}/materials/0/pages/1"
    head = {"name": "材料0", "size": 4, "sha256": hashlib.sha256(b"good").hexdigest()}
    raw(sandbox, "PUT", page, json.dumps(head).encode(), {"Content-Type": "application/json"})
    status, error = raw(sandbox, "PATCH", page, b"evil", {"Upload-Offset": "0"})
    assert status == 422 and error["error"]["code"] == "checksum_mismatch" and error["error"]["offset"] == 0
    status, error = raw(sandbox, "PATCH", page, b"good", {"Upload-Offset": "2"})
    assert status == 409 and error["error"] == {"code": "offset_mismatch", "reason": error["error"]["reason"], "offset": 0}
    up.upload_material(case_no, 0, "材料0", 1, b"good")
    with pytest.raises(Rejected) as info:
        up.upload_material(case_no, 0, "材料0", 1, b"else")
    assert info.value.code == "upload_conflict"
    up.submit_case(case_no)
    up.upload_material(case_no, 0, "材料0", 1, b"good")  # the same page again: nothing changes
    with pytest.raises(Rejected) as info:
        up.upload_material(case_no, 0, "材料0", 1, b"after")
    assert info.value.code == "upload_conflict"


# -- evaluations, complaints, appointments --------------------------------------------------
def test_evaluations_and_complaints_are_exactly_once(up, sandbox):
    case_no, _ = submitted_case(up, "eval-case", item=ON_THE_SPOT)
    evaluation = {"case_no": case_no, "level": "dissatisfied", "problems": ["等候时间长"], "comment": "太慢",
                  "followup": {"overall": "dissatisfied", "efficiency": "very_dissatisfied",
                               "service": "satisfied", "attitude": "satisfied"}}
    before = sandbox.summary()["records"]
    first = up.evaluate("E-1", evaluation)
    assert up.evaluate("E-1", evaluation) == first
    complaint = up.complain("C-1", {**evaluation, "callback_phone": "13800138000"})
    assert up.complain("C-1", {**evaluation, "callback_phone": "13800138000"}) == complaint
    assert complaint["status"] == "registered" and complaint["complaint_no"].startswith("TS")
    after = sandbox.summary()["records"]
    assert after.get("evaluation", 0) == before.get("evaluation", 0) + 1
    assert after.get("complaint", 0) == before.get("complaint", 0) + 1
    assert up.evaluate("E-2", {"case_no": "", "level": "very_satisfied"})["evaluation_no"] != first["evaluation_no"]
    with pytest.raises(Rejected) as info:
        up.evaluate("E-3", {**evaluation, "case_no": "44081100000000000000"})
    assert info.value.code == "not_found"
    with pytest.raises(Rejected) as info:
        up.evaluate("E-4", {**evaluation, "level": "great"})
    assert info.value.code == "invalid_request" and "level" in info.value.reason


def next_working_day() -> dt.date:
    return add_working_days(dt.date.today(), 1)


def test_window_slots_fill_up_and_bookings_are_exactly_once(up):
    day = next_working_day()
    slots = up.appointment_slots("民政", day.isoformat())
    assert len(slots) == 13 and all(s["free"] == 2 and s["window"] == "民政" for s in slots)
    assert dt.datetime.fromisoformat(slots[0]["start"]).date() == day
    slot = slots[0]
    booking = {"kind": "window", "window": "民政", "slot": slot, "phone": "13800138000"}
    first = up.book("B-1", booking)
    assert up.book("B-1", booking) == first and first["start"] == slot["start"] and first["kind"] == "window"
    up.book("B-2", booking)
    assert up.appointment_slots("民政", day.isoformat())[0]["free"] == 0
    with pytest.raises(Rejected) as info:
        up.book("B-3", booking)
    assert info.value.code == "slot_full"
    saturday = day + dt.timedelta(days=(5 - day.weekday()) % 7)
    assert up.appointment_slots("民政", saturday.isoformat()) == []
    with pytest.raises(Rejected) as info:
        up.appointment_slots("无此窗口", day.isoformat())
    assert info.value.code == "unknown_window"


def test_a_home_visit_is_booked_for_a_working_day(up):
    visit = {"kind": "home_visit", "name": "李四", "address": "湖光镇东岭村三巷5号", "phone": "13800138000",
             "window": "民政", "purpose": "高龄津贴申请"}
    answer = up.book("H-1", visit)
    assert answer["kind"] == "home_visit" and answer["day"] == add_working_days(dt.date.today(), 2).isoformat()
    with pytest.raises(Rejected) as info:
        up.book("H-2", {**visit, "day": dt.date.today().isoformat()})
    assert info.value.code == "bad_day"


# -- faults ---------------------------------------------------------------------------------
def test_slow_answers_within_the_timeout_arrive_and_beyond_it_are_unavailable(up, sandbox, tmp_path):
    sandbox.faults(delay_s=1.5)
    assert up.catalog()["version"]  # timeout 5 s
    impatient = Upstream(sandbox.options(tmp_path / "token", timeout_s=0.5), "test-kiosk")
    with pytest.raises(Unavailable, match="timed out"):
        impatient.catalog()


def test_a_rate_of_5xx_is_unavailable_exactly_that_often(up, sandbox):
    sandbox.faults(error_rate=0.5)
    outcomes = []
    for _ in range(6):
        try:
            up.catalog()
            outcomes.append("ok")
        except Unavailable as exc:
            assert "503" in str(exc)
            outcomes.append("503")
    assert outcomes.count("503") == 3 and outcomes.count("ok") == 3
    sandbox.faults(error_rate=1.0)
    with pytest.raises(Unavailable):
        up.create_case("fault-5xx", request("fault-5xx"))
    sandbox.clear_faults()
    assert "fault-5xx" not in [c["ref"] for c in sandbox.summary()["cases"]]


def test_the_fault_command_switches_faults_of_a_running_sandbox(up, sandbox):
    kiosk = [sys.executable, "-m", "kiosk.cli"]
    out = subprocess.run([*kiosk, "upstream-fault", "--sandbox", sandbox.url, "--error-rate", "1"],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    assert json.loads(out)["error_rate"] == 1.0
    with pytest.raises(Unavailable, match="503"):
        up.catalog()
    subprocess.run([*kiosk, "upstream-fault", "--sandbox", sandbox.url, "--clear"], check=True, timeout=60,
                   capture_output=True)
    assert up.catalog()["version"]
    refused = subprocess.run([*kiosk, "upstream-fault", "--sandbox", "http://127.0.0.1:9", "--clear"],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "does not answer" in refused.stderr


def test_a_hanging_platform_times_out(sandbox, tmp_path):
    client = Upstream(sandbox.options(tmp_path / "token", timeout_s=0.5), "test-kiosk")
    sandbox.faults(hang=True)
    try:
        with pytest.raises(Unavailable, match="timed out"):
            client.case("44081100000000000000")
        assert sandbox.faults()["hang"]  # the admin endpoint still answers
    finally:
        sandbox.clear_faults()
    with pytest.raises(Rejected):
        client.case("44081100000000000000")


def test_an_outage_refuses_connections_then_the_platform_is_back(up, sandbox):
    case_no, _ = submitted_case(up, "outage-1", item=ON_THE_SPOT)
    sandbox.outage(1.0)
    with pytest.raises(Unavailable, match="Connection refused|Connection reset"):
        up.case(case_no)
    for _ in range(100):
        try:
            assert up.case(case_no)["status"] == "completed"
            break
        except Unavailable:
            time.sleep(0.1)
    else:
        raise AssertionError("the sandbox did not come back after its outage")


def test_a_restart_keeps_the_cases_and_the_client_reconnects(sandbox, tmp_path):
    client = Upstream(sandbox.options(tmp_path / "token"), "test-kiosk")
    case_no, _ = submitted_case(client, "restart-1", item=ON_THE_SPOT)
    sandbox.stop()
    with pytest.raises(Unavailable):
        client.case(case_no)
    sandbox.start()
    assert client.case(case_no)["status"] == "completed"
    assert client.create_case("restart-1", request("restart-1", item=ON_THE_SPOT))["case_no"] == case_no  # the key survived


def test_credentials_missing_or_wrong_are_unavailable_not_rejected(sandbox, tmp_path):
    Upstream(sandbox.options(tmp_path / "a", token="first-token"), "cred-kiosk").catalog()
    with pytest.raises(Unavailable, match="401"):
        Upstream(sandbox.options(tmp_path / "b", token="other-token"), "cred-kiosk").catalog()
    with pytest.raises(Unavailable, match="token file"):
        Upstream(UpstreamOptions(url=sandbox.url, token_file=str(tmp_path / "none")), "cred-kiosk").catalog()
    with pytest.raises(Unavailable, match="url"):
        Upstream(UpstreamOptions(), "cred-kiosk").catalog()


def test_a_proxy_page_instead_of_the_api_is_a_bad_reply(sandbox, tmp_path):
    wrong_base = UpstreamOptions(url=sandbox.url + "/elsewhere", token_file=str(tmp_path / "t"))
    (tmp_path / "t").write_text("sandbox-token")
    with pytest.raises(Rejected) as info:  # our own 404 body: a refusal with a reason
        Upstream(wrong_base, "test-kiosk").catalog()
    assert info.value.code == "not_found"
    assert issubclass(BadReply, Unavailable)


# -- TLS ----------------------------------------------------------------------------------------
def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def test_https_is_verified_against_the_configured_ca(tmp_path):
    cert, key = self_signed(tmp_path)
    with SandboxProcess(tmp_path / "tls.db", pace=PACE, tls=(cert, key)) as sandbox:
        assert sandbox.url.startswith("https://")
        trusted = Upstream(sandbox.options(tmp_path / "token", ca_file=str(cert)), "tls-kiosk")
        assert trusted.catalog()["region"] == "440811"
        assert sandbox.faults(error_rate=1.0)["error_rate"] == 1.0  # the admin endpoint over TLS too
        with pytest.raises(Unavailable, match="503"):
            trusted.catalog()
        with pytest.raises(Unavailable, match="CERTIFICATE_VERIFY_FAILED"):
            Upstream(sandbox.options(tmp_path / "token"), "tls-kiosk").catalog()  # the system store does not know it


# -- the document ---------------------------------------------------------------------------------
def test_the_api_document_names_every_route_and_error_code():
    root = Path(__file__).resolve().parents[1]
    doc = (root / "docs" / "upstream-api.md").read_text(encoding="utf-8")
    sandbox = root / "kiosk" / "upstream" / "sandbox"
    code = (sandbox / "platform.py").read_text(encoding="utf-8") + (sandbox / "app.py").read_text(encoding="utf-8")
    errors = set(re.findall(r'ApiError\(\d{3}, "([a-z_]+)"', code))
    assert errors and sorted(e for e in errors if f"`{e}`" not in doc) == []
    routes = set(re.findall(r'@app\.(?:get|post|put|patch)\("(/[^"]*)"', code)) | {PAGE}
    assert len(routes) > 10 and sorted(r for r in routes if f"`{r}" not in doc and f"`GET {r}" not in doc
                                       and f"`POST {r}" not in doc and f"`PUT {r}" not in doc) == []
