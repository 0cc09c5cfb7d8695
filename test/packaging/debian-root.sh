#!/usr/bin/env bash
# Builds (once) a minimal Debian 12 root with systemd, for installing the .deb into a throw-away
# copy of it (test/packaging/deb.test.ts), never into this machine's own root. Cached in the
# given directory; debootstrap fetches from Debian's mirror (DEBIAN_MIRROR to change it).
set -euo pipefail
dir="$1"
if [ -f "$dir/.complete" ]; then exit 0; fi
if ! command -v debootstrap >/dev/null 2>&1; then
  echo "debian-root: debootstrap is missing (apt-get install debootstrap; scripts/ensure-test-deps.sh does it)" >&2
  exit 1
fi
rm -rf "$dir"
mkdir -p "$(dirname "$dir")"
debootstrap --variant=minbase --include=systemd bookworm "$dir.partial" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$dir.log" 2>&1 \
  || { tail -20 "$dir.log" >&2; exit 1; }
rm -rf "$dir.partial/var/cache/apt/archives"/*.deb
mv "$dir.partial" "$dir"
touch "$dir/.complete"
