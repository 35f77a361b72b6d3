#!/bin/sh
# Install what `make demo` / `make test` need on Debian (as root), or say
# what is missing. Checks are cheap: nothing is installed twice.
set -eu

# `deps.sh demo`: what `make demo` needs (Lua 5.4 and the build); `deps.sh`
# or `deps.sh test`: everything `make test` needs. `--list [demo|test]`
# prints the set.
DEMO="lua5.4 liblua5.4-dev libcjson-dev libpcre2-dev libcurl4-openssl-dev libssl-dev cmake
build-essential pkg-config"
TEST="$DEMO lua5.1 liblua5.1-0-dev luajit libluajit-5.1-dev luarocks lua-busted
clang-format neovim lighttpd lighttpd-modules-lua curl graphviz librsvg2-bin"
list=0
[ "${1:-}" = "--list" ] && { list=1; shift; }
case "${1:-test}" in
  demo) PACKAGES=$DEMO; node=0 ;;
  test) PACKAGES=$TEST; node=1 ;;
  *) echo "deps: unknown set '$1' (demo or test)" >&2; exit 64 ;;
esac
if [ "$list" = 1 ]; then
  [ "$node" = 1 ] && PACKAGES="$PACKAGES nodejs npm"
  echo $PACKAGES
  exit 0
fi

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing="$missing $p"
  fi
done
# node and npm run the asl-validator cross-check; a Node.js from elsewhere
# (nvm, a tarball) serves as well as Debian's.
if [ "$node" = 1 ]; then
  command -v node >/dev/null 2>&1 || missing="$missing nodejs"
  command -v npm >/dev/null 2>&1 || missing="$missing npm"
fi
[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "deps: missing packages:$missing (and no apt-get here): install them by hand" >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "deps: missing Debian packages:$missing" >&2
  echo "deps: run as root, or: sudo apt-get install$missing" >&2
  exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
