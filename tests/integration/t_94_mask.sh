#!/usr/bin/env bash
# Masking on the wire: a seeded customers table (tests/integration/mask_seed.sql:
# 1013 rows, every detector's shapes, valid and invalid cards, IBANs and SSNs,
# JSON keys, column rules) read by a masked identity through psql (text),
# psycopg (text and binary results, a binary parameter, prepared statements, a
# server-side cursor), node-postgres (objects, arrays, binary results, a named
# statement), raw extended protocol (Execute without Describe, a portal in parts),
# COPY TO STDOUT (text, CSV, a query, binary) and pg_dump: no seeded sensitive
# value reaches the client, near misses and ordinary values are unchanged,
# row counts are right, the masked COPY and dump still load. The dba group
# reads clear values. A statement computing on a column-rule column (upper(),
# a cast, a WHERE, a whole row, a UNION arm) is refused, and the dba's runs.
# A secret known by its key is masked in a document read one by one, and
# json_keys name keys in text that is no JSON (token=..., 'token': ...).
# Notifications and a parameter's new value (set_config('application_name',
# email, false) reports it in a ParameterStatus) are masked too.
# The audit trail (capture_results: masked) holds no sensitive value, records
# per-detector counts and the masked rows.
#
# Checking the test itself: T94_NO_MASK=1 drops `mask: pii` from the rule (every
# leak assertion must then fail); T94_CAPTURE=summary sets audit.capture_results.
source "$(dirname "$0")/lib.sh"
it_init

pg_direct -d app -f "$IT_ROOT/mask_seed.sql" >/dev/null || die "could not seed the customers table"
# The seeded values, by kind (the expectations live in schema t94, which warden's login cannot read).
pg_direct -d app -At -c "select distinct value from t94.expect where kind = 'secret' order by 1" >"$T/secrets.txt"
pg_direct -d app -At -c "select distinct value from t94.expect where kind = 'clear' order by 1" >"$T/clear.txt"
# what is in customers alone (the dba's reads of customers must show every one of them)
pg_direct -d app -At -c "select distinct value from t94.expect e where kind = 'secret' and not exists
  (select 1 from public.accounts a where e.value in (a.password, a.api_key)) order by 1" >"$T/secrets_customers.txt"
N_SECRETS=$(wc -l <"$T/secrets.txt")
N_CLEAR=$(wc -l <"$T/clear.txt")
N_SECRETS_CUST=$(wc -l <"$T/secrets_customers.txt")
N_ROWS=$(pg_direct -d app -At -c "select count(*) from public.customers")
((N_SECRETS > 10000 && N_CLEAR > 2000)) || die "seed: only $N_SECRETS secret and $N_CLEAR clear values"
assert_eq "$N_ROWS" "1013" "seeded 1013 customers ($N_SECRETS distinct sensitive values, $N_CLEAR clear ones)"

MASK_OPT=", mask: pii"
[[ "${T94_NO_MASK:-0}" == 1 ]] && { MASK_OPT=""; log "T94_NO_MASK=1: the rule asks for no masking (these checks must fail)"; }
WD_AUDIT_EXTRA="capture_results: ${T94_CAPTURE:-masked}
  max_result_bytes: 1MiB"
WD_EXTRA="masking:
  profiles:
    - name: pii
      detectors: [email, phone, credit_card, iban, us_ssn, ipv4, jwt, aws_access_key, azure_storage_key, private_key, password_in_url, bearer_token,
                  aws_secret_key, github_token, slack_token, stripe_key, google_api_key, openai_key, anthropic_key,
                  basic_auth, password_in_text]
      custom: [{ name: employee_id, pattern: \"EMP-[0-9]{6}\" }]
      columns: [\"public.customers.ssn\", \"*.password*\", \"*.api_key\", \"public.ledger.entry\", \"public.lbase.entry\"]
      json_keys: [\"secret*\", \"token\"]
      style: partial
policy:
  default: deny
  rules:
    - { name: dba-unmasked, match: { groups: [dba] }, action: allow }
    - { name: everyone-else-masked, match: {}, action: allow$MASK_OPT }"
wd_new "$(conn appdb)"
out=$("$WARDEN" serve -c "$WD_CFG" --check 2>&1); rc=$?
assert_rc "$rc" 0 "serve --check accepts the masking config ($(show "$out" 300))"
wd_start
wd_env require
KEY_DANA=$(key_new dana dba) || die "apikey create: $(cat "$T/apikey.err")"

# ---------------------------------------------------------------- checks on what a client received
# Prints the distinct needles of LIST found in FILE (grep -F, one pass).
found_in() { grep -aoF -f "$1" "$2" 2>/dev/null | sort -u; }

# no_secrets FILE WHAT [LIST] [allow_empty] — no seeded sensitive value appears in FILE.
no_secrets() {
  local f=$1 what=$2 list=${3:-$T/secrets.txt} leaks n
  if [[ ! -s "$f" ]]; then
    if [[ "${4:-}" == allow_empty ]]; then ok "$what: nothing was sent (refused)"; else fail "$what: nothing was received ($f is empty)"; fi
    return
  fi
  leaks=$(found_in "$list" "$f")
  if [[ -z "$leaks" ]]; then ok "$what: no sensitive value in what the client received"; return; fi
  n=$(wc -l <<<"$leaks")
  fail "$what: $n sensitive value(s) reached the client, e.g. [$(head -8 <<<"$leaks" | paste -sd '|')]"
}

# all_clear FILE WHAT — every 'clear' value (names, invalid cards, near misses) is there unchanged.
all_clear() {
  local f=$1 what=$2 missing=() v
  local got
  got=$(found_in "$T/clear.txt" "$f")
  while IFS= read -r v; do
    [[ -z "$v" ]] && continue
    grep -qxF -- "$v" <<<"$got" && continue
    grep -qaF -- "$v" "$f" || missing+=("$v")   # grep -o may hide an overlapping needle
  done <"$T/clear.txt"
  if ((${#missing[@]} == 0)); then ok "$what: all $N_CLEAR non-sensitive values and near misses unchanged"
  else fail "$what: ${#missing[@]} value(s) that must pass unchanged are missing, e.g. [$(printf '%s|' "${missing[@]:0:8}")]"; fi
}

# all_secrets FILE WHAT — (unmasked reader) every sensitive value seeded in customers is there.
all_secrets() {
  local n v
  n=$(found_in "$T/secrets_customers.txt" "$1" | wc -l)
  if ((n < N_SECRETS_CUST)); then   # grep -o may hide a needle overlapping a longer one: recount
    n=0
    while IFS= read -r v; do grep -qaF -- "$v" "$1" && n=$((n + 1)); done <"$T/secrets_customers.txt"
  fi
  assert_eq "$n" "$N_SECRETS_CUST" "$2: every seeded value of customers arrives in the clear"
}

count_sep() { tr -cd '\036' <"$1" | wc -c; }   # psql -R $'\036': records = separators + 1

ap() { PGAPPNAME=${APP:-t94-psql} psql -X -q -v ON_ERROR_STOP=1 "$@"; }
# refused LABEL NEEDLE QUERY — the masked identity's QUERY is refused, saying NEEDLE, and nothing
# sensitive is in the answer (which stays in $T/refused.out)
refused() {
  local label=$1 needle=$2 q=$3 rc
  ap -At -c "$q" >"$T/refused.out" 2>&1; rc=$?
  assert_nonzero "$rc" "$label: refused: $q"
  assert_contains "$(cat "$T/refused.out")" "$needle" "$label: the refusal says why ($q)"
  no_secrets "$T/refused.out" "$label: $q"
}
as_dana() { PGUSER=dana PGPASSWORD=$KEY_DANA PGAPPNAME=t94-dba psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# ---------------------------------------------------------------- psql, text format
ap -At -R $'\036' -c "select * from customers order by id" >"$T/psql_all.out" 2>"$T/psql_all.err"; rc=$?
assert_rc "$rc" 0 "psql: select * from customers ($(show "$(cat "$T/psql_all.err")" 300))"
assert_eq "$(($(count_sep "$T/psql_all.out") + 1))" "1013" "psql: 1013 rows"
no_secrets "$T/psql_all.out" "psql select *"
all_clear "$T/psql_all.out" "psql select *"
# a failed cast quotes the value it failed on: the error is masked too (and the session goes on)
ap -At -c "select email::int from customers where email is not null order by id limit 1" >"$T/psql_err.out" 2>&1; rc=$?
assert_nonzero "$rc" "psql: a cast of an email to int fails"
assert_contains "$(cat "$T/psql_err.out")" "invalid input syntax for type integer" "psql: the cast error reaches the client"
no_secrets "$T/psql_err.out" "psql: the cast error's message"
ap -At -c "select ssn::int from customers where id = 1" >"$T/psql_err2.out" 2>&1
no_secrets "$T/psql_err2.out" "psql: a cast error quoting a column-rule value (the SSN detector)"
# ... and a document's text, masked by key as in a row: a cast of the object under an unmasked
# key quotes it; a JSON error's CONTEXT quotes a document up to where it broke off
ap -At -c "select (profile->'nested')::text::int from customers where id = 1" >"$T/psql_err3.out" 2>&1; rc=$?
assert_nonzero "$rc" "psql: a cast of a document to int fails"
assert_contains "$(cat "$T/psql_err3.out")" '{"level": 3, "secret_pin": "****"}' "psql: the cast error quotes the document with its masked key masked"
no_secrets "$T/psql_err3.out" "psql: a cast error quoting a document"
ap -At -c "select replace(profile->>'nested', '}', '')::jsonb from customers where id = 1" >"$T/psql_err4.out" 2>&1; rc=$?
assert_nonzero "$rc" "psql: a document cut short fails as jsonb"
assert_contains "$(cat "$T/psql_err4.out")" 'CONTEXT:  JSON data, line 1: {"level": 3, "secret_pin": "****"' "psql: the JSON error's CONTEXT quotes the document masked by key"
no_secrets "$T/psql_err4.out" "psql: a JSON error's CONTEXT"
out=$(ap -At -F '|' -c "select id, name, card from customers where id in (3, 5, 7, 9) order by id" 2>&1)
assert_eq "$out" "3|Carol Jones|4111 1111 1111 1112
5|Eve Davis|4111-1111-1111-1112
7|Grace Wilson|4111111111111112
9|Ivan Lewis|5555 5555 5555 4440" "psql: cards failing the Luhn check are left alone, ids and names unchanged"
out=$(ap -At -F '|' -c "select card, email from customers where id = 1" 2>&1)
assert_match "$out" '^\*{4}1111\|\*{4}' "psql: a valid card is masked in the partial style (****1111)"
out=$(ap -At -c "select ssn from customers where id = 3" 2>&1)
assert_match "$out" '^\*{4}' "psql: an ITIN in the ssn column (no detector matches it) is masked whole by the column rule"
out=$(ap -At -c "select profile->>'token_type', profile->'nested'->>'level', profile->'tags'->>1 from customers where id = 1" 2>&1)
assert_eq "$out" "refreshable|3|newsletter" "psql: JSON keys outside json_keys pass unchanged"
out=$(ap -At -c "select profile from customers where id = 1" 2>&1)
assert_match "$out" '"secret_token": "\*{4}' "psql: a JSON value under a json_keys glob is masked (still a JSON string)"

# column rules go by table OID and column number, not by the label
ap -At -R $'\036' -c "select ssn as x, api_key as k, c.email as e, c.id as i from customers c order by c.id" >"$T/psql_alias.out" 2>&1
assert_eq "$(($(count_sep "$T/psql_alias.out") + 1))" "1013" "psql aliased columns: 1013 rows"
no_secrets "$T/psql_alias.out" "psql: select ssn as x, api_key as k (aliases)"
ap -At -R $'\036' -c "select x, y from (select ssn as x, api_key as y from customers where id < 200) s" >"$T/psql_sub.out" 2>&1
no_secrets "$T/psql_sub.out" "psql: the columns through a subquery in FROM"
ap -At -R $'\036' -c "select * from accounts order by id" -c "select password as p, api_key from public.accounts" >"$T/psql_accounts.out" 2>&1
no_secrets "$T/psql_accounts.out" "psql: accounts.password and accounts.api_key (globs *.password*, *.api_key)"
assert_match "$(head -c 200 "$T/psql_accounts.out")" '^1\|\*{4}' "psql: accounts rows arrive with their ids, passwords masked"
# the partial style keeps the last digits of a number only: nothing of a password or a key
out=$(ap -At -F '|' -c "select password, api_key from accounts order by id" 2>&1)
assert_eq "$out" $'****|****\n****|****\n****|****' "psql: passwords and API keys masked whole, no character kept (partial style)"
# whether a column rule's value is NULL is no secret (a NULL arrives as NULL): IS NULL and count(col)
# run and give PostgreSQL's own answer; count(DISTINCT col) compares values and is refused
q="select count(*) filter (where ssn is null), count(api_key), count(*) filter (where api_key is not null) from customers"
out=$(ap -At -c "$q" 2>&1)
assert_eq "$out" "$(pg_direct -d app -At -c "$q")" "column rules: IS NULL and count(col) run, with PostgreSQL's answer ($out)"
refused "column rules" "warden masks column \"ssn\"" "select count(distinct ssn) from customers"
refused "column rules" "warden masks column \"ssn\"" "select coalesce(ssn, 'none') from customers"

# a partition (a partition's too) and an inheritance child are read under the column rules of
# the tables they come from (rules name public.ledger.entry and public.lbase.entry only)
pg_direct -d app -c "create table public.ledger (id int, entry text, memo text) partition by range (id);
  create table public.ledger_2025 partition of public.ledger for values from (0) to (100) partition by range (id);
  create table public.ledger_2025_q1 partition of public.ledger_2025 for values from (0) to (50);
  insert into public.ledger values (1, 'ledger-entry-secret-1', 'memo-clear-1'), (2, 'ledger-entry-secret-2', 'memo-clear-2');
  create table public.lbase (id int, entry text); create table public.lkid (memo text) inherits (public.lbase);
  insert into public.lkid values (3, 'ledger-entry-secret-3', 'memo-clear-3');
  alter table public.ledger owner to app_scram; alter table public.ledger_2025 owner to app_scram;
  alter table public.ledger_2025_q1 owner to app_scram; alter table public.lbase owner to app_scram;
  alter table public.lkid owner to app_scram" >/dev/null \
  || fail "create the ledger tables"
ap -At -F '|' -c "select * from ledger_2025_q1 order by id" -c "select id, entry from ledger_2025 order by id" \
  -c "select * from lkid" -c "copy ledger_2025_q1 to stdout" -c "copy lkid (entry, memo) to stdout" >"$T/ledger.out" 2>&1
assert_not_contains "$(cat "$T/ledger.out")" "ledger-entry-secret" "column rules: a partition's, a partition's partition's and an inheritance child's column masked under its parent's rule"
assert_eq "$(grep -c '\*\*\*\*' "$T/ledger.out")" "8" "column rules: every row read from the partitions and the child has its entry masked ($(show "$(cat "$T/ledger.out")" 300))"
assert_contains "$(cat "$T/ledger.out")" "1|****|memo-clear-1" "column rules: the partition's other columns pass as they are"
out=$(as_dana -At -c "select entry from ledger_2025_q1 order by id limit 1" 2>&1)
assert_eq "$out" "ledger-entry-secret-1" "column rules: the dba reads the partition in clear"
# ... and computing on such a column there is refused, as on the parent's (the policy asks the catalog)
# ... and so is detaching a partition or ending an inheritance (its rows would then be read
# under a name the rules do not cover)
for q in "select upper(entry) from ledger_2025_q1" "select id from public.ledger_2025 where entry like 'l%'" \
         "select entry || '' from lkid" "alter table ledger_2025 detach partition ledger_2025_q1" \
         "alter table lkid no inherit lbase"; do
  ap -At -c "$q" >"$T/refused.out" 2>&1; rc=$?
  assert_nonzero "$rc" "column rules: refused on a partition or child: $q"
  assert_contains "$(cat "$T/refused.out")" "warden masks column" "column rules: the refusal says why ($q)"
  assert_not_contains "$(cat "$T/refused.out")" "ledger-entry-secret" "column rules: nothing of the column in the refusal ($q)"
done
assert_eq "$(pg_direct -d app -At -c "select count(*) from pg_inherits where inhrelid in ('public.ledger_2025_q1'::regclass, 'public.lkid'::regclass)")" \
  "2" "column rules: the partition and the child are still attached"
out=$(ap -At -c "select upper(memo) from ledger_2025_q1 order by id" 2>&1)
assert_eq "$out" $'MEMO-CLEAR-1\nMEMO-CLEAR-2' "column rules: computing on a partition's other columns runs"

# A secret known by its key (password_in_text, aws_secret_key) in a document whose card, a JSON
# number, sends it through the one-by-one walk (its value is read with its key there); a
# bare value in text ends before the brace that closes its object; null is no password
pg_direct -d app -c "create table public.vault (id int, doc jsonb, j json, t text);
  insert into public.vault values
  (1, '{\"card\": 4111111111111111, \"password\": \"pwjsonplain77\", \"aws_secret_access_key\": \"vK7mQ2pX9rT4wY8zB3nC6dF1gH5jL0sA2eR7uI9o\", \"pin\": 99}',
      '{\"card\": 4111111111111111, \"db\": {\"pwd\": 987654321}}',
      '{\"password\": 24681357, \"db\": {\"pwd\": null}}'),
  (2, '{\"pwd\": 13572468, \"x\": 1}', '[{\"password\": \"pwjsonplain88\"}]', 'Driver={ODBC};PWD={pw;odbc42};UID=app'),
  (3, '{\"url\": \"https://x.example/cb?token=docurl6612&y=1\"}', null, e'GET /cb?token=qstok5521&x=1 {''secret_pin'': ''pyrepr7788'', ''id'': 7}\\nsecret_answer: yamlplain42\\nTOKEN=\"envtok 31\" next <ns:token>xmltok9911</ns:token> <password>xmlpw3344</password>');
  alter table public.vault owner to app_scram" >/dev/null || fail "create the vault table"
# (row 4: a document read one by one for its card, with JSON and a pair in its strings)
pg_direct -d app >/dev/null <<'SQL' || fail "fill the vault table"
insert into public.vault values
(4, '{"card": 4111111111111111, "log": "body: {\"token\": \"treejson4411\"}", "cb": "x?token=treeurl5522"}', null, null);
SQL
# ... and json_keys name keys in text that is no JSON: a query string, Python's repr, YAML, an
# environment line, XML elements, a query string in a document's string (row 3)
ap -At -F '|' -c "select * from vault order by id" >"$T/vault.out" 2>&1
printf '%s\n' pwjsonplain77 pwjsonplain88 vK7mQ2pX9rT4wY8zB3nC6dF1gH5jL0sA2eR7uI9o 987654321 24681357 13572468 odbc42 \
  qstok5521 pyrepr7788 yamlplain42 'envtok 31' docurl6612 treejson4411 treeurl5522 xmltok9911 xmlpw3344 >"$T/vault_secrets.txt"
no_secrets "$T/vault.out" "password_in_text in documents read one by one, JSON in text, ODBC braces; json_keys in text pairs" "$T/vault_secrets.txt"
assert_eq "$(cat "$T/vault.out")" '1|{"pin": 99, "card": "****1111", "password": "****", "aws_secret_access_key": "****"}|{"card": "****1111", "db": {"pwd": "****"}}|{"password": ****, "db": {"pwd": null}}
2|{"x": 1, "pwd": "****"}|[{"password": "****"}]|Driver={ODBC};PWD={****};UID=app
3|{"url": "https://x.example/cb?token=****&y=1"}||GET /cb?token=****&x=1 {'"'"'secret_pin'"'"': '"'"'****'"'"', '"'"'id'"'"': 7}
secret_answer: ****
TOKEN="****" next <ns:token>****</ns:token> <password>****</password>
4|{"cb": "x?token=****", "log": "body: {\"token\": \"****\"}", "card": "****1111"}||' \
  "password_in_text: each document still JSON, its other values as they were; text keeps its braces; json_keys in text pairs"
ap -c "copy vault to stdout" >"$T/vault_copy.out" 2>&1
no_secrets "$T/vault_copy.out" "COPY TO STDOUT: text pairs and documents read one by one" "$T/vault_secrets.txt"
assert_contains "$(cat "$T/vault_copy.out")" "GET /cb?token=****&x=1" "COPY TO STDOUT: a query string's token masked"
out=$(as_dana -At -F '|' -c "select doc->>'password', j::text from vault where id = 1" 2>&1)
assert_eq "$out" 'pwjsonplain77|{"card": 4111111111111111, "db": {"pwd": 987654321}}' "password_in_text: the dba reads the vault in clear"

# JSON documents built by the query (no table column behind them: detectors and json_keys)
ap -At -R $'\036' -c "select jsonb_build_object('token', name, 'mail', email, 'n', notes), json_build_object('secret_x', card) from customers order by id" >"$T/psql_json.out" 2>&1
assert_eq "$(($(count_sep "$T/psql_json.out") + 1))" "1013" "psql: JSON built by the query: 1013 rows"
no_secrets "$T/psql_json.out" "psql: JSON documents built by the query (json_keys token, secret*; detectors inside)"
assert_eq "$(grep -o '"token": "\*\*\*\*"' "$T/psql_json.out" | wc -l)" "1013" "psql: JSON built by the query: the value under json_keys token masked in every row"

# json_keys mask a value inside its document, by its key: read apart from it (->>, #>>, a
# subscript, a jsonpath, jsonb_each, jsonb_to_record, a containment test) it would arrive with
# no key to mask it by, so that is refused; keys the profile does not mask are read as they are
for q in "select profile->>'secret_token' from customers" "select profile->'nested'->>'secret_pin' from customers" \
         "select profile #>> '{nested,secret_pin}' from customers" "select profile['token'] from customers" \
         "select jsonb_extract_path_text(profile, 'Token') from customers" \
         "select jsonb_path_query(profile, '\$.**') from customers" "select jsonb_path_query(profile, '\$.token') from customers" \
         "select jsonb_each_text(profile) from customers" "select k, v from customers, jsonb_each(profile) j(k, v)" \
         "select x.token from customers c, jsonb_to_record(c.profile) as x(token text)" \
         "select id from customers where profile @> '{\"token\": \"a-guessed-token\"}'" \
         "select id from customers where profile->>'token' like 'tk%'"; do
  refused json_keys "warden masks " "$q"
  assert_contains "$(cat "$T/refused.out")" "JSON" "json_keys: the refusal names JSON ($q)"
done
out=$(ap -At -c "select profile->>'theme', profile #>> '{nested,level}', profile->'nested' from customers where id in (1, 4) order by id" 2>&1)
assert_eq "$out" $'|3|{"level": 3, "secret_pin": "****"}\ndark||' "json_keys: keys the profile does not mask are read apart, documents arrive masked"
out=$(as_dana -At -c "select profile->>'secret_token', profile #>> '{nested,secret_pin}' from customers where id = 1" 2>&1)
assert_eq "$out" "plainvalue123|pinalpha7731" "json_keys: the dba reads any key"
# computing on a JSON column's documents other than by key (string functions over their text,
# a cut, a comparison of the text) would give values under masked keys with no key to mask them
# by, or answer questions about them: refused; sending a document whole or reading it by key is not
for q in "select left(profile::text, 60) from customers where id = 1" \
         "select replace(profile::text, 'token', 'k') from customers where id = 1" \
         "select id from customers where profile::text like '%\"token\": \"tk9%'" \
         "select profile::varchar(40) from customers where id = 1" \
         "select md5(profile::text) from customers where id = 1" \
         "select to_json(profile::text) from customers where id = 1"; do
  refused "json_keys documents" "JSON documents of customers.profile" "$q"
done
out=$(ap -At -c "select profile::text, profile->>'token_type' from customers where id = 1 and profile ? 'token' and profile->>'plan' is null" 2>&1)
assert_match "$out" '"token": "\*{4}.*\|refreshable$' "json_keys documents: a document sent whole (as text too) arrives masked, keys read apart as they are"
out=$(as_dana -At -c "select left(profile::text, 200) from customers where id = 1" 2>&1)
assert_contains "$out" "tkvalue98765" "json_keys documents: the dba computes on documents as it likes"
# editing a document (jsonb_set, - key, #- path, || jsonb) keeps its keys: its result sent to the
# client or stored into a JSON column is a document, masked by key when read; one stored into a
# text column, a result that can be text, or an edit through a masked key is refused
out=$(ap -At -c "select profile - 'tags' #- '{nested,level}' || '{\"plan\": \"pro\"}'::jsonb from customers where id = 1" 2>&1)
assert_eq "$out" '{"plan": "pro", "token": "****", "nested": {"secret_pin": "****"}, "token_type": "refreshable", "secret_token": "****"}' \
  "json_keys edits: a document edited in the select list arrives masked by key"
ap -At -c "begin" \
  -c "update customers set profile = jsonb_set(profile, '{plan}', '\"pro\"') - 'tags' where id = 1 returning profile" \
  -c "update customers set profile['nested']['level'] = '4' where id = 1" \
  -c "update customers set profile = profile || '{\"tier\": \"gold\", \"token\": \"tk-rotated-1\"}' where id in (1, 2)" \
  -c "select concat(profile->>'plan', '/', profile->>'tier', '/', profile #>> '{nested,level}') from customers where id = 1" \
  -c "insert into customers (id, name, profile) select 9001, 'copy', profile - 'tier' from customers where id = 1 returning profile" \
  -c "rollback" >"$T/edit.out" 2>&1; rc=$?
assert_rc "$rc" 0 "json_keys edits: an agent updates documents with jsonb_set, -, a subscript and || ($(show "$(cat "$T/edit.out")" 300))"
assert_eq "$(sed -n 1p "$T/edit.out")" '{"plan": "pro", "token": "****", "nested": {"level": 3, "secret_pin": "****"}, "token_type": "refreshable", "secret_token": "****"}' \
  "json_keys edits: UPDATE ... RETURNING the edited document arrives masked by key"
assert_eq "$(sed -n 2p "$T/edit.out")" "pro/gold/4" "json_keys edits: the edits are there to read by key"
assert_eq "$(sed -n 3p "$T/edit.out")" '{"plan": "pro", "token": "****", "nested": {"level": 4, "secret_pin": "****"}, "token_type": "refreshable", "secret_token": "****"}' \
  "json_keys edits: INSERT ... SELECT copies a document into a JSON column, RETURNING it masked"
q="select profile->>'tier', count(*) from customers group by 1 order by 2, 1"
out=$(ap -At -c "$q" 2>&1)
assert_eq "$out" "$(pg_direct -d app -At -c "${q/customers/public.customers}")" "json_keys edits: GROUP BY a position that reads a key"
assert_contains "$out" "gold|" "json_keys edits: GROUP BY a position that reads a key (tiers)"
no_secrets "$T/edit.out" "json_keys edits"
assert_eq "$(pg_direct -d app -At -c "select profile->>'token' from public.customers where id = 2")" "plainvalue456" \
  "json_keys edits: rolled back"
for q in "update customers set notes = profile - 'plan' where id = 1" \
         "update customers set notes = profile || '{}' where id = 1"; do
  refused "json_keys edits" "stores documents into customers.notes, which is no JSON column" "$q"
done
for q in "select notes || profile from customers where id = 1" "select profile || '{\"a\": 1}' from customers where id = 1" \
         "select id from customers where profile - 'plan' = '{}'"; do
  refused "json_keys edits" "JSON documents of customers.profile" "$q"
done
for q in "select jsonb_set(profile, '{token,0}', '1') from customers where id = 1" \
         "update customers set profile['secret_token']['x'] = '1' where id = 1"; do
  refused "json_keys edits" "JSON key \"" "$q"
done
# a write to a masked column that a unique index decides on (accounts.api_key) answers, by
# failing, whether a guessed value is there, as comparing the column would: refused; a write
# to a masked column no unique index covers runs, and so does the dba's
for q in "insert into accounts (id, api_key) values (99, 'ak_a-guessed-key')" "insert into accounts values (99, 'x', 'y')" \
         "update accounts set api_key = 'ak_a-guessed-key' where id = 1" \
         "insert into accounts (id, api_key) values (99, 'ak_a-guessed-key') on conflict do nothing" \
         "with w as (insert into accounts (id, api_key) values (99, 'ak_a-guessed-key') returning 1) select 1"; do
  refused unique "a unique index or an exclusion constraint decides on it" "$q"
done
# ... and so is a write to a column whose foreign key references one (it fails when the value is not there)
for q in "insert into key_requests (id, requested_key) values (1, 'ak_a-guessed-key')" \
         "update key_requests set requested_key = 'ak_a-guessed-key'"; do
  ap -At -c "$q" >"$T/refused.out" 2>&1; rc=$?
  assert_nonzero "$rc" "foreign key: refused: $q"
  assert_contains "$(cat "$T/refused.out")" "column \"requested_key\", whose foreign key references it" "foreign key: the refusal says why ($q)"
done
ap -At -c "insert into key_requests (id) values (1)" >"$T/unique_ok.out" 2>&1; rc=$?
assert_rc "$rc" 0 "foreign key: a write leaving the referencing column out runs ($(show "$(cat "$T/unique_ok.out")" 200))"
pg_direct -d app -c "delete from public.key_requests" >/dev/null
assert_eq "$(pg_direct -d app -At -c "select count(*) || ' ' || count(*) filter (where api_key like 'ak_a-guessed%') from public.accounts")" \
  "3 0" "unique: the refused writes changed nothing"
ap -At -c "insert into accounts (id, password) values (99, 'a-new-password')" >"$T/unique_ok.out" 2>&1; rc=$?
assert_rc "$rc" 0 "unique: a write to a masked column no unique index covers runs ($(show "$(cat "$T/unique_ok.out")" 200))"
as_dana -At -c "update accounts set api_key = 'ak_dba-set' where id = 99" >"$T/unique_ok.out" 2>&1; rc=$?
assert_rc "$rc" 0 "unique: the dba writes the unique masked column ($(show "$(cat "$T/unique_ok.out")" 200))"
assert_eq "$(pg_direct -d app -At -c "select password || ' ' || api_key from public.accounts where id = 99")" \
  "a-new-password ak_dba-set" "unique: the allowed writes are there"
# NULL is no guess (no unique index compares it): revoking a key runs; the same statement with a
# guess (one normalized text) is still refused after it
ap -At -c "update accounts set api_key = null where id = 99" >"$T/unique_ok.out" 2>&1; rc=$?
assert_rc "$rc" 0 "unique: SET api_key = NULL runs ($(show "$(cat "$T/unique_ok.out")" 200))"
assert_eq "$(pg_direct -d app -At -c "select api_key is null from public.accounts where id = 99")" "t" "unique: the key is revoked"
refused unique "a unique index or an exclusion constraint decides on it" "update accounts set api_key = 'ak_dba-set' where id = 99"
pg_direct -d app -c "delete from public.accounts where id = 99" >/dev/null

# a text warden's parser cannot read may compute on anything: refused to a masked identity
# (PostgreSQL's own syntax error for the dba)
out=$(ap -At -c "selec password from accounts" 2>&1)
assert_contains "$out" "cannot read this statement (syntax error at or near \"selec\")" "unparsed: a masked identity's text warden cannot read is refused"
out=$(as_dana -At -c "selec password from accounts" 2>&1)
assert_contains "$out" "syntax error at or near \"selec\"" "unparsed: the dba gets the target's syntax error"
assert_not_contains "$out" "warden" "unparsed: the dba's statement went to the target"

# column rules mask a column's values where they arrive as themselves: a
# statement computing on a masked column (its values would arrive with no
# column behind them) is refused, and the session goes on
for q in "select upper(password) from accounts" "select password || '' from accounts" \
         "select password::int from accounts where id = 1" "select (select password from accounts where id = 1)" \
         "select array_agg(password) from accounts" "select coalesce(api_key, '') from customers" \
         "select a from accounts a" "select row_to_json(c) from customers c" "select upper(x) from (select password as x from accounts) s" \
         "select password from accounts union all select 'x'" "select id from accounts where password like 'C%'" \
         "select jsonb_build_object('token', api_key) from customers" "select substr(ssn, 1, 3) from customers" \
         "with c(p) as (select password from accounts) select p || '' from c" "select id, password from accounts order by 2"; do
  refused "column rules" "warden masks column" "$q"
done
# ... and so is one comparing columns the text does not name (a NATURAL JOIN with a guess, a
# position after a star), indexing or constraining a masked column, renaming one out of the
# rules, defining code warden cannot read, reading what tables are stored in (pageinspect's
# pages and tuples, logical decoding's changes), or storing a table's rows in an index's order
# (CLUSTER: the index's columns are not in the text)
for q in "select * from accounts natural join (select 'a-guessed-password'::text as password) g" \
         "select * from accounts order by 2" "create index on accounts (password)" \
         "insert into accounts (id, password) values (99, 'x') on conflict (password) do nothing" \
         "alter table accounts alter column password type varchar(3)" "alter table accounts alter column api_key set not null" \
         "alter table accounts rename column password to pw" "alter table customers rename to c2" \
         "alter table customers set schema t94" \
         "do \$\$ begin raise notice '%', (select password from accounts where id = 1); end \$\$" \
         "create function t94.pw() returns setof text language sql as 'select password from public.accounts'" \
         "select query_to_xml('select password from accounts', true, false, '')" \
         "select table_to_xml('accounts', true, false, '')" "select * from ts_stat('select to_tsvector(password) from accounts')" \
         "select t_data from heap_page_items(get_raw_page('accounts', 0))" "select data from bt_page_items('accounts_pkey', 1)" \
         "select data from pg_logical_slot_peek_changes('t94', null, null)" \
         "cluster accounts using accounts_pkey" "alter table accounts cluster on accounts_pkey" "cluster" \
         "create foreign table t94.ft (pw text options (column_name 'password')) server loop options (table_name 'accounts')"; do
  refused "column rules" "warden masks column" "$q"
done
assert_eq "$(pg_direct -d app -At -c "select string_agg(attname, ',' order by attnum) from pg_attribute where attrelid = 'public.accounts'::regclass and attnum > 0")" \
  "id,password,api_key" "column rules: the refused rename left the column's name"
assert_eq "$(pg_direct -d app -At -c "select count(*) from pg_proc where proname = 'pw'")" "0" "column rules: the refused function was not created"
out=$(ap -At -c "alter table accounts rename column password to pw" 2>&1)
assert_contains "$out" "would give column \"password\" a name the profile's column rules do not cover" "column rules: a rename's refusal names the column"
out=$(as_dana -At -c "select query_to_xml('select password from accounts where id = 1', true, false, '')" 2>&1)
assert_contains "$out" "<password>CorrectHorseBatteryStaple</password>" "column rules: query_to_xml runs the query as text (the dba's, in clear)"
out=$(as_dana -At -c "do \$\$ begin raise notice 'dba %', (select password from accounts where id = 1); end \$\$" 2>&1)
assert_contains "$out" "dba CorrectHorseBatteryStaple" "column rules: the dba runs a DO block"
out=$(ap -At -c "select upper(password) from accounts" -c "select count(*) from accounts" 2>&1)
assert_contains "$out" "warden masks column \"password\" for you (masking profile \"pii\")" "column rules: the refusal names the column and the profile"
out=$(ap -At -c "select x from (select password as x from accounts) s limit 1" 2>&1)
assert_eq "$out" "****" "column rules: a masked column read as itself through a subquery arrives masked"
# the planner's statistics sample every column (histogram_bounds lists the passwords): masked whole
pg_direct -d app -c "analyze public.accounts, public.customers" >/dev/null || fail "analyze"
ap -At -R $'\036' -c "select attname, histogram_bounds, most_common_vals from pg_stats where schemaname = 'public' and tablename in ('accounts', 'customers')" >"$T/stats.out" 2>&1
assert_contains "$(cat "$T/stats.out")" "password|****" "column rules: pg_stats arrives, its sampled values masked whole"
no_secrets "$T/stats.out" "column rules: pg_stats.histogram_bounds / most_common_vals"
out=$(ap -At -c "select histogram_bounds::text from pg_stats where tablename = 'accounts'" 2>&1)
assert_contains "$out" "warden masks column \"histogram_bounds\"" "column rules: computing on pg_stats.histogram_bounds is refused"
out=$(as_dana -At -c "select histogram_bounds from pg_stats where tablename = 'accounts' and attname = 'password'" 2>&1)
assert_contains "$out" "CorrectHorseBatteryStaple" "column rules: the dba reads the statistics in clear"

# every session's latest statement is in pg_stat_activity.query, and warden's identities share the
# target's role: another session's literals must not reach a masked reader
# (the dba's statement, through warden: the same target role; its literal stands for a value it writes)
as_dana -At -c "select pg_sleep(30) where 'dba-literal-8d41c2' <> ''" >/dev/null 2>&1 &
echo $! >>"$IT_RUN_DIR/pids"
SLEEPER=$!
for _ in $(seq 1 100); do
  pg_direct -d app -At -c "select count(*) from pg_stat_activity where query like '%pg_sleep(30)%' and pid <> pg_backend_pid()" | grep -qx 1 && break
  sleep 0.1
done
ap -At -R $'\036' -c "select pid, query from pg_stat_activity" >"$T/activity.out" 2>&1
assert_contains "$(cat "$T/activity.out")" "****" "column rules: pg_stat_activity arrives, its query column masked"
assert_not_contains "$(cat "$T/activity.out")" "dba-literal-8d41c2" "column rules: another session's statement is not shown to a masked reader"
# the functions behind the view give the same statements without its column: refused
refused "pg_stat_activity's functions" "pg_stat_get_activity()" "select pid, query from pg_stat_get_activity(null)"
refused "pg_stat_activity's functions" "pg_stat_get_backend_activity()" \
  "select pg_stat_get_backend_activity(b) from pg_stat_get_backend_idset() b"
assert_not_contains "$(cat "$T/refused.out")" "dba-literal-8d41c2" "column rules: pg_stat_get_backend_activity shows no other session's statement"
out=$(as_dana -At -c "select query from pg_stat_get_activity(null)" 2>&1)
assert_contains "$out" "dba-literal-8d41c2" "the dba reads other sessions' statements (pg_stat_get_activity)"
kill "$SLEEPER" 2>/dev/null
pg_direct -d app -At -c "select pg_cancel_backend(pid) from pg_stat_activity where query like '%pg_sleep(30)%' and pid <> pg_backend_pid()" >/dev/null

# a constraint's DETAIL quotes the failing row, every column of it: masked whole under column rules
out=$(ap -At -c "update accounts set id = null where id = 1" 2>&1)
assert_contains "$out" "violates not-null constraint" "column rules: a NOT NULL violation reaches the client"
assert_contains "$out" "DETAIL:  (the row's values are masked by warden)" "column rules: its DETAIL (the failing row) is masked whole"
assert_not_contains "$out" "CorrectHorseBatteryStaple" "column rules: the failing row's password is not in the error"
out=$(as_dana -At -c "update accounts set id = null where id = 1" 2>&1)
assert_contains "$out" "Failing row contains (null, CorrectHorseBatteryStaple" "column rules: the dba's error shows the failing row"
# ... so does a view's WITH CHECK OPTION (SQLSTATE 44000), the base row's columns the view hides too
as_dana -q -c "create view public.t94_vco as select id from accounts where id > 0 with check option" >/dev/null 2>&1
out=$(ap -At -c "update t94_vco set id = -id where id = 1" 2>&1)
assert_contains "$out" "violates check option" "column rules: a WITH CHECK OPTION violation reaches the client"
assert_contains "$out" "DETAIL:  (the row's values are masked by warden)" "column rules: its DETAIL (the base row) is masked whole"
assert_not_contains "$out" "CorrectHorseBatteryStaple" "column rules: the base row's password (no column of the view) is not in the error"
as_dana -q -c "drop view public.t94_vco" >/dev/null 2>&1
# a function called on the whole row by field notation (a.concat is concat(a), a.to_json to_json(a))
out=$(ap -At -c "select a.concat from accounts a" -c "select a.to_jsonb from accounts a" -c "select a.array_agg from accounts a" 2>&1)
assert_contains "$out" "computes on columns it does not name" "column rules: a.concat, a.to_jsonb (the row by field notation) refused"
assert_not_contains "$out" "CorrectHorseBatteryStaple" "column rules: no password through field notation"
# RETURNING columns as they are (a star's too: pgJDBC's getGeneratedKeys) arrive masked by their columns
out=$(ap -At -c "begin" -c "update accounts set id = id where id = 1 returning *" \
  -c "create temp table t94_keys (id serial, note text)" -c "insert into t94_keys (note) values ('n') returning *" \
  -c "rollback" 2>&1)
assert_contains "$out" "1|****|****" "column rules: UPDATE ... RETURNING * runs, its masked columns masked"
assert_contains "$out" "1|n" "column rules: INSERT ... RETURNING * into a table of one's own runs"
assert_not_contains "$out" "CorrectHorseBatteryStaple" "column rules: no password in a RETURNING"
out=$(as_dana -At -c "select upper(password) from accounts order by id limit 1" 2>&1)
assert_eq "$out" "CORRECTHORSEBATTERYSTAPLE" "column rules: the dba group computes on the column in clear"

# ---------------------------------------------------------------- COPY TO STDOUT
ap -c "copy customers to stdout" >"$T/copy_text.out" 2>"$T/copy_text.err"; rc=$?
assert_rc "$rc" 0 "COPY customers TO STDOUT ($(show "$(cat "$T/copy_text.err")" 300))"
assert_eq "$(wc -l <"$T/copy_text.out")" "1013" "COPY text: 1013 lines"
assert_eq "$(awk -F'\t' 'NF != 10' "$T/copy_text.out" | wc -l)" "0" "COPY text: every line has 10 fields"
no_secrets "$T/copy_text.out" "COPY TO STDOUT (text)"
all_clear "$T/copy_text.out" "COPY TO STDOUT (text)"

ap -c "copy customers to stdout with (format csv)" >"$T/copy_csv.out" 2>"$T/copy_csv.err"; rc=$?
assert_rc "$rc" 0 "COPY customers TO STDOUT WITH (FORMAT csv) ($(show "$(cat "$T/copy_csv.err")" 300))"
out=$("$PY" -c 'import csv, sys; r = list(csv.reader(open(sys.argv[1], newline=""))); print(len(r), sorted(set(len(x) for x in r)))' "$T/copy_csv.out" 2>&1)
assert_eq "$out" "1013 [10]" "COPY CSV: 1013 records of 10 fields"
no_secrets "$T/copy_csv.out" "COPY TO STDOUT (CSV)"
all_clear "$T/copy_csv.out" "COPY TO STDOUT (CSV)"

ap -c "copy (select id, ssn, api_key, profile from customers order by id) to stdout with (format csv, header)" >"$T/copy_query.out" 2>&1
assert_eq "$(wc -l <"$T/copy_query.out")" "1014" "COPY (query) TO STDOUT: header + 1013 lines"
assert_eq "$(head -1 "$T/copy_query.out")" "id,ssn,api_key,profile" "COPY (query) TO STDOUT with (header): the header line (column names) unchanged"
no_secrets "$T/copy_query.out" "COPY (select id, ssn, api_key, profile ...) TO STDOUT"
ap -c "copy accounts (password, api_key) to stdout" >"$T/copy_accounts.out" 2>&1
no_secrets "$T/copy_accounts.out" "COPY accounts (password, api_key) TO STDOUT"

# numbers that hold a card or a phone: masked values cannot be numbers, so COPY writes NULL
pg_direct -d app -c "create table public.t94_nums (id int, card bigint, amount numeric, note text);
  insert into public.t94_nums values (1, 4111111111111111, 4111111111111111, 'ok'), (2, 42, 1.5, 'mail x@example.com');
  grant select on public.t94_nums to app_scram" >/dev/null || fail "create t94_nums"
ap -c "copy t94_nums to stdout" >"$T/copy_nums.out" 2>&1
assert_eq "$(cat "$T/copy_nums.out")" "$(printf '1\t\\N\t\\N\tok\n2\t42\t1.5\tmail ****')" "COPY of number columns holding a card: NULL (and the text column masked)"
ap -c "copy t94_nums (note, card) to stdout with (format csv)" >"$T/copy_nums2.out" 2>&1
assert_eq "$(cat "$T/copy_nums2.out")" "$(printf 'ok,\nmail ****,42')" "COPY with a column list, CSV: the card column NULL (empty), by the catalog's types"
pg_direct -d app -c "create table t94.nums_back (like public.t94_nums)" >/dev/null
pg_direct -d app -c "\\copy t94.nums_back from '$T/copy_nums.out'" >/dev/null 2>&1 \
  && ok "the COPY output with NULLed numbers loads back" || fail "the COPY output with NULLed numbers does not load back"
pg_direct -d app -c "drop table public.t94_nums" >/dev/null

# binary COPY: masked or refused, never clear
ap -c "copy customers to stdout with (format binary)" >"$T/copy_bin.out" 2>"$T/copy_bin.err"; rc=$?
if [[ $rc != 0 ]]; then
  ok "COPY TO STDOUT (FORMAT binary) is refused for a masked session: $(show "$(cat "$T/copy_bin.err")" 200)"
  leaks=$(found_in "$T/secrets.txt" "$T/copy_bin.out")
  [[ -z "$leaks" ]] && ok "COPY binary (refused): nothing sensitive was sent before the refusal" \
    || fail "COPY binary (refused): $(wc -l <<<"$leaks") sensitive value(s) were sent before the refusal"
else
  no_secrets "$T/copy_bin.out" "COPY TO STDOUT (FORMAT binary)"
fi

# the masked COPY output is still valid COPY input (lengths, escapes, JSON)
pg_direct -d app -c "create table t94.copycheck (like public.customers)" || fail "create t94.copycheck"
pg_direct -d app -c "copy t94.copycheck from stdin" <"$T/copy_text.out" 2>"$T/load_text.err"
assert_rc $? 0 "the masked COPY text output loads back with COPY FROM ($(show "$(cat "$T/load_text.err")" 300))"
pg_direct -d app -c "copy t94.copycheck from stdin with (format csv)" <"$T/copy_csv.out" 2>"$T/load_csv.err"
assert_rc $? 0 "the masked COPY CSV output loads back ($(show "$(cat "$T/load_csv.err")" 300))"
out=$(pg_direct -d app -At -c "select count(*), count(distinct c.id),
    count(*) filter (where c.name is distinct from p.name or c.id is distinct from p.id),
    count(*) filter (where (c.profile is null) <> (p.profile is null)),
    count(*) filter (where c.ssn = p.ssn or c.api_key = p.api_key or c.email = p.email)
  from t94.copycheck c join public.customers p using (id)")
assert_eq "$out" "2026|1013|0|0|0" "reloaded COPY: 2 x 1013 rows, ids and names equal, JSON documents valid, ssn/api_key/email all differ"

# ---------------------------------------------------------------- pg_dump through the gateway
pg_dump --data-only -t customers -d appdb -f "$T/dump.sql" 2>"$T/dump.err"; rc=$?
assert_rc "$rc" 0 "pg_dump --data-only -t customers through warden ($(show "$(cat "$T/dump.err")" 300))"
rows=$(awk '/^COPY public.customers /{on=1; next} /^\\\.$/{on=0} on' "$T/dump.sql" | wc -l)
assert_eq "$rows" "1013" "pg_dump: 1013 rows in its COPY block"
no_secrets "$T/dump.sql" "pg_dump --data-only"
all_clear "$T/dump.sql" "pg_dump --data-only"
pg_direct -d app -c "truncate t94.copycheck"
sed 's/^COPY public\.customers /COPY t94.copycheck /' "$T/dump.sql" | pg_direct -d app >/dev/null 2>"$T/load_dump.err"
out=$(pg_direct -d app -At -c "select count(*) from t94.copycheck")
assert_eq "$out" "1013" "the masked dump restores ($(show "$(cat "$T/load_dump.err")" 300))"

# ---------------------------------------------------------------- psycopg: text, binary, prepared, cursor
cat >"$T/t94.py" <<'PY'
import json, os, sys
import psycopg
from psycopg import pq

out_dir, port, key = sys.argv[1], int(sys.argv[2]), sys.argv[3]
failures = 0
def check(cond, what, detail=""):
    global failures
    print(("  ok   py: " if cond else "  FAIL py: ") + what + ("" if cond else " " + str(detail)[:600]))
    failures += 0 if cond else 1

def fmt(v):
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).decode("utf-8", "replace")
    return "" if v is None else str(v)

def dump(name, rows):
    with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
        for r in rows:
            f.write("\t".join(fmt(v) for v in r) + "\n")

ALL = "select * from customers order by id"
with psycopg.connect(host="127.0.0.1", port=port, dbname="appdb", user="alice", password=key,
                     application_name="t94-psycopg", sslmode="require", connect_timeout=20) as conn:
    cur = conn.cursor()
    try:
        cur.execute(ALL)
        rows = cur.fetchall()
        dump("py_text.out", rows)
        check(len(rows) == 1013, "text results: 1013 rows", len(rows))
        check([type(v).__name__ for v in rows[0][:1]] == ["int"], "text results: id is an int")
    except Exception as e:
        check(False, "text results: select * ran", repr(e))

    # column rules over the extended protocol (Parse/Bind/Execute, a parameter): refused, and the session goes on
    try:
        cur.execute("select upper(password) from accounts where id = %s", (1,))
        check(False, "extended protocol: upper(password) refused", cur.fetchall())
    except psycopg.errors.InsufficientPrivilege as e:
        check("warden masks column" in str(e) and "Correct" not in str(e), "extended protocol: upper(password) refused", str(e))
        conn.rollback()
    except Exception as e:
        check(False, "extended protocol: upper(password) refused with 42501", repr(e))
        conn.rollback()
    try:
        cur.execute("select password from accounts where id = %s", (1,), binary=True)
        check(cur.fetchall() == [("****",)], "extended protocol: password read as itself arrives masked (binary)")
    except Exception as e:
        check(False, "extended protocol: password read as itself", repr(e))

    # numbers and addresses inside arrays, ranges and records: NULL when something matches,
    # in binary format (taken apart) and in text (psycopg cannot parse {****1111} as an int8[];
    # a record's fields are text to it, and rewritten)
    CONT = ("select array[4111111111111111]::int8[], int8range(4111111111111111, null), "
            "array['172.31.250.9'::inet], array['4111111111111111'::numeric], "
            "array[row(1, 4111111111111111::int8)], array[1, 2]::int8[], int4range(1, 5)")
    for binary in (False, True):
        try:
            cur.execute(CONT, binary=binary)
            got = cur.fetchall()[0]
            check(list(got[:4]) == [None] * 4 and (got[4] is None if binary else "4111111111111111" not in repr(got[4]))
                  and got[5] == [1, 2] and (got[6].lower, got[6].upper) == (1, 5),
                  "numbers in arrays, ranges and records (%s): NULL, the others unchanged" % ("binary" if binary else "text"),
                  repr(got))
        except Exception as e:
            check(False, "numbers in arrays, ranges and records (%s)" % ("binary" if binary else "text"), repr(e))
            conn.rollback()

    # JSON documents inside an array or a record: NULL when one holds a value under a masked key
    for binary in (False, True):
        try:
            got = [cur.execute(q, binary=binary).fetchall()[0][0] for q in (
                "select array_agg(profile order by id) from customers where id <= 2",
                "select row(id, profile) from customers where id = 1",
                "select array_agg(profile->'tags') from customers where id = 1")]
            check(got[0] is None and got[1] is None and got[2] == [["vip", "newsletter"]],
                  "JSON in arrays and records (%s): NULL when a masked key is in it" % ("binary" if binary else "text"),
                  repr(got)[:300])
        except Exception as e:
            check(False, "JSON in arrays and records (%s)" % ("binary" if binary else "text"), repr(e))
            conn.rollback()

    # a JSON key from a parameter: the text does not say which key is read
    try:
        cur.execute("select profile->>%s from customers where id = 1", ("secret_token",))
        check(False, "extended protocol: a JSON key from a parameter refused", cur.fetchall())
    except psycopg.errors.InsufficientPrivilege as e:
        check("keys its text does not give" in str(e) and "plainvalue" not in str(e),
              "extended protocol: a JSON key from a parameter refused", str(e))
        conn.rollback()
    except Exception as e:
        check(False, "extended protocol: a JSON key from a parameter refused with 42501", repr(e))
        conn.rollback()

    try:
        cur.execute(ALL, binary=True)
        check(all(cur.pgresult.fformat(i) == 1 for i in range(cur.pgresult.nfields)), "binary results: every column in binary format")
        rows = cur.fetchall()
        dump("py_binary.out", rows)
        check(len(rows) == 1013, "binary results: 1013 rows", len(rows))
        r1 = rows[0]
        check(r1[0] == 1 and r1[1] == "Alice Martin", "binary results: id and name unchanged", r1[:2])
        check(isinstance(r1[7], dict), "binary results: the jsonb column is still a JSON document", repr(r1[7])[:200])
        if isinstance(r1[7], dict):
            check(r1[7].get("token_type") == "refreshable" and r1[7].get("tags") == ["vip", "newsletter"]
                  and r1[7].get("nested", {}).get("level") == 3, "binary results: JSON keys outside json_keys unchanged", r1[7])
            check(r1[7].get("secret_token") not in (None, "plainvalue123"), "binary results: secret_token masked", r1[7])
        check(rows[2][4] == "4111 1111 1111 1112", "binary results: an invalid card is left alone", rows[2][4])
        check(str(rows[0][4]).startswith("****"), "binary results: a valid card is masked", rows[0][4])
        check(all(isinstance(r[7], dict) for r in rows if r[7] is not None), "binary results: every jsonb value parses")
    except Exception as e:
        check(False, "binary results: select * ran", repr(e))

    # a binary parameter (int and text), several times (psycopg prepares it after the first runs)
    got = []
    try:
        for i in range(4):
            cur.execute("select id, name, email, card, ssn, notes, profile, api_key from customers where id = %b or name = %b order by id",
                        (2, "Carol Jones"), binary=(i % 2 == 1), prepare=True if i >= 1 else None)
            got += cur.fetchall()
        dump("py_param.out", got)
        check(len(got) == 8 and got[0][1] == "Bob Smith" and got[1][1] == "Carol Jones",
              "binary parameters, prepared, text and binary results: the right rows", [g[:2] for g in got])
    except Exception as e:
        check(False, "binary parameters ran", repr(e))

    # a server-side cursor: the rows come from FETCH
    try:
        with conn.cursor(name="t94_cursor") as sc:
            sc.itersize = 100
            sc.execute(ALL)
            rows = list(sc)
        dump("py_cursor.out", rows)
        check(len(rows) == 1013, "server-side cursor (DECLARE/FETCH): 1013 rows", len(rows))
    except Exception as e:
        check(False, "server-side cursor ran", repr(e))
    conn.rollback()

    # an agent editing a document with parameters (json_keys), prepared after the first run: the
    # RETURNING document arrives masked by key, in text and in binary
    try:
        rows = []
        for i in range(4):
            cur.execute("update customers set profile = jsonb_set(profile, '{plan}', %s::jsonb) || %s::jsonb "
                        "where id = %s returning profile", ('"pro"', '{"tier": "gold"}', 1),
                        binary=(i % 2 == 1), prepare=True if i >= 1 else None)
            rows += cur.fetchall()
        dump("py_edit.out", rows)
        check(all(r[0].get("plan") == "pro" and r[0].get("tier") == "gold" and r[0].get("token") == "****" and
                  r[0].get("nested", {}).get("secret_pin") == "****" for r in rows) and len(rows) == 4,
              "psycopg: a document edited with parameters (prepared, text and binary), RETURNING it masked by key", rows)
    except Exception as e:
        check(False, "psycopg: a document edited with parameters ran", repr(e))
    conn.rollback()

    # COPY TO STDOUT through psycopg (text)
    try:
        data = bytearray()
        with cur.copy("copy customers to stdout") as cp:
            for block in cp:
                data += block
        open(os.path.join(out_dir, "py_copy.out"), "wb").write(data)
        check(data.count(b"\n") == 1013, "psycopg COPY TO STDOUT: 1013 lines", data.count(b"\n"))
    except Exception as e:
        check(False, "psycopg COPY ran", repr(e))
print("PY-FAILURES", failures)
PY
out=$(timeout $((120 * WAIT_SCALE)) "$PY" "$T/t94.py" "$T" "$WD_PORT" "$KEY_ALICE" 2>&1)
echo "$out"
assert_contains "$out" "PY-FAILURES 0" "psycopg checks ran to the end without failures"
for f in py_text py_binary py_param py_cursor py_edit py_copy; do
  no_secrets "$T/$f.out" "psycopg ($f)"
done
all_clear "$T/py_text.out" "psycopg text results"
all_clear "$T/py_binary.out" "psycopg binary results"

# ---------------------------------------------------------------- node-postgres
# npm pg parses what it receives: masked jsonb must still be JSON; simple, parameterised,
# binary-format and named-statement reads, as the masked identity and as the dba.
NODE_DIR="$IT_ROOT/../node"
for who in alice dana; do
  key=$KEY_ALICE; [[ $who == dana ]] && key=$KEY_DANA
  out=$(cd "$NODE_DIR" && WD_PORT=$WD_PORT WD_USER=$who WD_KEY=$key OUT="$T/node_$who" ROWS=$N_ROWS \
        timeout $((120 * WAIT_SCALE)) node mask_client.js 2>&1); rc=$?
  echo "$out" | sed 's/^/    /'
  assert_rc "$rc" 0 "node-postgres as $who ran without failures"
  assert_contains "$out" "NODE-FAILURES 0" "node-postgres as $who ran to the end"
done
for f in simple param binary named; do
  no_secrets "$T/node_alice.$f" "node-postgres ($f)"
  all_secrets "$T/node_dana.$f" "node-postgres as the dba ($f)"
done
all_clear "$T/node_alice.simple" "node-postgres (simple)"
all_clear "$T/node_alice.binary" "node-postgres (binary)"

# ---------------------------------------------------------------- raw extended protocol
# Parse + Describe once, then Bind/Execute without Describe (as drivers do for a
# statement they already know): no RowDescription precedes those rows.
cat >"$T/t94_wire.py" <<'PY'
import struct, sys
sys.path.insert(0, sys.argv[1])
import pgwire
from pgwire import msg, read_msg, parse_fields

port, key, out = int(sys.argv[2]), sys.argv[3], sys.argv[4]
s, res = pgwire.login(port, "alice", "appdb", key, extra={"application_name": "t94-wire"})
assert res["ok"], res
SQL = b"select id, ssn, api_key, email, notes, profile from customers where id <= 13 order by id"

def cstr(b): return b + b"\0"
def bind(stmt, fmt):
    return msg("B", cstr(b"") + cstr(stmt) + struct.pack("!h", 0) + struct.pack("!h", 0) + struct.pack("!hh", 1, fmt))
def execute(): return msg("E", cstr(b"") + struct.pack("!i", 0))
SYNC = msg("S")

def collect():
    rows, err, seen = [], None, []
    while True:
        typ, p = read_msg(s)
        seen.append(typ)
        if typ == "D":
            (n,) = struct.unpack("!h", p[:2]); pos, row = 2, []
            for _ in range(n):
                (ln,) = struct.unpack("!i", p[pos:pos + 4]); pos += 4
                row.append(None if ln < 0 else p[pos:pos + ln]); pos += max(ln, 0)
            rows.append(row)
        elif typ == "E":
            err = parse_fields(p)
        elif typ == "Z":
            return rows, err, seen

results = []
s.sendall(msg("P", cstr(b"s94") + cstr(SQL) + struct.pack("!h", 0)) + msg("D", b"S" + cstr(b"s94")) + SYNC)
rows, err, seen = collect()
print("describe:", "".join(seen), err or "")
for fmt in (0, 1, 0):
    s.sendall(bind(b"s94", fmt) + execute() + SYNC)
    rows, err, seen = collect()
    print("bind/execute format %d without describe: %d rows, messages %s %s" % (fmt, len(rows), "".join(sorted(set(seen))), err or ""))
    results.append((fmt, rows, err))
# unnamed statement, never described: Parse/Bind/Execute/Sync in one go
s.sendall(msg("P", cstr(b"") + cstr(SQL) + struct.pack("!h", 0)) + bind(b"", 0) + execute() + SYNC)
rows, err, seen = collect()
print("parse/bind/execute, never described: %d rows, messages %s %s" % (len(rows), "".join(sorted(set(seen))), err or ""))
results.append((0, rows, err))
# a portal fetched in parts (Execute with a row limit, as JDBC's fetchSize and
# node's pg-cursor do): PortalSuspended, then Execute of the same portal in a later
# Sync with no Describe of its own; every part is masked
rows, err = pgwire.simple_query(s, "begin")
assert err is None, err
s.sendall(msg("P", cstr(b"s94c") + cstr(SQL) + struct.pack("!h", 0))
          + msg("B", cstr(b"c94") + cstr(b"s94c") + struct.pack("!hhh", 0, 0, 0))
          + msg("E", cstr(b"c94") + struct.pack("!i", 5)) + SYNC)
parts = [collect()]
for limit in (5, 0):
    s.sendall(msg("E", cstr(b"c94") + struct.pack("!i", limit)) + SYNC)
    parts.append(collect())
rows, err = pgwire.simple_query(s, "commit")
assert err is None, err
print("portal in parts: rows %s, suspended %s %s" % ("+".join(str(len(r)) for r, _, _ in parts),
      "".join("s" if "s" in seen else "-" for _, _, seen in parts), [e for _, e, _ in parts if e]))
results.append((0, [row for r, _, _ in parts for row in r], next((e for _, e, _ in parts if e), None)))
# several statements in one simple Query message: every result set is masked
rows, err = pgwire.simple_query(s, "select email from customers where id = 2; select notes, profile from customers where id = 4; "
                                   "select ssn as s, api_key from customers where id <= 13 order by id")
print("one Query, three statements: %d rows %s" % (len(rows), err or ""))
results.append((0, [[None if v is None else v.encode() for v in r] for r in rows], err))
for i, (fmt, rows, err) in enumerate(results, 1):
    with open("%s.%d" % (out, i), "wb") as f:
        for r in rows:
            f.write(b"\t".join(b"\\N" if v is None else v for v in r) + b"\n")
counts = [len(r) for _, r, e in results if not e]
print("WIRE-ROWS", " ".join(str(c) for c in counts), "ERRORS", sum(1 for _, _, e in results if e))
PY
out=$(timeout $((60 * WAIT_SCALE)) "$PY" "$T/t94_wire.py" "$IT_ROOT" "$WD_PORT" "$KEY_ALICE" "$T/wire.out" 2>&1)
echo "$out" | sed 's/^/    /'
assert_match "$out" 'WIRE-ROWS (13 ){5}15 ERRORS 0' "raw protocol: every execution returned its rows (5 x 13, then 1 + 1 + 13)"
assert_contains "$out" "portal in parts: rows 5+5+3, suspended ss- []" "raw protocol: a portal fetched 5 rows at a time is suspended twice, then completes"
no_secrets "$T/wire.out.1" "raw protocol: statement described once (Parse/Describe S/Sync), then Bind/Execute/Sync, text results" "$T/secrets.txt" allow_empty
no_secrets "$T/wire.out.2" "raw protocol: the same statement, Bind/Execute/Sync, binary results" "$T/secrets.txt" allow_empty
no_secrets "$T/wire.out.3" "raw protocol: the same statement, Bind/Execute/Sync, text results again" "$T/secrets.txt" allow_empty
no_secrets "$T/wire.out.4" "raw protocol: unnamed Parse/Bind/Execute/Sync, never described" "$T/secrets.txt" allow_empty
no_secrets "$T/wire.out.5" "raw protocol: a portal fetched in parts (Execute with a row limit, no Describe)" "$T/secrets.txt" allow_empty
no_secrets "$T/wire.out.6" "raw protocol: three statements in one simple Query message" "$T/secrets.txt" allow_empty

# ---------------------------------------------------------------- FunctionCall (the protocol's fast path)
# A function called by OID, with no SQL text: query_to_xml runs the query it is given as text.
# A masked identity's FunctionCall is refused under column rules (and the session goes on);
# the dba's runs (the same message reaches the function and returns the column in clear).
QX_OID=$(pg_direct -d app -At -c "select 'pg_catalog.query_to_xml(text,boolean,boolean,text)'::regprocedure::oid")
cat >"$T/t94_fastpath.py" <<'PY'
import struct, sys
sys.path.insert(0, sys.argv[1])
import pgwire
from pgwire import msg, read_msg, parse_fields

port, oid = int(sys.argv[2]), int(sys.argv[3])
def call(user, key):
    s, res = pgwire.login(port, user, "appdb", key, extra={"application_name": "t94-fastpath"})
    assert res["ok"], res
    args = [b"select password from accounts where id = 1", b"\x01", b"\x00", b""]
    body = struct.pack("!ihhh", oid, 1, 1, len(args))
    for a in args:
        body += struct.pack("!i", len(a)) + a
    s.sendall(msg("F", body + struct.pack("!h", 0)))
    value, err = None, None
    while True:
        typ, p = read_msg(s)
        if typ == "V":
            (ln,) = struct.unpack("!i", p[:4])
            value = None if ln < 0 else p[4:4 + ln].decode("utf-8", "replace")
        elif typ == "E":
            err = parse_fields(p)
        elif typ == "Z":
            break
    rows, qerr = pgwire.simple_query(s, "select 1")
    return value, err, rows, qerr

value, err, rows, qerr = call("alice", sys.argv[4])
print("alice: value=%r code=%s message=%s; then select 1: %r %s" % (value, err and err.get("C"), err and err.get("M"), rows, qerr or ""))
value, err, rows, qerr = call("dana", sys.argv[5])
print("dana: value=%r error=%s" % (value, err or ""))
PY
out=$(timeout $((60 * WAIT_SCALE)) "$PY" "$T/t94_fastpath.py" "$IT_ROOT" "$WD_PORT" "$QX_OID" "$KEY_ALICE" "$KEY_DANA" 2>&1)
echo "$out" | sed 's/^/    /'
assert_contains "$out" "alice: value=None code=42501 message=warden masks columns for you (masking profile \"pii\"): this request is a FunctionCall" \
  "FunctionCall: a masked identity's call of query_to_xml by OID is refused (42501)"
assert_contains "$out" "then select 1: [['1']]" "FunctionCall: the session goes on after the refusal"
assert_not_contains "$(grep '^alice' <<<"$out")" "CorrectHorseBatteryStaple" "FunctionCall: nothing of the column reached the masked identity"
assert_contains "$out" "<password>CorrectHorseBatteryStaple</password>" "FunctionCall: the dba's call runs the function (the column in clear)"
audit_export
assert_eq "$(audit_q '[.[] | select(.kind == "request" and .user == "alice" and .agent == "t94-fastpath")][0] | [.decision, .statement] | join(" ")')" \
  "deny -- FunctionCall oid $QX_OID: \"pg_catalog\".\"query_to_xml\"" "FunctionCall: the refused call is audited (deny, the OID, the function the catalog names)"

# ---------------------------------------------------------------- LISTEN/NOTIFY
# pg_notify(channel, a value) carries it past the rows, to the session itself (before its
# ReadyForQuery) and, later and outside any request, to every session listening: masked
# with the session's profile either way; the dba's session gets them in the clear.
cat >"$T/t94_notify.py" <<'PY'
import socket, sys
sys.path.insert(0, sys.argv[1])
import pgwire
from pgwire import read_msg

port, key_alice, key_dana, pg_sock, out = int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
a, res = pgwire.login(port, "alice", "appdb", key_alice, extra={"application_name": "t94-notify"})
assert res["ok"], res
d, res = pgwire.login(port, "dana", "appdb", key_dana, extra={"application_name": "t94-notify-dba"})
assert res["ok"], res
for s in (a, d):
    rows, err = pgwire.simple_query(s, "LISTEN t94ch")
    assert err is None, err

def payloads(s, until_z, want):
    got = []
    while len(got) < want or until_z:
        typ, p = read_msg(s)
        if typ == "A":
            got.append(p[4:].replace(b"\0", b" "))
        if typ == "Z":
            until_z = False
    return got

got = {"alice": [], "dana": []}
# the session's own notification, within its request
a.sendall(pgwire.msg("Q", b"select pg_notify('t94ch', 'sync ' || (select email from customers where id = 1))\0"))
got["alice"] += payloads(a, True, 1)
# another session's, outside any request (sent straight to PostgreSQL)
u = socket.socket(socket.AF_UNIX)
u.connect(pg_sock)
u, res = pgwire.login(None, "postgres", "app", "", sock=u)
assert res["ok"], res
rows, err = pgwire.simple_query(u, "NOTIFY t94ch, 'async bob.smith@example.net'")
assert err is None, err
# a document as the payload, as a trigger's pg_notify(ch, row_to_json(NEW)::text) sends it
rows, err = pgwire.simple_query(u, "select pg_notify('t94ch', profile::text) from customers where id = 1")
assert err is None, err
got["alice"] += payloads(a, False, 2)
got["dana"] += payloads(d, False, 3)
for who in ("alice", "dana"):
    with open("%s.%s" % (out, who), "wb") as f:
        f.write(b"\n".join(got[who]) + b"\n")
print("NOTIFY-PAYLOADS alice %d dana %d" % (len(got["alice"]), len(got["dana"])))
PY
out=$(timeout $((60 * WAIT_SCALE)) "$PY" "$T/t94_notify.py" "$IT_ROOT" "$WD_PORT" "$KEY_ALICE" "$KEY_DANA" \
  "$IT_PG_DIR/.s.PGSQL.$IT_PG_PORT" "$T/notify.out" 2>&1)
echo "$out" | sed 's/^/    /'
assert_contains "$out" "NOTIFY-PAYLOADS alice 3 dana 3" "LISTEN/NOTIFY: each session got the three notifications"
no_secrets "$T/notify.out.alice" "LISTEN/NOTIFY: the payloads (within a request and outside any)"
assert_contains "$(cat "$T/notify.out.alice")" "async ****" "LISTEN/NOTIFY: a notification outside any request is masked with the session's profile"
assert_contains "$(cat "$T/notify.out.alice")" '"token": "****"' "LISTEN/NOTIFY: a document as the payload is masked by key"
assert_contains "$(cat "$T/notify.out.dana")" "async bob.smith@example.net" "LISTEN/NOTIFY: the dba's session gets them in the clear"
assert_contains "$(cat "$T/notify.out.dana")" "sync alice.martin@example.org" "LISTEN/NOTIFY: ... both of them"

# ---------------------------------------------------------------- ParameterStatus
# The target reports application_name to the client whenever it changes: set_config() with a
# column's value sends the value itself in a ParameterStatus, past the rows. Masked with the
# request's profile (psycopg keeps what it was sent: conn.info.parameter_status); the dba's
# session gets it in the clear; a name the client sets itself is left as it is.
cat >"$T/t94_paramstatus.py" <<'PY'
import sys
import psycopg
port, who, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with psycopg.connect(host="127.0.0.1", port=port, dbname="appdb", user=who, password=key,
                     application_name="t94-param", sslmode="require", connect_timeout=20,
                     autocommit=True) as conn:
    for col in ("email", "card", "notes"):
        conn.execute("select set_config('application_name', left(%s, 60), false) from customers where id = 1" % col)
        print("%s: %s" % (col, conn.info.parameter_status("application_name")))
    conn.execute("set application_name = 'agent-7'")
    print("set: %s" % conn.info.parameter_status("application_name"))
PY
for who in alice dana; do
  key=$KEY_ALICE; [[ $who == dana ]] && key=$KEY_DANA
  timeout $((60 * WAIT_SCALE)) "$PY" "$T/t94_paramstatus.py" "$WD_PORT" "$who" "$key" >"$T/param.$who" 2>&1
  sed 's/^/    /' "$T/param.$who"
done
no_secrets "$T/param.alice" "ParameterStatus: set_config('application_name', a column) reaches the client masked"
assert_contains "$(cat "$T/param.alice")" "email: ****" "ParameterStatus: the address is masked where the client keeps it"
assert_contains "$(cat "$T/param.alice")" "set: agent-7" "ParameterStatus: a name the client sets is left as it is"
assert_contains "$(cat "$T/param.dana")" "email: alice.martin@example.org" "ParameterStatus: the dba's session gets it in the clear"

# ---------------------------------------------------------------- the dba group reads clear values
as_dana -At -R $'\036' -c "select * from customers order by id" >"$T/dba_all.out" 2>&1
assert_eq "$(($(count_sep "$T/dba_all.out") + 1))" "1013" "dba: 1013 rows"
all_secrets "$T/dba_all.out" "dba psql select * (rule dba-unmasked)"
as_dana -c "copy customers to stdout" >"$T/dba_copy.out" 2>&1
all_secrets "$T/dba_copy.out" "dba COPY TO STDOUT"
as_dana -c "copy customers to stdout with (format binary)" >"$T/dba_copy_bin.out" 2>"$T/dba_copy_bin.err"; rc=$?
assert_rc "$rc" 0 "dba: binary COPY works for an unmasked rule ($(show "$(cat "$T/dba_copy_bin.err")" 200))"
all_secrets "$T/dba_copy_bin.out" "dba COPY TO STDOUT (FORMAT binary)"
out=$(as_dana -At -c "select ssn, api_key from customers where id = 3" 2>&1)
assert_eq "$out" "912-70-3456|pk_test_TYooMQauvdEDq54NiTphI7jx" "dba: column-rule columns in the clear"

# the masked identity again, after the dba: nothing cached across identities
ap -At -c "select ssn, api_key from customers where id = 3" >"$T/psql_after.out" 2>&1
no_secrets "$T/psql_after.out" "alice after dana: still masked"

wd_alive
wd_stop

# ---------------------------------------------------------------- the audit trail
audit_export || it_finish
leaks=$(found_in "$T/secrets.txt" "$AUDIT_RAW")
if [[ -z "$leaks" ]]; then
  ok "audit: no seeded sensitive value anywhere in the export ($(wc -l <"$AUDIT_RAW") entries)"
else
  printf '%s\n' "$leaks" >"$T/audit_leaks.txt"
  where=$("$PY" - "$AUDIT_RAW" "$T/audit_leaks.txt" <<'PY'
import json, sys
needles = [l.rstrip("\n") for l in open(sys.argv[2], encoding="utf-8") if l.strip()]
hits = {}
for line in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(line)
    for k, v in e.items():
        t = json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v
        n = sum(1 for x in needles if x in t)
        if n:
            key = (e.get("kind"), e.get("user"), k)
            hits.setdefault(key, [0, 0, e.get("request_id", e.get("id"))])
            hits[key][0] += 1
            hits[key][1] += n
print("; ".join("%s entries of user %s, field %s (%d entries, %d values; e.g. id %s)" % (k[0], k[1], k[2], v[0], v[1], v[2])
                for k, v in sorted(hits.items(), key=lambda kv: -kv[1][1])))
PY
)
  fail "audit: $(wc -l <<<"$leaks") seeded sensitive value(s) in the export, e.g. [$(head -5 <<<"$leaks" | paste -sd '|')]; where: $where"
fi
# the dba's clear results are captured masked; a value computed on a column-rule
# column cannot be, so its rows are not captured (summary only)
if [[ "${T94_NO_MASK:-0}" != 1 && "${T94_CAPTURE:-masked}" == masked ]]; then
  assert_eq "$(grep -c 'CORRECTHORSEBATTERYSTAPLE' "$AUDIT_RAW")" "0" "audit: the dba's upper(password) was not captured (no column to mask it by)"
  REQU=$(audit_q '[.[] | select(.kind == "request" and .user == "dana" and (.statement | test("upper\\(password\\)")))][0].id // empty')
  RESU=$(audit_q '[.[] | select(.kind == "result" and .request_id == ($r | tonumber))][0] // {} | tostring' --arg r "${REQU:-0}")
  assert_eq "$(jq -r '[.rows, (.result == null)] | map(tostring) | join(" ")' <<<"$RESU")" "1 true" \
    "audit: the dba's upper(password): its result entry counts 1 row and holds none"
fi

# per-detector counts on the result of alice's select *
REQ=$(audit_q '[.[] | select(.kind == "request" and .user == "alice" and .agent == "t94-psql" and .statement == "select * from customers order by id")][0].id // empty')
[[ -n "$REQ" ]] || fail "audit: no request entry for alice's select * from customers"
RES=$(audit_q '[.[] | select(.kind == "result" and .request_id == ($r | tonumber))][0] // {} | tostring' --arg r "${REQ:-0}")
log "result entry of request $REQ: $(show "$(jq -c 'del(.result)' <<<"$RES")" 800)"
assert_eq "$(jq -r '.rows' <<<"$RES")" "1013" "audit: the result of select * records 1013 rows"
assert_eq "$(jq -r '.masked | type' <<<"$RES")" "object" "audit: the result entry has per-detector counts (field masked)"
pg_direct -d app -At -F ' ' -c "select det, count(*) from t94.expect where kind = 'secret' and det not in ('column', 'json_key') group by det order by det" >"$T/expect_counts.txt"
while read -r det n; do
  got=$(jq -r --arg d "$det" '.masked[$d] // 0' <<<"$RES")
  assert_eq "$got" "$n" "audit: select * masked $n value(s) by detector $det"
done <"$T/expect_counts.txt"
other=$(jq -r '(.masked // {}) | to_entries | map(select(.key as $k | ["email","phone","credit_card","iban","us_ssn","ipv4","jwt","aws_access_key","azure_storage_key","private_key","password_in_url","bearer_token","aws_secret_key","github_token","slack_token","stripe_key","google_api_key","openai_key","anthropic_key","basic_auth","password_in_text","employee_id"] | index($k) | not)) | map("\(.key)=\(.value)") | join(" ")' <<<"$RES")
log "other counters on that result (column rules, json keys: 2022 whole values and 2012 JSON values seeded): ${other:-none}"

if [[ "${T94_CAPTURE:-masked}" == masked ]]; then
  cap=$(jq -r '.result | type' <<<"$RES")
  if [[ "$cap" == "null" ]]; then fail "audit: capture_results masked: the result entry of select * holds no captured rows (field result)"; else
    ok "audit: the result entry holds the captured rows (field result, a JSON $cap)"
    txt=$(jq -r '.result | tostring' <<<"$RES")
    assert_contains "$txt" "Alice Martin" "audit: the captured rows hold the clear values (names)"
    assert_contains "$txt" "4111 1111 1111 1112" "audit: the captured rows hold the near misses unchanged"
    assert_match "$txt" '\*\*\*\*1111' "audit: the captured rows are the masked ones (****1111)"
    assert_eq "$(jq -r '.result.columns | length' <<<"$RES")" "10" "audit: the captured result names its 10 columns"
    assert_eq "$(jq -r '.result.columns[0]' <<<"$RES")" "id" "audit: the captured result's first column is id"
  fi
  REQC=$(audit_q '[.[] | select(.kind == "request" and .user == "alice" and (.statement | test("^copy customers to stdout$"; "i")))][0].id // empty')
  RESC=$(audit_q '[.[] | select(.kind == "result" and .request_id == ($r | tonumber))][0] // {} | tostring' --arg r "${REQC:-0}")
  assert_eq "$(jq -r '.masked.credit_card // 0' <<<"$RESC")" "$(awk '$1 == "credit_card" { print $2 }' "$T/expect_counts.txt")" \
    "audit: the COPY TO STDOUT result counts the masked cards too"
fi
audit_expect '.kind == "request" and .user == "dana" and .rule == "dba-unmasked"' "dana's requests decided by dba-unmasked"
audit_expect '.kind == "request" and .user == "alice" and .rule == "everyone-else-masked"' "alice's requests decided by everyone-else-masked"

# policy test: a candidate that drops the masking is looser for every request it allowed masked
if [[ "${T94_NO_MASK:-0}" != 1 ]]; then
  sed 's/, mask: pii }/ }/' "$WD_CFG" >"$T/nomask.yaml"
  out=$("$WARDEN" policy test -c "$WD_CFG" --candidate "$T/nomask.yaml" 2>&1); rc=$?
  assert_rc "$rc" 0 "policy test against a candidate without masking ($(show "$out" 200))"
  assert_contains "$out" "allow, masked (pii) -> allow" "policy test: the change from masked to clear is listed"
  js=$("$WARDEN" policy test -c "$WD_CFG" --candidate "$T/nomask.yaml" --json 2>&1)
  # (and the statements refused for computing on a masked column run in clear)
  assert_eq "$(jq -r '(.looser > 0) and (.changes | all((.old_masked == "pii" and .new_masked == null) or
      (.old == "deny" and .old_rule == "everyone-else-masked" and .new == "allow"))) and
      ([.changes[] | select(.old == "deny")] | length >= 26)' <<<"$js")" "true" \
    "policy test --json: looser, old_masked pii, new_masked null; the column rules' refusals allowed"
  out=$("$WARDEN" policy test -c "$WD_CFG" --candidate "$WD_CFG" 2>&1)
  assert_contains "$out" "would change (0 stricter, 0 looser)" "policy test: the same policy changes nothing, masking included"
fi

# audit.capture_results none: a result entry says the request ran (and how long), not what came back
wd_stop
sed -i 's/capture_results: .*/capture_results: none/' "$WD_CFG"
wd_start
ap -At -c "select count(*) from accounts" >/dev/null 2>&1
# (the result entry is written once the reply has gone out: it may come a moment after psql is done)
for _ in $(seq 1 50); do
  audit_export
  RN=$(audit_q '[.[] | select(.kind == "request" and .statement == "select count(*) from accounts")] | last | .id // empty')
  RRN=$(audit_q '[.[] | select(.kind == "result" and .request_id == ($r | tonumber))][0] // {} | tostring' --arg r "${RN:-0}")
  [[ "$RRN" != "{}" ]] && break
  sleep 0.1
done
assert_eq "$(jq -r '[.command_tag, .rows, .result] | map(tostring) | join(",")' <<<"$RRN")" "null,null,null" \
  "capture_results none: the result entry holds no command tag, row count or rows"
assert_match "$(jq -r '.duration_us' <<<"$RRN")" '^[0-9]+$' "capture_results none: the result entry still has its duration"
pg_direct -d app -c "drop schema t94 cascade" -c "drop table public.customers, public.accounts" >/dev/null 2>&1
it_finish
