"""The sandbox's HTTP API (docs/upstream-api.md) over ``Platform``, plus its admin endpoints.

Every refusal is a JSON error body ``{"error": {"code", "reason"}}`` — including bad JSON,
wrong types, unknown routes and methods — never a bare 500.
"""
from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from kiosk.upstream.sandbox.faults import Faults, FaultSettings
from kiosk.upstream.sandbox.platform import ApiError, Platform
from kiosk.upstream.sandbox.requests import MAX_PAGE

MAX_JSON = 1 << 20
MAX_CHUNK = 4 << 20
HANG_LIMIT_S = 3600
_TERMINAL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
Index = Annotated[int, Path(ge=0, lt=100)]
Page = Annotated[int, Path(ge=1, le=200)]
CaseNo = Annotated[str, Path(max_length=64)]
PAGE = "/v1/cases/{case_no}/materials/{index}/pages/{page}"


def create_app(platform: Platform, faults: Faults, catalog: dict, outage: Callable[[float], None]) -> FastAPI:
    """The app; ``catalog`` is the reply of ``GET /v1/catalog``, ``outage(s)`` takes the front door away."""
    app = FastAPI(title="Government platform sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    _errors(app)

    @app.middleware("http")
    async def inject_faults(request: Request, call_next):
        if request.url.path.startswith("/v1/"):
            for _ in range(int(HANG_LIMIT_S / 0.05)):
                if not faults.hang:
                    break
                await asyncio.sleep(0.05)
            if faults.delay_s:
                await asyncio.sleep(faults.delay_s)
            if faults.fail_now():
                return _error(ApiError(503, "sandbox_fault", "服务暂时不可用，请稍后重试（沙箱故障注入）。"))
        return await call_next(request)

    @app.get("/v1/catalog")
    async def get_catalog(request: Request):
        _terminal(request, platform)
        return catalog

    @app.post("/v1/cases", status_code=201)
    async def create_case(request: Request):
        terminal = _terminal(request, platform)
        return _answer(*platform.create_case(terminal, _key(request), await _body(request)))

    @app.post("/v1/cases/search")
    async def search(request: Request):
        _terminal(request, platform)
        return {"cases": platform.cases_for(await _body(request))}

    @app.put(PAGE)
    async def announce_upload(request: Request, case_no: CaseNo, index: Index, page: Page):
        terminal = _terminal(request, platform)
        return platform.announce_upload(terminal, case_no, index, page, await _body(request))

    @app.get(PAGE)
    async def upload_state(request: Request, case_no: CaseNo, index: Index, page: Page):
        return platform.upload_state(_terminal(request, platform), case_no, index, page)

    @app.patch(PAGE)
    async def append_upload(request: Request, case_no: CaseNo, index: Index, page: Page):
        terminal = _terminal(request, platform)
        offset = request.headers.get("upload-offset", "")
        if not (offset.isascii() and offset.isdigit() and int(offset) <= MAX_PAGE):
            raise ApiError(400, "invalid_request", "缺少或无效的 Upload-Offset 请求头。")
        chunk = await _read(request, MAX_CHUNK)
        return platform.append_upload(terminal, case_no, index, page, int(offset), chunk)

    @app.post("/v1/cases/{case_no}/submit")
    async def submit(request: Request, case_no: CaseNo):
        return platform.submit(_terminal(request, platform), case_no)

    @app.get("/v1/cases/{case_no}")
    async def get_case(request: Request, case_no: CaseNo):
        _terminal(request, platform)
        return platform.case(case_no)

    @app.get("/v1/cases/{case_no}/certificate")
    async def certificate(request: Request, case_no: CaseNo):
        _terminal(request, platform)
        pdf, code = platform.certificate(case_no)
        return Response(pdf, media_type="application/pdf", headers={"Verification-Code": code})

    @app.post("/v1/evaluations", status_code=201)
    async def evaluate(request: Request):
        terminal = _terminal(request, platform)
        return _answer(*platform.evaluate(terminal, _key(request), await _body(request)))

    @app.post("/v1/complaints", status_code=201)
    async def complain(request: Request):
        terminal = _terminal(request, platform)
        return _answer(*platform.complain(terminal, _key(request), await _body(request)))

    @app.get("/v1/appointments/slots")
    async def slots(request: Request, window: str = "", day: str = ""):
        _terminal(request, platform)
        return {"slots": platform.slots(window, day)}

    @app.post("/v1/appointments", status_code=201)
    async def book(request: Request):
        terminal = _terminal(request, platform)
        return _answer(*platform.book(terminal, _key(request), await _body(request)))

    @app.get("/admin/faults")
    async def get_faults():
        return faults.as_dict()

    @app.post("/admin/faults")
    async def set_faults(request: Request):
        settings = FaultSettings.model_validate(await _body(request))
        faults.change(settings)
        if settings.outage_s:
            outage(settings.outage_s)
        return faults.as_dict()

    @app.get("/admin/summary")
    async def summary():
        return platform.summary()

    return app


def _errors(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError):
        return _error(exc)

    @app.exception_handler(ValidationError)
    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: ValidationError | RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "request"))
        return _error(ApiError(400, "invalid_request", f"请求格式不正确：{where or '请求'} {first.get('msg', '')}"[:300]))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "invalid_request")
        return _error(ApiError(exc.status_code, code, "请求的接口不存在。" if exc.status_code == 404 else "请求方式不受支持。"))


def _error(exc: ApiError) -> JSONResponse:
    return JSONResponse({"error": {"code": exc.code, "reason": exc.reason, **exc.extra}}, status_code=exc.status)


def _answer(status: int, body: dict) -> JSONResponse:
    return JSONResponse(body, status_code=status)


def _terminal(request: Request, platform: Platform) -> str:
    """The calling terminal, its bearer token checked."""
    terminal = request.headers.get("x-terminal-id", "")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if not _TERMINAL.fullmatch(terminal) or scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "缺少终端编号或身份凭证。")
    platform.authenticate(terminal, token.strip())
    return terminal


def _key(request: Request) -> str:
    key = request.headers.get("idempotency-key", "")
    if not (0 < len(key) <= 200 and key.isascii() and key.isprintable()):
        raise ApiError(400, "idempotency_key_required", "创建类请求须带 Idempotency-Key 请求头。")
    return key


async def _read(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise ApiError(413, "too_large", f"请求体超过 {limit} 字节。")
    body = b""
    async for part in request.stream():
        body += part
        if len(body) > limit:
            raise ApiError(413, "too_large", f"请求体超过 {limit} 字节。")
    return body


async def _body(request: Request) -> dict[str, Any]:
    try:
        doc = json.loads((await _read(request, MAX_JSON)).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise ApiError(400, "invalid_request", "请求体不是有效的 JSON。") from None
    if not isinstance(doc, dict):
        raise ApiError(400, "invalid_request", "请求体须为 JSON 对象。")
    return doc
