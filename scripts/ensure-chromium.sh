#!/usr/bin/env bash
# Makes sure Debian's Chromium is at /usr/bin/chromium for the browser tests (test/browser/).
# It never downloads a browser of its own: as root it installs the distribution's package;
# otherwise it says what to do and fails.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
  echo "ensure-chromium: found $CHROMIUM"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-chromium: $CHROMIUM is missing and this is not root, so it cannot be installed here." >&2
  echo "  Install Debian's package (sudo apt-get install -y chromium) and run the tests again." >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: $CHROMIUM is missing and there is no apt-get; install Chromium at $CHROMIUM." >&2
  exit 1
fi
echo "ensure-chromium: installing Debian's chromium package"
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
if [ ! -x "$CHROMIUM" ]; then
  echo "ensure-chromium: apt-get installed chromium but $CHROMIUM is still missing." >&2
  exit 1
fi
echo "ensure-chromium: installed $CHROMIUM"
