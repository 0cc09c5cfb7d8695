#!/usr/bin/env bash
# Installs the system packages the test suite needs, when they are missing:
#   chromium  - the dashboard's browser test drives Debian's Chromium with playwright-core
#   iproute2  - IPv6 and link tests build network namespaces with `ip netns`
#   nginx     - the reverse-proxy test runs the configuration docs/operations.md gives
#   openssl   - TLS tests generate their certificates
#   zip, unzip, file, lintian - `npm run package` builds the Windows zip; the packaging tests
#               list and check the packages
#   debootstrap - the packaging tests install the .deb into a throw-away minimal Debian root
#   ethtool   - the local_link_limited fault test sets a TUN device's link speed
#   postgresql - the PostgreSQL store's tests start a private server for the run
#               (test/setup/postgres.ts: initdb into a temp dir, its own socket dir and port)
#               PostgreSQL 16 and 17, for CI's extra runs of the store contract suite, are not
#               Debian packages here: .ci/run fetches them (test/setup/postgres-binaries.ts)
# Runs before `npm test` (npm's pretest). Needs root and a Debian-like system to install;
# otherwise it only reports what is missing and the tests that need it will say so.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
{ command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; } || missing+=(nginx)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
for tool in zip unzip file lintian debootstrap; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
{ command -v ethtool >/dev/null 2>&1 || [ -x /usr/sbin/ethtool ]; } || missing+=(ethtool)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-test-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "ensure-test-deps: missing ${missing[*]}; install them (Debian: apt-get install ${missing[*]})" >&2
  exit 1
fi
