#!/usr/bin/env bash
# The whole suite, as the README's quick start and CI run it: static checks, then every test layer at
# today's date, then again with the whole process tree's clock moved a year ahead and a week back
# (libfaketime), so a test that reads the machine's clock instead of --now or pinned commit dates fails
# the day it is written, not the day its date passes.
set -euo pipefail
cd "$(dirname "$0")/.."

npm run -s typecheck
npm run -s lint
npm run -s check:dist

echo "== tests at today's date"
npx vitest run

if command -v faketime >/dev/null 2>&1; then
  for shift in +400d -8d; do
    echo "== tests with the clock moved ${shift} (faketime)"
    # Timers and timeouts keep the real monotonic clock; only the wall clock moves.
    FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f "${shift}" npx vitest run
  done
elif [ -n "${CI:-}" ]; then
  echo "faketime is not installed: CI must run the suite with the clock moved (apt-get install faketime)" >&2
  exit 1
else
  echo "warning: faketime is not installed (Debian: apt-get install faketime); the suite ran at today's date only" >&2
fi
