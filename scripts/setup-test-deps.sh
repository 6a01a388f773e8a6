#!/usr/bin/env bash
# `npm run setup`: installs what the tests need beyond Node.js and npm, and nothing else.
# Today that is only Debian's chromium (/usr/bin/chromium), which the HTML report's browser test
# drives through playwright-core; the data the tests use ships in the repository. Installs with
# apt-get only when /usr/bin/chromium is missing, so it is a no-op on a prepared machine.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then
  echo "setup: $CHROMIUM is present; nothing to install"
  exit 0
fi

echo "setup: $CHROMIUM is missing; installing Debian's chromium (apt-get update && apt-get install -y chromium) for the report's browser test"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: apt-get not found: install Chromium so that $CHROMIUM exists, then run npm test" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup: installing chromium needs root: run 'sudo apt-get install -y chromium' (or npm run setup as root), then npm test" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
if [ ! -x "$CHROMIUM" ]; then
  echo "setup: apt-get installed chromium but $CHROMIUM is still missing" >&2
  exit 1
fi
echo "setup: installed $("$CHROMIUM" --version 2>/dev/null || echo chromium)"
