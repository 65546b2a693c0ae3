#!/usr/bin/env bash
# `make bench-audit`: the audit writer's throughput and `warden audit verify`'s time, in one run.
#
# 1. Entries per second through src/audit/audit.c, strict and batch durability, at 1, 8 and
#    64 concurrent submitters, for BENCH_AUDIT_SECONDS (5) each. bench/audit_load.c (built
#    here against the project's objects) starts the writer with a hand-filled config and runs
#    N threads, each with its own libuv loop and mailbox, each keeping one request entry in
#    flight like a session: submit, wait for the completion on its loop, submit the next.
#    Columns:
#      acked/s      completions that arrived within the run / seconds (strict: after the
#                   fsync'd commit; batch: at once, before anything is written)
#      commit/s     entries committed within the run / seconds (MAX(id) read by a separate
#                   connection at the deadline; ids are consecutive)
#      drained/s    every acknowledged entry committed / (time until audit_stop() returned):
#                   in batch mode the queue can outgrow the writer, and this is what it commits
#      drain_s      how long audit_stop() took to commit what was still queued
#      db_entries   COUNT(*) of the store afterwards; "ok" when it equals the acknowledged count
# 2. `warden audit verify` over a store of BENCH_AUDIT_VERIFY_ENTRIES (1,000,000) entries,
#    written in batch mode by 64 submitters: once with the store evicted from the page cache
#    (posix_fadvise DONTNEED on its files only; in a VM the host may still cache them) and
#    once warm.
# Stores live in a fresh directory under BENCH_TMPDIR (/tmp), which must be on disk (tmpfs
# would make every fsync free). Results are printed and written to bench/results/audit-<date>.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

SECS=${BENCH_AUDIT_SECONDS:-5}
VERIFY_N=${BENCH_AUDIT_VERIFY_ENTRIES:-1000000}
TMPBASE=${BENCH_TMPDIR:-/tmp}
WARDEN=${WARDEN:-build/warden}
CC=${CC:-cc}
PKGS="libuv libssl libcrypto sqlite3 jansson yaml-0.1"
PY=/usr/bin/python3

T_STRICT=100000   # entries/s, strict, 64 submitters
T_BATCH=300000    # entries/s, batch
T_VERIFY=10       # seconds for verify of 1,000,000 entries

die() { echo "bench-audit: $*" >&2; exit 1; }
[[ -x "$WARDEN" ]] || die "$WARDEN missing (make first)"
mapfile -t OBJS < <(find build/obj/src -name '*.o' ! -path build/obj/src/main.o | sort)
((${#OBJS[@]} > 0)) || die "no objects under build/obj/src (make first)"

# ---------------------------------------------------------------- the driver
DRIVER=build/bench/audit_load
mkdir -p build/bench bench/results
# shellcheck disable=SC2046,SC2086
"$CC" -std=c17 -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wformat=2 -Wvla \
  -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 -fno-strict-aliasing -Isrc $(pkg-config --cflags $PKGS) \
  -O2 -g -o "$DRIVER" bench/audit_load.c "${OBJS[@]}" $(pkg-config --libs $PKGS) -lpthread -lm \
  || die "cannot build $DRIVER"

# ---------------------------------------------------------------- where the stores go
mkdir -p "$TMPBASE"
W=$(mktemp -d "$TMPBASE/warden-audit-bench.XXXXXX")
cleanup() { rm -rf "$W"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
FSTYPE=$(df -PT "$W" | awk 'NR == 2 { print $2 }')
FSDEV=$(df -PT "$W" | awk 'NR == 2 { print $1 " mounted on " $7 }')
FSMAGIC=$(stat -f -c %T "$W")
case "$FSTYPE/$FSMAGIC" in
  tmpfs/* | */tmpfs | ramfs/* | */ramfs)
    die "$W is on $FSTYPE: fsync would cost nothing; set BENCH_TMPDIR to a directory on disk" ;;
esac

RESULTS="bench/results/audit-$(date +%Y-%m-%d_%H%M%S).txt"
say() { echo "$*" | tee -a "$RESULTS"; }

say "warden audit benchmark $(date -u +%FT%TZ) on $(nproc) cores, $(uname -r)"
say "commit: $(git rev-parse --short HEAD 2>/dev/null || echo none)  sqlite $(pkg-config --modversion sqlite3)  libuv $(pkg-config --modversion libuv)"
say "stores: $W on $FSTYPE ($FSDEV; stat -f: $FSMAGIC)"
say "load: ${SECS}s per run, request entries (60-char statement), one in flight per submitter, batch_window_ms 5, sth_interval 10 s"

# ---------------------------------------------------------------- 1. throughput
declare -A R
kv() { # line key -> value
  sed -nE "s/.*(^| )$2=([^ ]*).*/\2/p" <<<"$1"
}
run_load() { # mode submitters
  local mode=$1 t=$2 out rc=0 k
  out=$("$DRIVER" -m "$mode" -t "$t" -s "$SECS" -d "$W/$mode-$t") || rc=$?
  rm -rf "${W:?}/$mode-$t"
  [[ -n "$out" ]] || die "audit_load -m $mode -t $t failed (exit $rc)"
  for k in acked_per_s committed_per_s drained_per_s stop_s db_entries consistent refused acked late; do
    R[$mode,$t,$k]=$(kv "$out" "$k")
  done
  ((rc == 0)) || echo "  (audit_load exit $rc: $out)" >&2
  printf '  %-6s %2d submitters: acked %8s/s  committed %8s/s  drained %8s/s  drain %ss\n' \
    "$mode" "$t" "${R[$mode,$t,acked_per_s]}" "${R[$mode,$t,committed_per_s]}" \
    "${R[$mode,$t,drained_per_s]}" "${R[$mode,$t,stop_s]}" >&2
}
echo "running 6 load runs of ${SECS}s (batch runs then drain their queue) ..." >&2
for mode in strict batch; do
  for t in 1 8 64; do run_load "$mode" "$t"; done
done

say ""
say "$(printf '%-7s %4s %10s %10s %10s %8s %11s %6s' mode subs 'acked/s' 'commit/s' 'drained/s' drain_s db_entries check)"
for mode in strict batch; do
  for t in 1 8 64; do
    check=ok
    [[ "${R[$mode,$t,consistent]}" == yes && "${R[$mode,$t,refused]}" == 0 ]] || check=BAD
    say "$(printf '%-7s %4d %10s %10s %10s %8s %11s %6s' "$mode" "$t" "${R[$mode,$t,acked_per_s]}" \
      "${R[$mode,$t,committed_per_s]}" "${R[$mode,$t,drained_per_s]}" "${R[$mode,$t,stop_s]}" \
      "${R[$mode,$t,db_entries]}" "$check")"
  done
done

# ---------------------------------------------------------------- 2. verify
echo "writing a store of $VERIFY_N entries (batch, 64 submitters) ..." >&2
VD="$W/verify"
vout=$("$DRIVER" -m batch -t 64 -s 600 -n "$VERIFY_N" -d "$VD") || die "building the verify store failed: $vout"
cat >"$W/verify.yaml" <<YAML
data_dir: $VD
log_level: warn
audit:
  path: $VD/audit.db
  signing_key: $VD/audit.key
YAML
evict() { # drop the store's files (only them) from the page cache
  "$PY" - "$VD" <<'PY'
import os, sys
for name in os.listdir(sys.argv[1]):
    p = os.path.join(sys.argv[1], name)
    fd = os.open(p, os.O_RDONLY)
    try:
        os.fdatasync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
PY
}
time_verify() { # -> VSECS, VLINE, VRC
  local t0 t1
  VRC=0
  t0=$(date +%s%N)
  VLINE=$("$WARDEN" audit verify -c "$W/verify.yaml" 2>&1) || VRC=$?
  t1=$(date +%s%N)
  VSECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
}
evict
time_verify; COLD=$VSECS COLD_RC=$VRC COLD_LINE=$VLINE
time_verify; WARM=$VSECS WARM_RC=$VRC WARM_LINE=$VLINE
DBSIZE=$(du -sh "$VD/audit.db" | cut -f1)

say ""
say "verify store: $(kv "$vout" db_entries) entries, audit.db $DBSIZE, written at $(kv "$vout" committed_per_s) entries/s (batch, 64 submitters, until all committed)"
say "$(printf 'warden audit verify, page cache cold: %6s s (exit %d)  %s' "$COLD" "$COLD_RC" "$COLD_LINE")"
say "$(printf 'warden audit verify, page cache warm: %6s s (exit %d)  %s' "$WARM" "$WARM_RC" "$WARM_LINE")"

# ---------------------------------------------------------------- targets
best() { # mode key -> the largest value over 1, 8, 64 submitters, and where
  local mode=$1 key=$2 t v bv=-1 bt=0
  for t in 1 8 64; do
    v=${R[$mode,$t,$key]:-0}
    if ((v > bv)); then bv=$v; bt=$t; fi
  done
  echo "$bv $bt"
}
verdict() { awk -v v="$1" -v t="$2" -v dir="$3" 'BEGIN { ok = dir == "ge" ? v >= t : v <= t; printf "%s", ok ? "PASS" : "FAIL" }'; }
pct() { awk -v v="$1" -v t="$2" 'BEGIN { printf "%.0f%%", 100 * v / t }'; }
s64=${R[strict,64,committed_per_s]:-0}
read -r ba bat < <(best batch acked_per_s)
read -r bd bdt < <(best batch drained_per_s)
read -r bc bct < <(best batch committed_per_s)
say ""
say "targets:"
say "$(printf '  strict, 64 submitters  >= %d/s   committed %s/s (%s)  %s' "$T_STRICT" "$s64" "$(pct "$s64" "$T_STRICT")" "$(verdict "$s64" "$T_STRICT" ge)")"
say "$(printf '  batch                  >= %d/s   acked %s/s (%d submitters)  %s' "$T_BATCH" "$ba" "$bat" "$(verdict "$ba" "$T_BATCH" ge)")"
say "$(printf '                                          committed in-run %s/s (%d), drained %s/s (%d)  %s' "$bc" "$bct" "$bd" "$bdt" "$(verdict "$bd" "$T_BATCH" ge)")"
say "$(printf '  verify %d entries  <= %d s        cold %s s, warm %s s  %s' "$VERIFY_N" "$T_VERIFY" "$COLD" "$WARM" \
  "$( ((COLD_RC == 0 && WARM_RC == 0)) && verdict "$COLD" "$T_VERIFY" le || echo FAIL)")"
say ""
echo "results written to $RESULTS" >&2
