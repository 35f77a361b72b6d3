#!/bin/sh
# Instructions per transition of orchestra (lua5.4 binding) for pass_chain and
# task_calls, counted by valgrind's callgrind at two sizes and subtracted, so
# that start-up, definition loading and checking cancel out:
#   (Ir(N2) - Ir(N1)) / (transitions(N2) - transitions(N1))
# Prints a Markdown table, then the functions with the most instructions
# (self cost) in the larger task_calls and pass_chain runs.
# Environment: BUILD (default build), LUA (default lua5.4), N1, N2, TOP.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
LUA=${LUA:-lua5.4}
N1=${N1:-2000}
N2=${N2:-10000}
TOP=${TOP:-15}
command -v valgrind >/dev/null 2>&1 || { echo "callgrind.sh: valgrind is missing (apt-get install valgrind)" >&2; exit 1; }
[ -f "$BUILD/$LUA/orchestra/core.so" ] || { echo "callgrind.sh: no $BUILD/$LUA/orchestra/core.so: run make build-$LUA" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export LUA_PATH="$PWD/lua/?.lua;$PWD/lua/?/init.lua;;"
export LUA_CPATH="$PWD/$BUILD/$LUA/?.so;;"
export BENCH_CLOCK_DIR="$PWD/$BUILD/bench/$LUA"

# transitions per workload and size (bench/workloads.lua's formulas)
transitions() {
  case $1 in
    pass_chain) echo $((3 * $2 + 2)) ;;
    task_calls) echo $((7 * $2 + 2)) ;;
  esac
}

# instructions of one run: "Collected : N" on valgrind's stderr
count() {
  valgrind --tool=callgrind --callgrind-out-file="$out/$1.$2.cg" \
    "$LUA" bench/run.lua "$1" --size "$2" --no-count >"$out/$1.$2.out" 2>"$out/$1.$2.err" || {
    echo "callgrind.sh: $1 --size $2 failed:" >&2
    cat "$out/$1.$2.err" >&2
    exit 1
  }
  sed -n 's/^==[0-9]*== Collected : \([0-9]*\)$/\1/p' "$out/$1.$2.err"
}

echo "valgrind $(valgrind --version | sed 's/valgrind-//'), $LUA, sizes $N1 and $N2, full history (the default)."
echo
echo "| workload | Ir at N=$N1 | Ir at N=$N2 | transitions added | instructions / transition |"
echo "|---|---:|---:|---:|---:|"
for w in pass_chain task_calls; do
  i1=$(count "$w" "$N1")
  i2=$(count "$w" "$N2")
  t1=$(transitions "$w" "$N1")
  t2=$(transitions "$w" "$N2")
  per=$(awk -v a="$i1" -v b="$i2" -v s="$t1" -v t="$t2" 'BEGIN { printf "%.0f", (b - a) / (t - s) }')
  echo "| $w | $i1 | $i2 | $((t2 - t1)) | $per |"
done
for w in pass_chain task_calls; do
  echo
  echo "Top $TOP functions by own instructions, $w at N=$N2 (callgrind_annotate, whole process):"
  echo
  echo '```'
  callgrind_annotate --threshold=100 "$out/$w.$N2.cg" 2>/dev/null |
    awk '/^ *[0-9,]+ +\([ 0-9.]+%\) +[^ ]/ && !/PROGRAM TOTALS/' | head -n "$TOP" |
    sed -E 's|/[^ ]*/work/main/||; s|\[[^]]*\]$||'
  echo '```'
done
