"""The government platform's client: its HTTPS/JSON API (docs/upstream-api.md), standard library only.

Every call either returns a checked reply (``kiosk.upstream.replies``) or raises:
``Unavailable`` — try again later (no line, refused, timeout, 5xx, 429, a reply that does
not fit, a credential the platform does not take); ``Rejected`` — the platform refused the
request for good (4xx with its code and Chinese reason). Creating calls carry an
``Idempotency-Key``; the others are idempotent by nature, so any call may be repeated
after a crash or a lost answer. Each thread keeps one connection open (keep-alive); a
connection the server closed meanwhile is replaced once, transparently.
"""
from __future__ import annotations

import hashlib
import http.client
import json
import ssl
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from kiosk.upstream import replies
from kiosk.upstream.errors import BadReply, Rejected, Unavailable, UpstreamError
from kiosk.upstream.options import UpstreamOptions

__all__ = ["BadReply", "Rejected", "Unavailable", "Upstream", "UpstreamError"]

API = "/v1"
CHUNK = 256 * 1024  # bytes per upload request
MAX_JSON = 8 << 20  # the largest JSON reply read (the catalog is the largest)
MAX_PDF = 32 << 20
UPLOAD_ATTEMPTS = 3  # whole-page restarts after a checksum mismatch or a lost offset
_RETRY_LATER = {401, 403, 408, 425, 429}  # 4xx that are not the request's fault: try again later


class Upstream:
    """One terminal's client of the platform at ``options.url``; safe to share between threads."""

    def __init__(self, options: UpstreamOptions, terminal_id: str):
        self.options, self.terminal_id = options, terminal_id
        parts = urlsplit(options.url)
        self._https = parts.scheme == "https"
        self._host, self._port = parts.hostname or "", parts.port
        self._base = parts.path.rstrip("/") + API
        self._local = threading.local()
        self._ssl: ssl.SSLContext | None = None

    # -- cases -------------------------------------------------------------------------
    def create_case(self, key: str, case: dict) -> dict:
        """Create a draft case (exactly once per ``key``) -> ``{"case_no", "status": "draft", "created_at"}``."""
        return replies.created(self._json("POST", "/cases", case, key=key))

    def upload_material(self, case_no: str, index: int, name: str, page: int, data: bytes,
                        on_progress: Callable[[int, int], None] | None = None) -> None:
        """Upload page ``page`` (1-based) of material ``index`` (0-based), resuming where the platform stopped.

        ``on_progress(sent, total)`` follows the bytes the platform has. Repeating a finished
        upload costs one request and changes nothing.
        """
        path = f"/cases/{_seg(case_no)}/materials/{int(index)}/pages/{int(page)}"
        head = {"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        for _ in range(UPLOAD_ATTEMPTS):
            offset, complete = replies.upload(self._json("PUT", path, head), len(data))
            while not complete:
                if on_progress:
                    on_progress(offset, len(data))
                chunk = data[offset:offset + CHUNK]
                try:
                    reached, complete = replies.upload(self._json(
                        "PATCH", path, body=chunk, headers={"Upload-Offset": str(offset),
                                                            "Content-Type": "application/offset+octet-stream"}),
                        len(data))
                except Rejected as exc:
                    if exc.code not in ("offset_mismatch", "checksum_mismatch"):
                        raise
                    break  # ask the platform where it stands (a mismatch starts the page over)
                if reached != offset + len(chunk):
                    raise BadReply(f"upload: took {len(chunk)} bytes at {offset} but reports {reached}")
                offset = reached
            else:
                if on_progress:
                    on_progress(len(data), len(data))
                return
        raise Unavailable(f"upload of {case_no} material {index} page {page} did not complete after "
                          f"{UPLOAD_ATTEMPTS} attempts (offset or checksum mismatches)")

    def submit_case(self, case_no: str) -> dict:
        """Submit a case whose pages are all in -> ``{"case_no", "status", "promised_date", "on_the_spot", ...}``."""
        return replies.submitted(self._json("POST", f"/cases/{_seg(case_no)}/submit", {}))

    def case(self, case_no: str) -> dict:
        """One case: status, history, promised date, reason, certificate readiness."""
        return replies.case(self._json("GET", f"/cases/{_seg(case_no)}"))

    def cases_for(self, id_number: str) -> list[dict]:
        """Every case of the person with ``id_number`` (sent in the body, never in a URL)."""
        return replies.cases(self._json("POST", "/cases/search", {"id_number": id_number}))

    def certificate(self, case_no: str) -> tuple[bytes, str]:
        """A completed case's certificate: (PDF bytes, verification code)."""
        status, headers, body = self._exchange("GET", f"/cases/{_seg(case_no)}/certificate", None, {}, MAX_PDF)
        if status != 200:
            self._fail(status, body)
        code = headers.get("verification-code", "")
        replies.number({"code": code}, "code", "certificate")
        if not body.startswith(b"%PDF-"):
            raise BadReply("certificate: the body is not a PDF")
        return body, code

    # -- evaluations, complaints, appointments -----------------------------------------
    def evaluate(self, key: str, evaluation: dict) -> dict:
        return replies.evaluation(self._json("POST", "/evaluations", evaluation, key=key))

    def complain(self, key: str, complaint: dict) -> dict:
        return replies.complaint(self._json("POST", "/complaints", complaint, key=key))

    def appointment_slots(self, window: str, day: str) -> list[dict]:
        """Free and full slots of ``window`` on ``day`` (YYYY-MM-DD)."""
        return replies.slots(self._json("GET", "/appointments/slots?" + urlencode({"window": window, "day": day})))

    def book(self, key: str, appointment: dict) -> dict:
        """Book a window slot or an agent's home visit -> ``{"booking_no", "kind", "status", ...}``."""
        return replies.booking(self._json("POST", "/appointments", appointment, key=key))

    def catalog(self) -> dict:
        """The platform's catalog: ``{"version", "region", "document"}`` (document: the catalog file as JSON)."""
        return replies.catalog(self._json("GET", "/catalog"))

    # -- the wire ----------------------------------------------------------------------
    def _json(self, method: str, path: str, payload: Any = None, *, key: str = "", body: bytes | None = None,
              headers: dict[str, str] | None = None) -> Any:
        """One call whose answer is JSON; errors raised as Unavailable or Rejected."""
        headers = dict(headers or {})
        if payload is not None:
            body = json.dumps(payload, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        if key:
            if not (key.isascii() and key.isprintable() and 0 < len(key) <= 200):
                raise ValueError(f"an idempotency key must be 1-200 printable ASCII characters, not {key!r:.80}")
            headers["Idempotency-Key"] = key
        status, _, data = self._exchange(method, path, body, headers, MAX_JSON)
        if not 200 <= status < 300:
            self._fail(status, data)
        return _decode(data)

    def _fail(self, status: int, data: bytes) -> None:
        if status >= 500 or status in _RETRY_LATER:
            raise Unavailable(f"the platform answered {status}: {data[:200]!r}")
        if not 400 <= status < 500:
            raise BadReply(f"unexpected HTTP status {status}")
        code, reason = replies.error(_decode(data))
        raise Rejected(code, reason, status)

    def _exchange(self, method: str, path: str, body: bytes | None, headers: dict[str, str],
                  limit: int) -> tuple[int, dict[str, str], bytes]:
        """Send one request; (status, lower-case headers, body). Network trouble is ``Unavailable``."""
        if not self._host:
            raise Unavailable("no [upstream] url is configured")
        headers = {"Authorization": f"Bearer {self._token()}", "X-Terminal-Id": self.terminal_id,
                   "Accept": "application/json", **headers}
        for fresh in (False, True):
            conn, reused = self._connection(fresh)
            try:
                conn.request(method, self._base + path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read(limit + 1)
                if len(data) > limit:
                    raise BadReply(f"the reply is larger than {limit} bytes")
                if response.will_close:
                    self._drop()
                return response.status, {k.lower(): v for k, v in response.getheaders()}, data
            except BadReply:
                self._drop()
                raise
            except (OSError, http.client.HTTPException, ValueError) as exc:
                self._drop()
                if reused and not fresh and isinstance(exc, (http.client.RemoteDisconnected, ConnectionResetError,
                                                             BrokenPipeError)):
                    continue  # the server closed the kept-alive connection: once more on a new one
                raise Unavailable(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
        raise AssertionError("unreachable")

    def _connection(self, fresh: bool) -> tuple[http.client.HTTPConnection, bool]:
        conn = getattr(self._local, "conn", None)
        if conn is not None and not fresh:
            return conn, True
        self._drop()
        timeout = self.options.timeout_s
        if self._https:
            conn = http.client.HTTPSConnection(self._host, self._port, timeout=timeout, context=self._context())
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=timeout)
        self._local.conn = conn
        return conn, False

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()

    def _context(self) -> ssl.SSLContext:
        if self._ssl is None:
            try:
                self._ssl = ssl.create_default_context(cafile=self.options.ca_file or None)
            except (OSError, ssl.SSLError) as exc:
                raise Unavailable(f"cannot load the platform's CA file {self.options.ca_file}: {exc}") from exc
        return self._ssl

    def _token(self) -> str:
        """This terminal's credential, read on every call so a new one takes effect at once."""
        if not self.options.token_file:
            raise Unavailable("no [upstream] token_file is configured")
        try:
            with open(self.options.token_file, encoding="utf-8") as f:
                token = f.read().strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise Unavailable(f"cannot read the token file {self.options.token_file}: {exc}") from exc
        if not token or not token.isascii() or not token.isprintable() or " " in token:
            raise Unavailable(f"the token file {self.options.token_file} holds no usable token")
        return token

    def close(self) -> None:
        """Close this thread's connection (others close when their threads end)."""
        self._drop()


def _seg(value: str) -> str:
    """A path segment, whatever ``value`` holds."""
    return quote(str(value), safe="")


def _decode(data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise BadReply(f"the reply is not JSON: {data[:80]!r}") from exc
