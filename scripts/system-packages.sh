#!/usr/bin/env bash
# Install the Debian packages the test suite and the stack runner start for
# real (PostgreSQL, Redis, nginx, Chromium, wrk), when any is missing.
set -euo pipefail

PACKAGES=(postgresql redis-server nginx chromium wrk fonts-dejavu-core python3-venv make)

missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "Missing Debian packages: ${missing[*]}" >&2
  echo "Install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "Installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The packaged services are not used (tests start their own); keep them from
# holding the default ports.
for service in postgresql redis-server nginx; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$service" 2>/dev/null; then
    systemctl stop "$service" || true
  fi
done
