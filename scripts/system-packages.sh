#!/usr/bin/env bash
# Debian packages the tests drive for real: Chromium (browser journeys), Firefox ESR (the
# cross-browser journeys, over WebDriver BiDi), coturn (TURN relay) and faketime (the test
# coturn's clock on the tests' fake timeline, tests/turn_server.py) and nginx (the shipped
# deploy/nginx/videotermin.conf in front of the app, tests/app_processes.py).
# Installs only what is missing; needs root (or sudo) the first time.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v firefox-esr >/dev/null 2>&1 || missing+=(firefox-esr)
command -v turnserver >/dev/null 2>&1 || missing+=(coturn)
command -v faketime >/dev/null 2>&1 || missing+=(faketime)
[ -x /usr/sbin/nginx ] || missing+=(nginx-light)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
