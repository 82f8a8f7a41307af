"""A kiosk's fleet agent in its own process, for tests that kill it (``kill -9``).

Usage: python tests/_fleet_child.py ID BROKER_URL PASSWORD_FILE BUFFER_DIR
Prints the agent's boot id, then runs until killed.
"""
from __future__ import annotations

import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kiosk.fleet_agent import FleetAgent, FleetOptions  # noqa: E402


def main() -> None:
    kiosk, broker, password_file, buffer_dir = sys.argv[1:5]
    options = FleetOptions(broker=broker, password_file=password_file, buffer_dir=buffer_dir,
                           health_interval_s=3600, metrics_interval_s=3600)
    agent = FleetAgent(kiosk, options, station="test-station", version="0.1.0")
    agent.start()
    print(agent.boot_id, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
