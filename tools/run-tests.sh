#!/bin/sh
# Run the C tests (ctest), the busted specs under each Lua in $LUAS, and the
# format check; print the totals as "N passed, N failed" on the last line.
# Environment: LUAS, BUILD, BUILD_SUFFIX (e.g. "asan-"), SANITIZE=1.
set -u
LUAS=${LUAS:-lua5.4 lua5.1 luajit}
BUILD=${BUILD:-build}
passed=0
failed=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

preload=""
if [ "${SANITIZE:-}" = 1 ]; then
  preload="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
  # leaks are hunted in the specs too: the interpreter is not instrumented,
  # but it frees its state before exit and LeakSanitizer reports only what
  # nothing points at (a leak in the module, or in a CLI run of a spec)
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi

add() { passed=$((passed + $1)); failed=$((failed + $2)); }

first=1
for lua in $LUAS; do
  dir="$BUILD/${BUILD_SUFFIX:-}$lua"
  # The C tests do not depend on the Lua: run them with the first build.
  if [ "$first" = 1 ]; then
  first=0
  echo "== C tests ($dir)"
  # the C tests hunt leaks too
  if ASAN_OPTIONS=detect_leaks=1 ctest --test-dir "$dir" --output-on-failure \
    >"$out" 2>&1; then :; fi
  cat "$out"
  line=$(grep -E 'tests passed, [0-9]+ tests? failed out of' "$out" | tail -n 1)
  if [ -n "$line" ]; then
    total=$(echo "$line" | sed -E 's/.* out of ([0-9]+).*/\1/')
    bad=$(echo "$line" | sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/')
    add $((total - bad)) "$bad"
  elif ! grep -q 'No tests were found' "$out"; then
    add 0 1
  fi
  fi

  echo "== specs under $lua ($dir)"
  LD_PRELOAD="$preload" ORCHESTRA_TEST_LUA="$lua" ORCHESTRA_TEST_BUILD="$dir" \
    busted --lua="$lua" --cpath="$dir/?.so" -o plainTerminal --shuffle \
    >"$out" 2>&1
  cat "$out"
  line=$(grep -E '^[0-9]+ successes? / [0-9]+ failures? / [0-9]+ errors? / [0-9]+ pending' "$out" | tail -n 1)
  # a sanitizer report in the busted process itself (a leak is reported at
  # exit, after the summary) is a failure of its own
  if grep -qE 'ERROR: (LeakSanitizer|AddressSanitizer)|runtime error:' "$out"; then
    echo "a sanitizer reported a fault in the specs under $lua (see above): counted as a failure"
    add 0 1
  fi
  if [ -n "$line" ]; then
    ok=$(echo "$line" | sed -E 's/^([0-9]+) success.*/\1/')
    nfail=$(echo "$line" | sed -E 's/.* ([0-9]+) failures? \/.*/\1/')
    nerr=$(echo "$line" | sed -E 's/.* ([0-9]+) errors? \/.*/\1/')
    add "$ok" $((nfail + nerr))
  else
    echo "busted under $lua printed no summary: counted as a failure"
    add 0 1
  fi
done

echo "== format check (clang-format)"
if make -s format-check >"$out" 2>&1; then
  add 1 0
else
  cat "$out"
  add 0 1
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
