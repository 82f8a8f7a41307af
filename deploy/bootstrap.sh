#!/usr/bin/env bash
# Set up a development machine (Debian 12): system packages, a virtual environment,
# the project and its test tools, compiled translations. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  python3 python3-venv python3-dev build-essential swig pkg-config
  pcscd libpcsclite-dev vsmartcard-vpcd            # PC/SC and the virtual reader
  cups cups-client cups-bsd printer-driver-cups-pdf libcups2-dev   # A4 printing
  sane-utils libsane1                              # scanning (SANE test backend)
  fonts-noto-cjk fonts-wqy-microhei                # Chinese text on printed pages and screens
  xvfb libgl1-mesa-dri libmtdev1 espeak-ng         # the screens (tests render under Xvfb), voice
  mosquitto mosquitto-clients                      # the fleet's MQTT broker (the demo and the tests run a private one)
  poppler-utils socat                              # tests: pdftotext, a serial line pair
  chromium                                         # tests: the fleet dashboard in a real browser
  postgresql                                       # tests: the fleet manager on PostgreSQL (a private server)
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "bootstrap: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
stamp=.venv/.installed
want=$(cat setup.cfg pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[test]'
  echo "$want" > "$stamp"
fi
.venv/bin/pybabel -q compile -d l10n -D kiosk
