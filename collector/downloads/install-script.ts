import { debFor, tarballFor, type PackageFile, type PackageManifest } from './packages.js'
import { base } from './instructions.js'

/**
 * /install.sh: the one-line Linux installer (`curl -fsSL <url>/install.sh | sudo sh -s --
 * --code XXXX`). Generated per request from the manifest, so the names and SHA-256 digests
 * it checks are the ones this collector serves. POSIX sh (Debian's dash), no jq: it picks
 * the .deb where dpkg exists, else the tarball; amd64 or arm64; refuses a file whose digest
 * differs; enrols with this collector's public URL; starts the service.
 */
const q = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`
const entry = (f: PackageFile | null): string => f === null ? "''" : q(`${f.name} ${f.sha256}`)

export function installScript (publicUrl: string, manifest: PackageManifest | null, problem: string | null): string {
  const url = base(publicUrl)
  const m = manifest
  return `#!/bin/sh
# tocdo agent installer, served by ${url}/install.sh
# Usage: curl -fsSL ${url}/install.sh | sudo sh -s -- --code XXXX-XXXX-XXXX-XXXX
#   --code CODE        enrolment code from the provincial admin (required)
#   --collector URL    collector to enrol with (default: ${url})
set -eu

COLLECTOR=${q(url)}
CODE=''
VERSION=${q(m?.version ?? '')}
DEB_AMD64=${entry(m === null ? null : debFor(m, 'amd64'))}
DEB_ARM64=${entry(m === null ? null : debFor(m, 'arm64'))}
TAR_X64=${entry(m === null ? null : tarballFor(m, 'x64'))}
TAR_ARM64=${entry(m === null ? null : tarballFor(m, 'arm64'))}
NOT_BUILT=${q(problem ?? '')}

say () { printf 'tocdo-agent install: %s\\n' "$*" >&2; }
fail () { say "ERROR: $*"; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --code) [ $# -ge 2 ] || fail "--code needs a value"; CODE=$2; shift 2 ;;
    --code=*) CODE=\${1#--code=}; shift ;;
    --collector) [ $# -ge 2 ] || fail "--collector needs a value"; COLLECTOR=$2; shift 2 ;;
    --collector=*) COLLECTOR=\${1#--collector=}; shift ;;
    -h|--help) sed -n '2,5p' "$0" 2>/dev/null || true; exit 0 ;;
    *) fail "unknown option $1 (use --code CODE)" ;;
  esac
done

[ -n "$CODE" ] || fail "no enrolment code: run  curl -fsSL ${url}/install.sh | sudo sh -s -- --code XXXX-XXXX-XXXX-XXXX"
[ -z "$NOT_BUILT" ] || fail "$NOT_BUILT"
[ "$(id -u)" = 0 ] || fail "run as root (sudo sh -s -- --code ...)"

case "$(uname -m)" in
  x86_64|amd64) DEB=$DEB_AMD64; TAR=$TAR_X64; ARCH=amd64 ;;
  aarch64|arm64) DEB=$DEB_ARM64; TAR=$TAR_ARM64; ARCH=arm64 ;;
  *) fail "no package for this processor ($(uname -m)); tocdo-agent is built for amd64 and arm64" ;;
esac

if command -v dpkg >/dev/null 2>&1 && [ -n "$DEB" ]; then PICK=$DEB; KIND=deb
elif [ -n "$TAR" ]; then PICK=$TAR; KIND=tar
else fail "this collector has no Linux package for $ARCH (see ${url}/install)"
fi
FILE=\${PICK% *}
SUM=\${PICK#* }

fetch () {
  if command -v curl >/dev/null 2>&1; then curl -fsSL --retry 3 -o "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then wget -q -O "$2" "$1"
  else fail "neither curl nor wget is installed"
  fi
}
sha256_of () {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  elif command -v openssl >/dev/null 2>&1; then openssl dgst -sha256 "$1" | sed 's/.*= *//'
  else fail "neither sha256sum nor openssl is installed: cannot check the package"
  fi
}

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM
say "downloading $FILE (tocdo-agent $VERSION) from $COLLECTOR"
fetch "$COLLECTOR/downloads/$FILE" "$TMP/$FILE"
GOT=$(sha256_of "$TMP/$FILE")
[ "$GOT" = "$SUM" ] || fail "SHA-256 of $FILE is $GOT, expected $SUM: not installing (download damaged or altered)"
say "SHA-256 checked: $SUM"

if [ "$KIND" = deb ]; then
  if command -v apt-get >/dev/null 2>&1; then apt-get install -y "$TMP/$FILE" >&2 || fail "apt-get could not install $FILE"
  else dpkg -i "$TMP/$FILE" >&2 || fail "dpkg could not install $FILE"
  fi
  say "enrolling with $COLLECTOR"
  TOCDO_AGENT_DATA_DIR=/var/lib/tocdo-agent tocdo-agent enroll --collector "$COLLECTOR" --code "$CODE" --force >&2 || fail "enrolment failed (see the message above); the package stays installed: retry with  sudo tocdo-agent enroll --collector $COLLECTOR --code CODE --force"
  if id tocdo >/dev/null 2>&1; then chown -R tocdo:tocdo /var/lib/tocdo-agent; fi
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl enable tocdo-agent.service >&2 && systemctl restart tocdo-agent.service >&2 || fail "the service did not start: journalctl -u tocdo-agent"
  else
    say "systemd is not running here: start the agent with your init system (tocdo-agent run)"
  fi
else
  mkdir "$TMP/x"
  tar -xzf "$TMP/$FILE" -C "$TMP/x" || fail "cannot unpack $FILE"
  INSTALLER=$(find "$TMP/x" -maxdepth 2 -name install.sh -type f | head -n 1)
  [ -n "$INSTALLER" ] || fail "$FILE holds no install.sh"
  sh "$INSTALLER" --collector "$COLLECTOR" --code "$CODE" >&2 || fail "$FILE's install.sh failed (see above)"
fi
say "done. Check with: sudo tocdo-agent status"
`
}
