#!/usr/bin/env bash
# Runs each libFuzzer target briefly (FUZZ_SECONDS, default 20) from its seed
# corpus in tests/fuzz/corpus/<name>/ (copied, so the checked-in seeds stay as
# they are). A crash, leak or timeout fails the run and leaves the reproducer
# in build/fuzz/<name>-artifacts/.
set -euo pipefail
secs=${FUZZ_SECONDS:-20}
for bin in "$@"; do
  name=$(basename "$bin")
  work=build/fuzz/$name-corpus
  art=build/fuzz/$name-artifacts
  mkdir -p "$work" "$art"
  if [ -d "tests/fuzz/corpus/$name" ]; then
    cp -n tests/fuzz/corpus/"$name"/* "$work"/ 2>/dev/null || true
  fi
  echo "== fuzz $name for ${secs}s"
  "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
    -artifact_prefix="$art/" "$work" 2>build/fuzz/$name.log || {
    tail -40 build/fuzz/$name.log
    echo "fuzz target $name failed; reproducer in $art/"
    exit 1
  }
  grep -E '^#[0-9]+.*DONE' build/fuzz/$name.log | tail -1 || true
done
