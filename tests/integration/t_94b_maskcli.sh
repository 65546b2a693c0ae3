#!/usr/bin/env bash
# warden mask: a masking profile tried on values from the command line gives
# what the gateway sends for the same values — detectors, validators, JSON
# keys, column rules, types and the hash style (with the gateway's own key:
# a hash computed here is the one a masked reader sees) — with both engines.
source "$(dirname "$0")/lib.sh"
it_init

PROFILES="    - name: pii
      detectors: [email, phone, credit_card, iban, us_ssn, ipv4, jwt, aws_access_key, azure_storage_key, private_key, password_in_url, bearer_token]
      custom: [{ name: employee_id, pattern: \"EMP-[0-9]{6}\" }]
      columns: [\"public.t94b.ssn\", \"*.api_key\"]
      json_keys: [\"secret*\", \"token\"]
      style: partial
    - name: hashed
      detectors: [email, us_ssn]
      columns: [\"public.t94b.ssn\"]
      style: hash"
WD_EXTRA="masking:
  profiles:
$PROFILES
policy:
  rules:
    - { name: dev-hashed, match: { groups: [dev] }, action: allow, mask: hashed }"
wd_new "$(conn appdb)"
CFG=$WD_CFG
m() { "$WARDEN" mask -c "$CFG" "$@"; }

# ---------------------------------------------------------------- text values
LINE='Ticket from jane.doe@example.com, call +1 415-555-0100; card 4111 1111 1111 1111 (typo 4111 1111 1111 1112), SSN 078-05-1120, EMP-104233 at 10.20.30.40'
out=$(m "$LINE" 2>"$T/m.err"); rc=$?
assert_eq "$(cat "$T/m.err")" "" "nothing on stderr for a profile that does not hash"
assert_rc "$rc" 0 "warden mask: a text value ($(show "$(cat "$T/m.err")" 200))"
assert_eq "$out" 'Ticket from ****, call ****0100; card ****1111 (typo 4111 1111 1111 1112), SSN ****1120, **** at ****' \
  "every detector's value is masked (partial: a number's last 4 digits, nothing of the rest), the card failing Luhn is left alone"
assert_eq "$(m "no sensitive value, order 7781 of 2025-01-01")" "no sensitive value, order 7781 of 2025-01-01" \
  "a value with nothing to mask is printed as it is"
# standard input: one value a line
out=$(printf '%s\n' "a@b.co" "plain" "4532015112830366" | m)
assert_eq "$out" $'****\nplain\n****0366' "standard input: each line is a value"

# --explain: what each detector found
js=$(m --explain "$LINE")
assert_eq "$(jq -c '[.changed, .found.email, .found.phone, .found.credit_card, .found.us_ssn, .found.employee_id, .found.ipv4]' <<<"$js")" \
  "[true,1,1,1,1,1,1]" "--explain: one value found by each detector ($(show "$js" 300))"
assert_eq "$(m --explain plain | jq -c '[.changed, .masked, .found]')" '[false,"plain",{}]' "--explain: nothing found"

# the other engine gives the same
sed 's/^masking:$/masking:\n  engine: pcre2/' "$CFG" >"$T/pcre2.yaml"
grep -q "engine: pcre2" "$T/pcre2.yaml" || die "could not write the pcre2 config"
assert_eq "$("$WARDEN" mask -c "$T/pcre2.yaml" "$LINE")" "$(m "$LINE")" "PCRE2 masks the value as Hyperscan does"

# ---------------------------------------------------------------- types, JSON, column rules
out=$(m --type jsonb --explain '{"token": "tk-1", "secret_pin": 1234, "note": "mail x@y.org", "token_type": "bearer"}')
assert_eq "$(jq -r .masked <<<"$out")" '{"token": "****", "secret_pin": "****", "note": "mail ****", "token_type": "bearer"}' \
  "--type jsonb: values under json_keys and detectors inside the document"
assert_eq "$(jq -c '[.found.json_key, .found.email]' <<<"$out")" "[2,1]" "--type jsonb: counted as json_key and email"
assert_eq "$(m --type text '{"token": "tk-1"}')" '{"token": "****"}' "a text value that is a JSON document has its keys masked too"
assert_eq "$(m 912-70-1234)" "912-70-1234" "an ITIN is no SSN (area 9xx): the detectors leave it"
assert_eq "$(m --column public.t94b.ssn 912-70-1234)" "****1234" "--column under a column rule: masked whole"
assert_eq "$(m --column public.t94b.api_key sk_live_abcdef)" "****" "--column matching a glob (*.api_key): masked whole"
assert_eq "$(m --column public.t94b.note sk_live_abcdef)" "sk_live_abcdef" "--column no rule names: detectors only"
assert_eq "$(m --type int8 4532015112830366 12)" $'NULL\n12' "--type int8: a card number becomes NULL (a number cannot hold ****), others stay"
assert_eq "$(m --type int8 --explain 4532015112830366 | jq -c '[.masked, .found.credit_card]')" "[null,1]" "--explain: NULL is null"
assert_eq "$(m --type 'int8[]' '{4532015112830366,12}' '{1,2}')" $'NULL\n{1,2}' "--type int8[]: an array of numbers holding a card number becomes NULL"
assert_eq "$(m --type 'jsonb[]' '{"{\"token\": \"tk-1\"}"}' '{"{\"theme\": \"x@y.org\"}"}')" \
  "$(printf '%s\n%s' NULL '{"{\"theme\": \"****\"}"}')" "--type jsonb[]: a document with a masked key makes the array NULL; detectors rewrite the others"
# bytea: its hex (and escape) form decoded, masked, written back in hex; a bytea cast to text reads the same
assert_eq "$(m --type bytea '\x6d61696c20782e792e7a406578616d706c652e6f7267' 'mail x.y.z@example.org')" \
  $'\\x6d61696c202a2a2a2a\nmail ****' "--type bytea: the hex form decoded and written back in hex"
assert_eq "$(m '\x6d61696c20782e792e7a406578616d706c652e6f7267')" '\x6d61696c202a2a2a2a' \
  "a text value holding a bytea's hex has it read too"
assert_eq "$(m --type 'bytea[]' '{"\\x6d61696c20782e792e7a406578616d706c652e6f7267"}')" '{"\\x6d61696c202a2a2a2a"}' \
  "--type bytea[]: each element's hex"

# ---------------------------------------------------------------- errors
out=$(m --profile nosuch x 2>&1); rc=$?
assert_rc "$rc" 1 "an unknown profile exits 1"
assert_contains "$out" 'no profile "nosuch"' "the message names it"
assert_contains "$out" "pii hashed" "and lists the profiles"
out=$(m --type money x 2>&1); rc=$?
assert_rc "$rc" 2 "an unknown --type is a usage error"
assert_contains "$out" "unknown --type 'money'" "the message names the type"
out=$("$WARDEN" mask x 2>&1); rc=$?
assert_rc "$rc" 2 "no -c is a usage error"
sed '/^masking:$/,$d' "$CFG" >"$T/nomask.yaml"
out=$("$WARDEN" mask -c "$T/nomask.yaml" x 2>&1); rc=$?
assert_rc "$rc" 1 "a configuration without masking.profiles exits 1"
assert_contains "$out" "has no masking.profiles" "and says so"

# ---------------------------------------------------------------- hash: the gateway's key
out=$(m --profile hashed a@b.co 2>&1 >/dev/null)
assert_contains "$out" "mask.key does not exist" "hash style before the gateway made its key: said on stderr"
[[ -e "$WD_DATA/mask.key" ]] && fail "warden mask created the hash key" || ok "warden mask does not create the hash key"

pg_direct -d app -c "drop table if exists public.t94b;
  create table public.t94b (id int, email text, ssn text, note text);
  insert into public.t94b values (1, 'kim.lee@example.net', '912-70-1234', 'SSN 536-22-8123 on file');
  alter table public.t94b owner to app_scram;" >/dev/null || die "could not create t94b"
wd_start
wd_env require
got=$(psql -X -At -F '|' -c "select email, ssn, note from t94b" 2>&1); rc=$?
assert_rc "$rc" 0 "psql through the gateway ($(show "$got" 200))"
[[ "$got" == *kim.lee@example.net* || "$got" == *912-70-1234* || "$got" == *536-22-8123* ]] &&
  fail "a clear value reached psql ($got)" || ok "the gateway hashes what alice reads"
want="$(m --profile hashed kim.lee@example.net)|$(m --profile hashed --column public.t94b.ssn 912-70-1234)|$(m --profile hashed 'SSN 536-22-8123 on file')"
assert_eq "$got" "$want" "warden mask with the gateway's key gives the hashes the gateway sent"
assert_match "$want" '^h:[0-9a-f]{16}\|h:[0-9a-f]{16}\|SSN h:[0-9a-f]{16} on file$' "the hashes have the hash style's form"
out=$(m --profile hashed a@b.co 2>&1 >/dev/null)
assert_eq "$out" "" "with the key in place nothing is said on stderr"
chmod 0644 "$WD_DATA/mask.key"
out=$(m --profile hashed a@b.co 2>&1); rc=$?
assert_rc "$rc" 1 "a hash key others can read is refused"
assert_contains "$out" "readable by others" "and the message says why"
chmod 0600 "$WD_DATA/mask.key"
wd_stop
pg_direct -d app -c "drop table public.t94b" >/dev/null

it_finish
