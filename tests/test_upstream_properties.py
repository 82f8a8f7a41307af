"""Hostile bytes both ways: any reply the client gets is a checked dict or an UpstreamError; any
request the sandbox gets is answered, refused with a JSON error body, and never a 500."""
from __future__ import annotations

import copy
import http.client
import json
import socket
import socketserver
import threading
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.upstream import replies
from kiosk.upstream.client import Rejected, Upstream, UpstreamError
from kiosk.upstream.errors import BadReply
from kiosk.upstream.options import UpstreamOptions
from kiosk.upstream.sandbox.process import SandboxProcess

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=20)
GOOD_CASE = {
    "case_no": "44081120261124000001", "item_code": "2000101000", "item_name": "城乡居民基本医疗保险参保登记",
    "status": "completed", "promised_date": "2026-11-24", "reason": "",
    "history": [{"at": "2026-11-24T09:30:00+08:00", "status": "submitted", "note": "申请已提交"}],
    "certificate": {"ready": True, "verification_code": "ABCD-EFGH-JKLM"},
}
PARSERS = (replies.created, replies.submitted, replies.case, replies.cases, replies.slots, replies.evaluation,
           replies.complaint, replies.booking, replies.catalog, replies.error, lambda d: replies.upload(d, 100))


@given(st.sampled_from(PARSERS), JSON)
def test_any_json_is_a_checked_reply_or_a_bad_reply(parse, doc):
    try:
        parse(doc)
    except BadReply:
        pass


def _paths(doc, prefix=()):
    yield prefix
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    for key, value in items:
        yield from _paths(value, (*prefix, key))


@given(st.data())
def test_a_case_with_one_value_changed_is_refused_or_still_well_typed(data):
    doc = copy.deepcopy(GOOD_CASE)
    path = data.draw(st.sampled_from([p for p in _paths(doc) if p]))
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    if data.draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(JSON)
    try:
        case = replies.case(doc)
    except BadReply:
        return
    assert case["status"] in replies.STATUSES and isinstance(case["history"], list)
    assert isinstance(case["certificate"]["ready"], bool) and isinstance(case["reason"], str)


# -- the client against a server that answers anything ------------------------------------------
class _Hostile(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    reply = b""


class _Handler(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.settimeout(2)
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                part = self.request.recv(65536)
                if not part:
                    return
                data += part
            self.request.sendall(self.server.reply)
        except OSError:
            pass


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    server = _Hostile(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    token = tmp_path_factory.mktemp("hostile") / "token"
    token.write_text("t")
    options = UpstreamOptions(url=f"http://127.0.0.1:{server.server_address[1]}", token_file=str(token), timeout_s=1)
    yield server, options
    server.shutdown()
    server.server_close()


def _response(status: int, body: bytes, length: int | None, extra: list[tuple[str, str]]) -> bytes:
    head = [f"HTTP/1.1 {status} X", "Connection: close"]
    if length is not None:
        head.append(f"Content-Length: {length}")
    head += [f"{k}: {v}" for k, v in extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


STATUS = st.sampled_from([200, 201, 204, 301, 400, 404, 409, 422, 429, 500, 503]) | st.integers(100, 599)
BODY = (JSON.map(lambda d: json.dumps(d).encode()) | st.binary(max_size=200)
        | JSON.map(lambda d: json.dumps({"error": d}).encode())
        | st.just(json.dumps(GOOD_CASE).encode()) | st.just(b"%PDF-1.4 x"))
HEADER = st.tuples(st.sampled_from(["Content-Type", "Verification-Code", "Transfer-Encoding", "X-Junk"]),
                   st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=20))
RAW = (st.builds(_response, STATUS, BODY, st.none() | st.integers(0, 400), st.lists(HEADER, max_size=3))
       | st.binary(max_size=300))
CALLS = (
    lambda up: up.case("44081120261124000001"),
    lambda up: up.create_case("k", {"item_code": "2000101000"}),
    lambda up: up.submit_case("n1"),
    lambda up: up.cases_for("44081119900307123X"),
    lambda up: up.certificate("n1"),
    lambda up: up.upload_material("n1", 0, "材料", 1, b"page"),
    lambda up: up.appointment_slots("民政", "2026-11-25"),
    lambda up: up.book("k", {"kind": "window"}),
    lambda up: up.catalog(),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(call=st.sampled_from(CALLS), reply=RAW)
def test_any_reply_is_an_answer_or_an_upstream_error(hostile, call, reply):
    server, options = hostile
    server.reply = reply
    up = Upstream(options, "prop-kiosk")
    try:
        call(up)
    except Rejected as exc:
        assert isinstance(exc.code, str) and isinstance(exc.reason, str) and 400 <= exc.status < 500
    except UpstreamError:
        pass
    finally:
        up.close()


def test_an_upload_that_never_advances_is_a_bad_reply_not_a_loop(hostile):
    server, options = hostile
    server.reply = _response(200, b'{"offset": 0, "complete": false}', 32, [])
    with pytest.raises(BadReply, match="reports 0"):
        Upstream(options, "prop-kiosk").upload_material("n1", 0, "材料", 1, b"page")


# -- the sandbox against malformed requests ------------------------------------------------------
@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    with SandboxProcess(tmp_path_factory.mktemp("sandbox") / "platform.db", pace=0.1) as process:
        token = tmp_path_factory.mktemp("token") / "token"
        up = Upstream(process.options(token), "prop-kiosk")
        case = up.create_case("seed", {"item_code": "2000101000", "applicant": {"name": "张三", "id_number": "1"},
                                       "materials": [{"index": 0, "name": "材料", "pages": 1}]})
        yield process, case["case_no"]


SEGMENT = st.text(max_size=12).map(lambda s: quote(s, safe=""))
PATHS = st.sampled_from([
    "/v1/catalog", "/v1/cases", "/v1/cases/search", "/v1/cases/{case}", "/v1/cases/{case}/submit",
    "/v1/cases/{case}/certificate", "/v1/cases/{case}/materials/0/pages/1", "/v1/cases/{case}/materials/{x}/pages/{x}",
    "/v1/evaluations", "/v1/complaints", "/v1/appointments", "/v1/appointments/slots?window={x}&day={x}",
    "/v1/{x}", "/admin/faults", "/admin/summary"])
FIELDS = st.sampled_from(["item_code", "applicant", "form", "materials", "name", "size", "sha256", "id_number",
                          "level", "followup", "case_no", "kind", "slot", "window", "day", "phone", "address",
                          "callback_phone", "delay_s", "error_rate", "hang", "clear"])
BODIES = (st.dictionaries(FIELDS, JSON, max_size=6).map(lambda d: json.dumps(d).encode())
          | JSON.map(lambda d: json.dumps(d).encode()) | st.binary(max_size=100))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE"]), path=PATHS, x=SEGMENT,
       body=BODIES, key=st.none() | st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=20),
       offset=st.none() | st.sampled_from(["0", "-1", "x", "99999999999999999999", "3"]),
       auth=st.booleans())
def test_malformed_requests_are_refused_in_json_never_with_a_500(sandbox, method, path, x, body, key, offset, auth):
    process, case_no = sandbox
    if path == "/admin/faults" and method == "POST":
        body = b"{}" if body.startswith(b"{") else body  # never switch real faults on mid-test
    headers = {"X-Terminal-Id": "prop-kiosk", "Authorization": "Bearer sandbox-token"} if auth else {}
    if key is not None:
        headers["Idempotency-Key"] = key
    if offset is not None:
        headers["Upload-Offset"] = offset
    conn = http.client.HTTPConnection("127.0.0.1", process.port, timeout=10)
    try:
        conn.request(method, path.format(case=case_no, x=x), body=body, headers=headers)
        response = conn.getresponse()
        reply = response.read()
    except (socket.timeout, ConnectionError) as exc:
        raise AssertionError(f"the sandbox did not answer {method} {path}: {exc}") from exc
    finally:
        conn.close()
    assert response.status < 500, reply
    if response.status >= 400:
        error = json.loads(reply)["error"]
        assert isinstance(error["code"], str) and error["reason"]
