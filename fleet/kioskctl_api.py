"""kioskctl's side of the manager's HTTP API (docs/fleet-manager-api.md), over stdlib urllib.

``Api.get`` and ``Api.post`` return the decoded JSON; every failure is an ``ApiError``
with a translatable message and the exit code kioskctl ends with: 2 for what the user
can fix (no token, a refused token, a missing device, a bad request), 3 when the manager
cannot be reached, times out or fails on its side.
"""
from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from l10n import N_

USAGE, UNREACHABLE = 2, 3
TIMEOUT_S = 20.0
MAX_ANSWER = 32 * 1024 * 1024


class ApiError(Exception):
    """``msgid`` with ``params``, to be translated when shown; ``code`` is the exit code."""

    def __init__(self, code: int, msgid: str, **params: Any):
        self.code, self.msgid, self.params = code, msgid, params
        super().__init__(msgid.format(**params))


class Api:
    def __init__(self, url: str, token: str, ca_file: str = ""):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ApiError(USAGE, N_("The manager's URL must be https://HOST:PORT (or http:// on a test bench): {url}"),
                           url=url)
        self.base = url.rstrip("/") + "/api/v1"
        self.token = token
        self.tls = ssl.create_default_context(cafile=ca_file or None) if parts.scheme == "https" else None

    def get(self, path: str, **query: Any) -> Any:
        query = {k: v for k, v in query.items() if v not in (None, "", False)}
        return self._call("GET", path + (f"?{urlencode(query)}" if query else ""))

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self._call("POST", path, body or {})

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode("utf-8") if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Accept": "application/json",
            **({"Content-Type": "application/json"} if data is not None else {})})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S, context=self.tls) as reply:
                raw = reply.read(MAX_ANSWER + 1)
        except urllib.error.HTTPError as exc:
            raise _refused(exc.code, _detail(exc.read(65536))) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ApiError(UNREACHABLE, N_("Cannot reach the fleet manager at {url}: {reason}"),
                           url=self.base, reason=reason) from None
        if len(raw) > MAX_ANSWER:
            raise ApiError(UNREACHABLE, N_("The fleet manager's answer is too large"))
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ApiError(UNREACHABLE, N_("The fleet manager's answer is not JSON")) from None


def _detail(body: bytes) -> str:
    """The ``detail`` of an error answer, as text (FastAPI's validation errors are a list)."""
    try:
        detail = json.loads(body.decode("utf-8")).get("detail", "")
    except (UnicodeDecodeError, ValueError, AttributeError):
        return body.decode("utf-8", "replace")[:200]
    if isinstance(detail, list):
        return "; ".join(f"{'.'.join(str(x) for x in d.get('loc', ()))}: {d.get('msg', '')}"
                         for d in detail if isinstance(d, dict))
    return str(detail)[:500]


def _refused(status: int, detail: str) -> ApiError:
    if status == 401:
        return ApiError(USAGE, N_("The fleet manager does not accept this token (missing, wrong or expired)"))
    if status == 403:
        return ApiError(USAGE, N_("Not allowed: {detail}"), detail=detail)
    if status == 404:
        return ApiError(USAGE, N_("Not found: {detail}"), detail=detail)
    if status in (400, 409, 413, 422):
        return ApiError(USAGE, N_("The fleet manager refused the request: {detail}"), detail=detail)
    return ApiError(UNREACHABLE, N_("The fleet manager failed (HTTP {status}): {detail}"), status=status, detail=detail)


def segment(value: str) -> str:
    """A path segment from user input, quoted."""
    return quote(value, safe="")
