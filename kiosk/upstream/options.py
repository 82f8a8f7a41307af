"""The ``[upstream]`` config section: where the government platform is and how to prove who we are.

Kept apart from ``kiosk.upstream.client`` so ``kiosk.config`` can list it cheaply.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class UpstreamOptions:
    """The ``[upstream]`` section. An empty ``url`` leaves every application queued at the terminal."""

    url: str = ""  # https://… (production) or http://127.0.0.1:PORT (the sandbox)
    token_file: str = ""  # this terminal's API credential (a bearer token), root-only
    ca_file: str = ""  # the platform's CA; "" = the system's
    timeout_s: float = 10.0  # every connect, send and receive

    def __post_init__(self) -> None:
        if self.url:
            parts = urlsplit(self.url)
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
                raise ValueError("key 'url' must be https://HOST[:PORT][/PATH] (or http:// for a sandbox)")
        if not 0.5 <= self.timeout_s <= 300:
            raise ValueError("key 'timeout_s' must be between 0.5 and 300")
