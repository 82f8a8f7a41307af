"""What can go wrong talking to the platform: retry later, or never."""
from __future__ import annotations


class UpstreamError(Exception):
    """Any failure of a call to the platform."""


class Unavailable(UpstreamError):
    """Retry later: refused, timed out, 5xx, 429, an outage, a credential the platform does not take."""


class BadReply(Unavailable):
    """The platform answered something that does not fit its API (a proxy page, a broken release)."""


class Rejected(UpstreamError):
    """Permanent: the platform refused this request (4xx) with a code and its reason (Chinese)."""

    def __init__(self, code: str, reason: str, status: int = 400):
        self.code, self.reason, self.status = code, reason, status
        super().__init__(f"{status} {code}: {reason}")
