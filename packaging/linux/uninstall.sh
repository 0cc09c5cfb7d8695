#!/bin/sh
# Removes the tocdo agent installed by install.sh. The data (/var/lib/tocdo-agent) and the
# "tocdo" user are kept unless --purge is given.
set -eu
purge=no
[ "${1:-}" = "--purge" ] && purge=yes
if [ "$(id -u)" != 0 ]; then echo "uninstall.sh: run it as root" >&2; exit 1; fi
/opt/tocdo-agent/bin/tocdo-agent uninstall-service || true
rm -f /usr/bin/tocdo-agent
rm -rf /opt/tocdo-agent
if [ "$purge" = yes ]; then
  rm -rf /var/lib/tocdo-agent
  if getent passwd tocdo >/dev/null; then userdel tocdo; fi
fi
echo "tocdo-agent removed$([ "$purge" = yes ] && echo ', with its data' || echo '; data kept in /var/lib/tocdo-agent')"
