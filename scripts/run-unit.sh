#!/usr/bin/env bash
# Runs every cmocka unit-test binary given; fails if any test fails.
set -u
failed=0
for t in "$@"; do
  echo "== $t"
  if ! "$t"; then
    failed=$((failed + 1))
    echo "FAILED: $t"
  fi
done
[ "$failed" -eq 0 ] || { echo "$failed unit-test binaries failed"; exit 1; }
