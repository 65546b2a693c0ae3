#!/usr/bin/env bash
# Install everything warden needs to build, test and benchmark (Debian 12).
# Idempotent and fast when all is present: dpkg-query first, apt-get only when
# something is missing. nodejs/npm are expected on the machine already.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(
  build-essential clang libclang-rt-14-dev pkg-config
  libuv1-dev libssl-dev libpg-query-dev libprotobuf-c-dev libsqlite3-dev libpq-dev libjansson-dev libjsmn-dev
  libyaml-dev libcmocka-dev libcurl4-openssl-dev libhttp-parser-dev libpcre2-dev libhyperscan-dev
  postgresql postgresql-client pgbouncer
  python3 python3-psycopg
  openssl ca-certificates procps iproute2 sqlite3 jq
)

missing=()
for p in "${PKGS[@]}"; do
  st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ "$st" == installed ]] || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The Debian package starts a default cluster on 5432; warden's scripts run
  # their own throwaway clusters, so the packaged one is left alone.
fi

# Node test client (npm `pg`).
if [[ -f tests/node/package.json ]]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "deps: npm not found (nodejs/npm are expected on the machine)" >&2
    exit 1
  fi
  if [[ ! -d tests/node/node_modules || tests/node/package.json -nt tests/node/node_modules ]]; then
    echo "deps: npm install in tests/node"
    (cd tests/node && npm install --no-audit --no-fund --loglevel=error)
    touch tests/node/node_modules
  fi
fi
