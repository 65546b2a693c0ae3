#!/usr/bin/env bash
# `make bench-mask` (after the engine bench): masking on the wire, end to end.
#
# Three results of 1000 rows, 10 columns each, through two gateways side by side, one
# whose rule masks with profile pii (twelve detectors, email to bearer_token, a custom one, three column
# globs, two JSON key globs, partial style) and one whose rule does not:
#   customers  SELECT * FROM customers LIMIT 1000 (tests/integration/mask_seed.sql):
#              every detector's shapes, JSON documents with json_keys keys and two
#              column-rule columns; ~10 values to mask in every row
#   contacts   SELECT * FROM bench_contacts: a CRM's customers table (name, email,
#              phone, street, city, country, created_at, plan, note): two values to
#              mask in every row
#   orders     SELECT * FROM bench_orders: business data, an email in one row in 50
#              (results as most are)
# BENCH_MASK_WORKLOADS="contacts orders" runs some of them only.
# pgbench -n -f for BENCH_MASK_SECONDS (10) each, at 1 client (-c1 -j1) and 4 clients
# (-c4 -j2), runs alternated off/on/on/off (as bench/pg.sh does for the policy) so the
# ratio compares runs made under the same machine conditions, and each gateway's own CPU
# time per query (user + system, /proc) says what masking costs it; direct PostgreSQL once
# per client count for scale. Plain TCP on 127.0.0.1, audit batch. Then warden's CPU
# per row in the mask stage alone (build/mask_rows on the same rows, no network), which
# is what the end to end ratio is made of.
# Target: on/off >= 0.8. Results are printed and written to bench/results/mask-<date>.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)

SECS=${BENCH_MASK_SECONDS:-10}
WARDEN=${WARDEN:-$REPO/build/warden}
# shellcheck source=bench/lib.sh
. bench/lib.sh
TARGET=0.8
[[ -x "$WARDEN" ]] || { echo "bench-mask: $WARDEN missing (make first)" >&2; exit 1; }

W=$(mktemp -d /tmp/warden-mask-bench.XXXXXX)
chmod 0755 "$W"
mkdir -p "$W/pg" bench/results
chown postgres: "$W/pg"
RESULTS="bench/results/mask-$(date +%Y-%m-%d_%H%M%S).txt"
PIDS=()

cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  scripts/pgcluster.sh stop "$W/pg" || true
  rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM


# ---------------------------------------------------------------- cluster and data
PG_PORT=$(scripts/free-port.sh)
scripts/pgcluster.sh start "$W/pg" "$PG_PORT" >/dev/null
PW=$(cat "$W/pg/password")
export APP_PW=$PW
psql -X -q -h "$W/pg" -p "$PG_PORT" -U postgres -d app -f tests/integration/mask_seed.sql >/dev/null
echo "SELECT * FROM customers LIMIT 1000;" >"$W/select_customers.sql"
psql -X -q -h "$W/pg" -p "$PG_PORT" -U postgres -d app <<'SQL' >/dev/null
-- A result as most are: 10 columns of business data, one row in 50 with an email in its note.
CREATE TABLE public.bench_orders AS
SELECT g AS id, 1000 + g % 97 AS customer_id, (g * 7919 % 100000) / 100.0 AS amount,
       date '2026-01-01' + g % 300 AS ordered_on, (ARRAY['new','paid','shipped','returned'])[1 + g % 4] AS status,
       'SKU-' || lpad((g * 31 % 9999)::text, 4, '0') AS sku, (ARRAY['laptop stand','usb-c cable','monitor arm','desk lamp'])[1 + g % 4] AS product,
       g % 5 + 1 AS quantity, (g % 3 = 0) AS gift,
       CASE WHEN g % 50 = 0 THEN 'customer asked to mail the invoice to billing' || g || '@example.com'
            ELSE 'deliver to the front desk, ring twice' END AS note
FROM generate_series(1, 1000) g;
-- A CRM's customers table: an email and a phone number in every row.
CREATE TABLE public.bench_contacts AS
SELECT g AS id,
       (ARRAY['Jane','John','Amelie','Omar','Li','Sofia','Lukas','Priya'])[1 + g % 8] || ' ' ||
       (ARRAY['Doe','Smith','Mueller','Haddad','Wang','Rossi','Novak','Patel'])[1 + g * 7 % 8] AS name,
       (ARRAY['jane','john','amelie','omar','li','sofia','lukas','priya'])[1 + g % 8] || '.' || g || '@example.com' AS email,
       '+1 415-555-' || lpad((g % 10000)::text, 4, '0') AS phone,
       (1 + g % 250) || ' ' || (ARRAY['Main Street','Elm Avenue','Baker Street','Rue de la Paix'])[1 + g % 4] AS street,
       (ARRAY['Springfield','London','Paris','Berlin','Madrid'])[1 + g % 5] AS city,
       (ARRAY['US','GB','FR','DE','ES'])[1 + g % 5] AS country,
       timestamptz '2025-01-01 00:00+00' + g * interval '37 minutes' AS created_at,
       (ARRAY['free','pro','team','enterprise'])[1 + g % 4] AS plan,
       CASE WHEN g % 5 = 0 THEN 'asked for a callback about the renewal' ELSE 'no notes' END AS note
FROM generate_series(1, 1000) g;
GRANT SELECT ON public.bench_orders, public.bench_contacts TO app_scram;
SQL
echo "SELECT * FROM bench_orders LIMIT 1000;" >"$W/select_orders.sql"
echo "SELECT * FROM bench_contacts LIMIT 1000;" >"$W/select_contacts.sql"
WORKLOADS=(${BENCH_MASK_WORKLOADS:-customers contacts orders}) # e.g. BENCH_MASK_WORKLOADS=contacts
declare -A TABLE=([customers]=customers [contacts]=bench_contacts [orders]=bench_orders)
declare -A BYTES
for WL in "${WORKLOADS[@]}"; do
  BYTES[$WL]=$(psql -X -At -h "$W/pg" -p "$PG_PORT" -U postgres -d app \
    -c "select sum(octet_length(t::text)) from (select * from public.${TABLE[$WL]} limit 1000) t")
done

# ---------------------------------------------------------------- two gateways
KEY=wdn_bench_key_$(openssl rand -hex 8)
KEY_SHA=$(printf %s "$KEY" | sha256sum | cut -d' ' -f1)
start_warden() { # name mask_option -> sets PORT_<name>
  local name=$1 opt=$2 port
  port=$(scripts/free-port.sh)
  mkdir -p "$W/wd-$name"
  cat >"$W/wd-$name/warden.yaml" <<YAML
data_dir: $W/wd-$name/data
listen:
  postgres: 127.0.0.1:$port
log_level: warn
audit:
  durability: batch
tls:
  mode: off
identity:
  api_keys:
    - name: bench
      key_sha256: "$KEY_SHA"
      groups: [bench]
masking:
  profiles:
    - name: pii
      detectors: [email, phone, credit_card, iban, us_ssn, ipv4, jwt, aws_access_key, azure_storage_key, private_key, password_in_url, bearer_token]
      custom: [{ name: employee_id, pattern: "EMP-[0-9]{6}" }]
      columns: ["public.customers.ssn", "*.password*", "*.api_key"]
      json_keys: ["secret*", "token"]
      style: partial
policy:
  default: deny
  rules:
    - { name: everyone, match: {}, action: allow$opt }
connections:
  - name: app
    type: postgres
    host: 127.0.0.1
    port: $PG_PORT
    database: app
    user: app_scram
    password_env: APP_PW
    sslmode: disable
YAML
  "$WARDEN" serve -c "$W/wd-$name/warden.yaml" >>"$W/wd-$name/warden.log" 2>&1 &
  PIDS+=($!)
  printf -v "PID_$name" %s "$!"
  wait_port "$port" 15 || { tail -5 "$W/wd-$name/warden.log" >&2; echo "bench-mask: warden ($name) did not start" >&2; exit 1; }
  printf -v "PORT_$name" %s "$port"
}
start_warden off ""
start_warden on ", mask: pii"

# Both gateways answer, and only one masks: otherwise the comparison means nothing.
probe() { PGPASSWORD=$KEY psql -X -At "host=127.0.0.1 port=$1 dbname=app user=bench sslmode=disable" \
  -c "select email, ssn from customers where id = 1" 2>&1; }
p_off=$(probe "$PORT_off") p_on=$(probe "$PORT_on")
[[ "$p_off" == "alice.martin@example.org|123-45-6789" ]] || { echo "bench-mask: the unmasked gateway returned [$p_off]" >&2; exit 1; }
[[ "$p_on" == "****"*"|****"* ]] || { echo "bench-mask: the masking gateway did not mask: [$p_on]" >&2; exit 1; }

# ---------------------------------------------------------------- runs
declare -A TPS LAT CPU NTX
TICK=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # user + system, every thread
run_pgbench() { # label port user password clients threads weight [warden pid]   (uses $WL: the workload)
  local label=$WL/$1 port=$2 user=$3 pw=$4 c=$5 j=$6 pid=${8:-} out tps lat ntx t0=0
  [[ -n "$pid" ]] && t0=$(cpu_ticks "$pid")
  out=$(PGPASSWORD=$pw pgbench -n -f "$W/select_$WL.sql" -T "$SECS" -c "$c" -j "$j" \
    "host=127.0.0.1 port=$port dbname=app user=$user sslmode=disable" 2>&1) || {
    echo "bench-mask: pgbench failed against $label (-c $c):" >&2; echo "$out" | tail -5 >&2; tps=0 lat=0; }
  tps=$(sed -nE 's/^tps = ([0-9.]+) \(without initial.*/\1/p' <<<"$out")
  lat=$(sed -nE 's/^latency average = ([0-9.]+) ms.*/\1/p' <<<"$out")
  ntx=$(sed -nE 's/^number of transactions actually processed: ([0-9]+).*/\1/p' <<<"$out")
  if [[ -n "$pid" ]]; then # warden's own CPU time over the run, per query
    CPU[$label,$c]=$(( ${CPU[$label,$c]:-0} + $(cpu_ticks "$pid") - t0 ))
    NTX[$label,$c]=$(( ${NTX[$label,$c]:-0} + ${ntx:-0} ))
  fi
  printf '  %-8s -c %d %10.1f tps %9.3f ms\n' "$label" "$c" "${tps:-0}" "${lat:-0}" >&2
  TPS[$label,$c]=$(awk -v a="${TPS[$label,$c]:-0}" -v b="${tps:-0}" -v n="$7" 'BEGIN { print a + b / n }')
  LAT[$label,$c]=$(awk -v a="${LAT[$label,$c]:-0}" -v b="${lat:-0}" -v n="$7" 'BEGIN { print a + b / n }')
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'; }

say "warden masking on the wire $(date -u +%FT%TZ) on $(nproc) cores, $(uname -r)"
if [[ "$WARDEN" == "$REPO/build/warden" ]]; then
  say "commit: $(git rev-parse --short HEAD 2>/dev/null || echo none)$(git diff --quiet HEAD -- src 2>/dev/null || echo ' (src has uncommitted changes)')"
else
  say "binary: $WARDEN (HEAD is $(git rev-parse --short HEAD 2>/dev/null || echo none))"
fi
declare -A ABOUT=(
  [customers]="SELECT * FROM customers LIMIT 1000: %s bytes of row text per query,
  every detector's shapes, JSON documents with json_keys keys, 2 column-rule columns (~10 values masked per row)"
  [contacts]="SELECT * FROM bench_contacts LIMIT 1000: %s bytes, an email and a phone in every row"
  [orders]="SELECT * FROM bench_orders LIMIT 1000: %s bytes, an email in one row in 50")
for WL in "${WORKLOADS[@]}"; do
  [[ -n "${ABOUT[$WL]:-}" ]] || { echo "bench-mask: no workload $WL (customers, contacts, orders)" >&2; exit 2; }
  # shellcheck disable=SC2059
  say "$WL: $(printf "${ABOUT[$WL]}" "${BYTES[$WL]}")"
done
say "pgbench -n -f, ${SECS}s per run"
echo "running $((${#WORKLOADS[@]} * 2 * 5)) pgbench runs of ${SECS}s (direct, then masking off/on/on/off) ..." >&2
for WL in "${WORKLOADS[@]}"; do
  for c in 1 4; do
    j=$((c == 1 ? 1 : 2))
    run_pgbench direct "$PG_PORT" app_scram "$PW" "$c" "$j" 1
    for target in off on on off; do
      port=$([[ $target == on ]] && echo "$PORT_on" || echo "$PORT_off")
      pid=$([[ $target == on ]] && echo "$PID_on" || echo "$PID_off")
      run_pgbench "$target" "$port" bench "$KEY" "$c" "$j" 2 "$pid"
    done
  done
done

say ""
say "$(printf '  %-10s %-3s %12s %12s %12s %8s %14s' workload c direct_tps off_tps on_tps on/off 'on MB/s rows')"
for WL in "${WORKLOADS[@]}"; do
  for c in 1 4; do
    r=$(ratio "${TPS[$WL/on,$c]}" "${TPS[$WL/off,$c]}")
    mbs=$(awk -v t="${TPS[$WL/on,$c]}" -v b="${BYTES[$WL]}" 'BEGIN { printf "%.1f", t * b / 1e6 }')
    say "$(printf '  %-10s %-3d %12.1f %12.1f %12.1f %8s %14s' "$WL" "$c" "${TPS[$WL/direct,$c]}" "${TPS[$WL/off,$c]}" "${TPS[$WL/on,$c]}" "$r" "$mbs")"
    say "$(awk -v a="${LAT[$WL/on,$c]}" -v b="${LAT[$WL/off,$c]}" -v c="$c" 'BEGIN { printf "      -c %d latency: off %.3f ms, on %.3f ms (%+.3f ms per 1000-row query)", c, b, a, a - b }')"
    say "$(awk -v a="${CPU[$WL/on,$c]}" -v na="${NTX[$WL/on,$c]}" -v b="${CPU[$WL/off,$c]}" -v nb="${NTX[$WL/off,$c]}" \
      -v t="$TICK" -v c="$c" 'BEGIN { if (na > 0 && nb > 0) { on = a / t / na * 1e6; off = b / t / nb * 1e6;
        printf "      -c %d warden CPU per query: off %.0f µs, on %.0f µs (%+.0f µs, %.2f µs per row)", c, off, on, on - off, (on - off) / 1000 } }')"
    # on/off >= 0.8 lets a query take 1.25 times as long; with every core busy (-c 4), the
    # extra time is the masking CPU of c queries spread over the cores: what that leaves per row
    if (( c > $(nproc) )); then
      say "$(awk -v l="${LAT[$WL/off,$c]}" -v c="$c" -v n="$(nproc)" \
        'BEGIN { printf "      -c %d: 0.8 leaves masking %.2f µs of CPU per row (0.25 x off latency x %d cores / %d clients, the cores busy)", c, 0.25 * l * n / c, n, c }')"
    fi
  done
done
say "  (two gateways side by side, alternated off/on/on/off, means; target on/off >= $TARGET)"

# ---------------------------------------------------------------- the mask stage alone
# The same rows as DataRows through pgm_data_row with the same profile, one thread, no
# network: warden's CPU per row, and of it the one scan of each read, which any design that
# inspects every byte pays before it confirms anything. Column specs come from the catalog:
# type OIDs, ":w" where the profile's column rules mask the column whole.
if [[ -x "$REPO/build/mask_rows" ]]; then
  say ""
  say "mask stage alone (build/mask_rows, thread CPU time, 200 passes over the 1000 rows):"
  for WL in "${WORKLOADS[@]}"; do
    t=${TABLE[$WL]}
    spec=$(psql -X -At -h "$W/pg" -p "$PG_PORT" -U postgres -d app -c "
      select string_agg(atttypid::text || case when (attrelid = 'public.customers'::regclass and attname = 'ssn')
                        or attname like '%password%' or attname = 'api_key' then ':w' else '' end, ',' order by attnum)
      from pg_attribute where attrelid = 'public.$t'::regclass and attnum > 0 and not attisdropped")
    { echo "$spec"
      psql -X -At -h "$W/pg" -p "$PG_PORT" -U postgres -d app -F $'\x1f' -R $'\x1e' -P 'null=\N' \
        -c "select * from public.$t limit 1000"; } >"$W/$WL.rows"
    say "  $WL: $("$REPO/build/mask_rows" "$W/$WL.rows" 200 | sed 's/^[^:]*: //')"
  done
else
  echo "bench-mask: build/mask_rows missing (make bench-mask builds it): no per-row figures" >&2
fi
say ""
echo "results written to $RESULTS" >&2
