"""``python -m kiosk.upstream.sandbox ARGS`` = ``kiosk upstream-sandbox ARGS``."""
import sys

from kiosk.cli import main

sys.exit(main(["upstream-sandbox", *sys.argv[1:]]))
