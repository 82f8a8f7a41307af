"""What every request handler of the manager shares: the context, the database session,
and who is asking (an API token or a session cookie) with the role it needs.

The API (``fleet.api``) and the dashboard's pages use the same dependencies:
``Depends(reader)`` for a session, ``Depends(require("operator"))`` for the operator.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from fleet import auth
from fleet.db import Database
from fleet.jobs import Jobs
from fleet.models import Operator
from fleet.refusal import Refused
from l10n import N_, Msg

SESSION_COOKIE = "fleet_session"


@dataclass(frozen=True)
class Context:
    db: Database
    jobs: Jobs
    secure_cookies: bool = True  # False only for plain-HTTP tests


def context(request: Request) -> Context:
    return request.app.state.ctx


def reader(ctx: Context = Depends(context)) -> Iterator[Session]:
    """A read session (it never takes SQLite's write lock)."""
    with ctx.db.session() as session:
        yield session


def who(request: Request, ctx: Context) -> Operator | None:
    """The operator behind the request's bearer token or session cookie, if any is valid."""
    header = request.headers.get("authorization", "")
    secret, kind = (header[7:].strip(), "api") if header.lower().startswith("bearer ") else \
        (request.cookies.get(SESSION_COOKIE, ""), "session")
    if not secret:
        return None
    with ctx.db.session() as session:
        return auth.authenticate(session, secret, kind)


def require(role: str) -> Callable[..., Operator]:
    """A dependency: the signed-in operator, at least ``role`` (401 / 403 otherwise)."""
    def dependency(request: Request, ctx: Context = Depends(context)) -> Operator:
        operator = who(request, ctx)
        if operator is None:
            raise Refused(N_("Sign in first."), 401, {"WWW-Authenticate": "Bearer"})
        if not auth.allowed(operator.role, role):
            raise Refused(N_("This needs the {role} role; {name} is {held}."), 403, role=Msg(role), name=operator.name,
                          held=Msg(operator.role))
        return operator
    return dependency


def found(value: Any, what: str) -> Any:
    """``value``, or 404 if it is None (``what``: the id asked for)."""
    if value is None:
        raise Refused(N_("Not found: {what}"), 404, what=what)
    return value
