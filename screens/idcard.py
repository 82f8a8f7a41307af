"""Reading the ID card on the reader for a screen: off the UI thread, kept in the visit (wiped with it)."""
from __future__ import annotations

from kiosk.catalog.modules import IDCARD
from screens.background import Background

READ_TIMEOUT_S = 10.0


def read_identity(app, work: Background, done) -> bool:
    """Start reading; ``done(identity, error)`` on the UI thread. False when there is no reader."""
    reader = app.terminal.device_of_kind(IDCARD)
    if reader is None:
        return False

    def kept(identity, error) -> None:
        if error is None:
            (app.session.visit or app.session.start()).identity = identity
        done(identity, error)

    work.run(lambda: reader.read_identity(READ_TIMEOUT_S).result(), done=kept)
    return True
