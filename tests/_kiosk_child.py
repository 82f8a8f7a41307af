"""A terminal without a screen in its own process, for tests that end it (restart_app, kill -9).

Usage: python tests/_kiosk_child.py CONFIG
Prints "ready BOOT_ID" once started; then reads commands from stdin: "visit" starts a visit,
"end" ends it. Runs until the terminal quits (restart_app) or is killed.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kiosk import config  # noqa: E402
from kiosk.session import EndReason  # noqa: E402
from kiosk.terminal import Terminal  # noqa: E402


def main() -> None:
    terminal = Terminal(config.load(sys.argv[1]))
    terminal.start()
    print("ready", terminal.fleet.agent.boot_id, flush=True)
    for line in sys.stdin:
        if line.strip() == "visit":
            terminal.session.start()
        elif line.strip() == "end":
            terminal.session.end(EndReason.FINISHED)
        print("ok", flush=True)


if __name__ == "__main__":
    main()
