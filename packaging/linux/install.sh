#!/bin/sh
# Installs the tocdo agent from this folder on a Linux system with systemd (the .deb is the
# way on Debian and Ubuntu): files under /opt/tocdo-agent, /usr/bin/tocdo-agent, a "tocdo"
# system user, the tocdo-agent.service unit, data in /var/lib/tocdo-agent. An upgrade keeps
# the data and the enrolment.
#   sudo ./install.sh --collector https://collector.example --code ABCD-EFGH
set -eu
collector=""; code=""
while [ $# -gt 0 ]; do
  case "$1" in
    --collector) collector="${2:?--collector needs a URL}"; shift 2 ;;
    --code) code="${2:?--code needs the enrolment code}"; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument $1 (expected --collector URL --code CODE)" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" != 0 ]; then echo "install.sh: run it as root (sudo ./install.sh ...)" >&2; exit 1; fi
src=$(dirname "$(readlink -f "$0")")
dest=/opt/tocdo-agent
if [ -d /run/systemd/system ] && systemctl is-active --quiet tocdo-agent; then systemctl stop tocdo-agent; fi
install -d -m 0755 "$dest" "$dest/bin" "$dest/lib"
install -m 0755 "$src/bin/node" "$dest/bin/node.new" && mv -f "$dest/bin/node.new" "$dest/bin/node"
install -m 0755 "$src/bin/tocdo-agent" "$dest/bin/tocdo-agent"
install -m 0644 "$src/lib/tocdo-agent.mjs" "$dest/lib/tocdo-agent.mjs"
install -m 0644 "$src/LICENSE.node.txt" "$dest/LICENSE.node.txt"
install -m 0755 "$src/uninstall.sh" "$dest/uninstall.sh"
ln -sf "$dest/bin/tocdo-agent" /usr/bin/tocdo-agent
# The user, the data dir and the unit come from the agent itself (tocdo-agent install-service).
/usr/bin/tocdo-agent install-service
if [ -n "$collector" ] || [ -n "$code" ]; then
  /usr/bin/tocdo-agent enroll --collector "$collector" --code "$code"
  if [ -d /run/systemd/system ]; then systemctl restart tocdo-agent; fi
fi
echo "tocdo-agent installed. Status: tocdo-agent status"
