"""Operators, their secrets and roles, and the audit log.

Passwords are kept as scrypt hashes; session and API tokens as the SHA-256 of a random
secret that is shown once. Roles rank viewer < operator < technician; ``OP_ROLES`` says
which jobs an operator may issue (the rest need a technician).

Signing in is locked for a while after repeated wrong passwords, counted from the audit log's
``login.failed`` entries (so it holds across restarts and processes): ``NAME_FAILURES`` for
one operator name since its last good sign-in, ``ADDRESS_FAILURES`` from one address (its
``target``; higher, as an office may share one address), each within ``LOCKOUT``.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fleet.db import Database
from fleet.models import ROLES, AuditEntry, Operator, Token, utcnow
from fleet.refusal import Refused
from l10n import N_

RANK = {role: i for i, role in enumerate(ROLES)}
OP_ROLES = {"maintenance": "operator", "screenshot": "operator"}  # every other op: technician
NAME = re.compile(r"[\w.@-]{2,64}")
SESSION_TTL = timedelta(hours=12)
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
NAME_FAILURES, ADDRESS_FAILURES = 5, 20
LOCKOUT = timedelta(minutes=15)


class AuthError(Refused):
    """Bad operator data: a name, role or password that cannot be used."""


class LockedOut(Refused):
    """Too many wrong passwords lately: signing in is refused until ``retry_after``."""

    def __init__(self, retry_after: timedelta):
        minutes = max(1, -(-int(retry_after.total_seconds()) // 60))
        super().__init__(N_("Too many wrong passwords. Try again in {minutes} minutes."), 429,
                         {"Retry-After": str(int(retry_after.total_seconds()) + 1)}, minutes=minutes)


def allowed(role: str, needed: str) -> bool:
    return RANK.get(role, -1) >= RANK[needed]


def role_for_op(op: str) -> str:
    return OP_ROLES.get(op, "technician")


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, **_SCRYPT)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        given = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), **_SCRYPT)
    except ValueError:
        return False
    return hmac.compare_digest(given, base64.b64decode(digest))


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def add_operator(session: Session, name: str, role: str, password: str = "") -> Operator:
    if not NAME.fullmatch(name):
        raise AuthError(N_("An operator name is 2 to 64 letters, digits or . @ - _ (not {name})."), name=name[:70])
    if role not in ROLES:
        raise AuthError(N_("The role must be one of {roles}."), roles=", ".join(ROLES))
    if password and len(password) < 8:
        raise AuthError(N_("A password needs at least 8 characters."))
    if session.scalar(select(Operator).where(Operator.name == name)) is not None:
        raise AuthError(N_("Operator {name} exists already."), name=name)
    operator = Operator(name=name, role=role, password_hash=hash_password(password) if password else "")
    session.add(operator)
    session.flush()
    return operator


def lockout_left(session: Session, name: str, address: str = "", now: datetime | None = None) -> timedelta | None:
    """How long signing in as ``name`` (or from ``address``) stays locked; None if it is not."""
    now = now or utcnow()
    since = now - LOCKOUT
    last_good = session.scalar(select(AuditEntry.ts).where(AuditEntry.operator == name, AuditEntry.action == "login")
                               .order_by(AuditEntry.ts.desc()).limit(1))
    failed = select(AuditEntry.ts).where(AuditEntry.action == "login.failed").order_by(AuditEntry.ts.desc())
    name_since = max(since, last_good or since)
    limits = [(failed.where(AuditEntry.operator == name, AuditEntry.ts > name_since), NAME_FAILURES)]
    if address:
        limits.append((failed.where(AuditEntry.target == address, AuditEntry.ts > since), ADDRESS_FAILURES))
    left = None
    for query, limit in limits:  # locked until the limit-th latest failure leaves the window
        nth = session.scalar(query.offset(limit - 1).limit(1))
        if nth is not None:
            left = max(left or timedelta(0), nth + LOCKOUT - now)
    return left


def login(session: Session, name: str, password: str, address: str = "") -> Operator | None:
    """The operator if the password is right, else None; ``LockedOut`` after too many wrong ones (the
    caller audits each attempt: ``login`` or ``login.failed`` with the address as its target)."""
    left = lockout_left(session, name, address)
    if left is not None:
        raise LockedOut(left)
    operator = session.scalar(select(Operator).where(Operator.name == name))
    if operator is None or operator.disabled or not operator.password_hash:
        check_password(password, "scrypt$AAAA$AAAA")  # the same work whether or not the name exists
        return None
    return operator if check_password(password, operator.password_hash) else None


def sign_in(db: Database, name: str, password: str, address: str, label: str,
            **detail: Any) -> tuple[Operator | None, str]:
    """Check a sign-in and audit it (``login``, ``login.failed`` or ``login.locked``, the address as
    its target): the operator and a new session secret labelled ``label``, or ``(None, "")`` for a
    wrong name or password; ``LockedOut`` after too many."""
    try:
        with db.session() as session:  # the password's hash takes a while: not under the write lock
            who = login(session, name, password, address)
    except LockedOut:
        with db.session(write=True) as session:
            audit(session, name, "login.locked", address, **detail)
        raise
    with db.session(write=True) as session:
        if who is None:
            audit(session, name, "login.failed", address, **detail)
            return None, ""
        audit(session, who.name, "login", address, **detail)
        return who, issue_token(session, who, "session", label, SESSION_TTL)[1]


def issue_token(session: Session, operator: Operator, kind: str, label: str = "",
                ttl: timedelta | None = None) -> tuple[Token, str]:
    """A new secret for ``operator``: its row and the secret itself (not stored)."""
    secret = secrets.token_urlsafe(32)
    token = Token(hash=digest(secret), kind=kind, label=label[:100], operator_id=operator.id,
                  expires_at=utcnow() + ttl if ttl else None)
    session.add(token)
    session.flush()
    return token, secret


def authenticate(session: Session, secret: str, kind: str, now: datetime | None = None) -> Operator | None:
    """The operator a session or API secret belongs to, if it is valid now."""
    now = now or utcnow()
    token = session.scalar(select(Token).where(Token.hash == digest(secret), Token.kind == kind))
    if token is None or token.operator.disabled or (token.expires_at is not None and token.expires_at <= now):
        return None
    return token.operator


def audit(session: Session, operator: str, action: str, target: str = "", **detail: Any) -> None:
    session.add(AuditEntry(operator=operator, action=action, target=target[:200], detail=detail))
