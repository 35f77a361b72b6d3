#!/bin/sh
# Install what `make demo` / `make test` need on Debian (as root), or say
# what is missing. Checks are cheap: nothing is installed twice.
set -eu

PACKAGES="lua5.4 liblua5.4-dev lua5.1 liblua5.1-0-dev luajit libluajit-5.1-dev
luarocks lua-busted libcjson-dev libpcre2-dev libcurl4-openssl-dev libssl-dev cmake
build-essential pkg-config clang-format neovim lighttpd lighttpd-modules-lua
curl graphviz"
[ "${1:-}" = "--list" ] && { echo $PACKAGES; exit 0; }

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing="$missing $p"
  fi
done
# node and npm run the asl-validator cross-check; a Node.js from elsewhere
# (nvm, a tarball) serves as well as Debian's.
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
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
