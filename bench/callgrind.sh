#!/bin/sh
# Instructions per transition of orchestra (lua5.4 binding) for pass_chain and
# task_calls, counted by valgrind's callgrind at two sizes and subtracted, so
# that start-up, definition loading and checking cancel out:
#   (Ir(N2) - Ir(N1)) / (transitions(N2) - transitions(N1))
# Prints a Markdown table, then for each workload the functions whose own
# instructions grow most per transition (the two profiles subtracted).
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
# "count name" per function of one profile (own instructions, every function)
functions() {
  callgrind_annotate --threshold=100 "$1" 2>/dev/null |
    awk '/^ *[0-9,]+ +\([ 0-9.]+%\) +[^ ]/ && !/PROGRAM TOTALS/ {
      n = $1; gsub(",", "", n)
      name = $0; sub(/^ *[0-9,]+ +\([ 0-9.]+%\) +/, "", name)
      obj = ""
      if (match(name, / \[[^]]*\] *$/)) {
        obj = substr(name, RSTART + 2, RLENGTH - 3); sub(/\] *$/, "", obj)
        sub(/.*\//, "", obj); name = substr(name, 1, RSTART - 1)
      }
      sub(/^.*\/work\/main\//, "", name); sub(/ +$/, "", name)
      if (name ~ /^\?\?\?/ && obj != "") name = name " (" obj ")"
      print n, name
    }'
}

for w in pass_chain task_calls; do
  t1=$(transitions "$w" "$N1")
  t2=$(transitions "$w" "$N2")
  echo
  echo "Hot spots of $w: the $TOP functions whose own instructions grow most per transition"
  echo "(profile at N=$N2 minus profile at N=$N1, divided by the $((t2 - t1)) transitions added;"
  echo "\`???\` entries are in libraries without symbols, named by their object file):"
  echo
  echo '```'
  functions "$out/$w.$N1.cg" >"$out/$w.a"
  functions "$out/$w.$N2.cg" >"$out/$w.b"
  awk -v dt="$((t2 - t1))" '
    FNR == NR { n = $1; $1 = ""; a[$0] += n; next }
    { n = $1; $1 = ""; b[$0] += n }
    END {
      for (k in b) { d = (b[k] - a[k]) / dt; if (d >= 0.5) printf "%10.1f %s\n", d, k }
    }' "$out/$w.a" "$out/$w.b" | sort -rn | head -n "$TOP"
  echo '```'
done
