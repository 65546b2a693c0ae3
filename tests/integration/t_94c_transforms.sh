#!/usr/bin/env bash
# transforms: refuse — detectors recognise values by their shape, so a masked
# identity that reshapes a column before it leaves the target (base64, hex,
# replace, reverse, a character per row, a cut, glued digits, a hash, in the
# select list or a WHERE whose cast error would quote it) is refused with
# 42501, and nothing seeded reaches it; without the setting the same reads
# carry the seeded values out (checked by decoding them), which is why it
# exists (lower() too: detectors know tokens by their case). What keeps values
# whole (btrim, coalesce, CASE, string_agg with a
# separator, ' <' || email || '>', count, comparisons, a reshape a WHERE only
# compares) is answered, masked; so are casts to bytea, whose hex the mask
# stage reads (a cast back to text, an array, JSON, COPY), while an XML
# element, where a bytea is base64, is refused; so is a column's text read as
# a number and then computed on or written as a float, a scale or money (a
# column the catalog says holds numbers is rounded and formatted freely); a
# JSON error's DETAIL and CONTEXT, which quote a piece of the value, are masked;
# a masked read in another client_encoding than UTF8 is refused; a large
# object's bytes encoded or cut are refused as a column's are; bytea's escape
# form (bytea_output = escape) is decoded and masked as its hex is;
# psycopg's extended protocol gets the same refusal at Parse and its session
# goes on; psql's \d and pg_dump, whose catalog queries format and cut catalog
# columns, work; the dba's reshaping reads run; the refusals are audited.
source "$(dirname "$0")/lib.sh"
it_init

pg_direct -d app -f "$IT_ROOT/mask_seed.sql" >/dev/null || die "could not seed the customers table"
# the seeded sensitive values found in customers' notes and emails (what the reshaping reads carry)
pg_direct -d app -At -c "select distinct value from t94.expect e where kind = 'secret' and length(value) >= 8
  and exists (select 1 from public.customers c where c.notes like '%' || e.value || '%' or c.email = e.value)
  order by 1" >"$T/secrets.txt"
N_SECRETS=$(wc -l <"$T/secrets.txt")
((N_SECRETS > 100)) || die "seed: only $N_SECRETS sensitive values in customers' notes and emails"

# t_94's detectors, custom pattern and style
DETECTORS="[email, phone, credit_card, iban, us_ssn, ipv4, jwt, aws_access_key, azure_storage_key, private_key,
                  password_in_url, bearer_token, aws_secret_key, github_token, slack_token, stripe_key, google_api_key,
                  openai_key, anthropic_key, basic_auth, password_in_text]
      custom: [{ name: employee_id, pattern: \"EMP-[0-9]{6}\" }]
      json_keys: [\"secret*\", \"token\"]
      style: partial"
WD_AUDIT_EXTRA="capture_results: masked"
WD_EXTRA="masking:
  profiles:
    - name: strict
      detectors: $DETECTORS
      transforms: refuse
    - name: loose
      detectors: $DETECTORS
policy:
  default: deny
  rules:
    - { name: dba-unmasked, match: { groups: [dba] }, action: allow }
    - { name: ops-loose, match: { groups: [ops] }, action: allow, mask: loose }
    - { name: agents-strict, match: {}, action: allow, mask: strict }"
wd_new "$(conn appdb)"
out=$("$WARDEN" serve -c "$WD_CFG" --check 2>&1); rc=$?
assert_rc "$rc" 0 "serve --check accepts transforms: refuse ($(show "$out" 300))"
sed 's/      transforms: refuse/      transforms: sometimes/' "$WD_CFG" >"$T/bad.yaml"
out=$("$WARDEN" serve -c "$T/bad.yaml" --check 2>&1); rc=$?
assert_nonzero "$rc" "serve --check refuses transforms: sometimes"
assert_contains "$out" "transforms: must be one of: allow | refuse" "and names the choices"
wd_start
wd_env require
KEY_DANA=$(key_new dana dba) || die "apikey create: $(cat "$T/apikey.err")"

# Prints the distinct seeded values found in FILE.
found_in() { grep -aoF -f "$T/secrets.txt" "$1" 2>/dev/null | sort -u; }
no_secrets() { # FILE WHAT
  local leaks
  leaks=$(found_in "$1")
  if [[ -z "$leaks" ]]; then ok "$2: no seeded value in what the client received"
  else fail "$2: $(wc -l <<<"$leaks") seeded value(s) reached the client, e.g. [$(head -5 <<<"$leaks" | paste -sd '|')]"; fi
}
as_alice() { PGAPPNAME=t94c psql -X -q -v ON_ERROR_STOP=1 "$@"; }
as_bob() { PGUSER=bob PGPASSWORD=$KEY_BOB PGAPPNAME=t94c psql -X -q -v ON_ERROR_STOP=1 "$@"; }
as_dana() { PGUSER=dana PGPASSWORD=$KEY_DANA PGAPPNAME=t94c psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# What each reshaping read gives back, decoded to the text it reshaped (so that the
# seeded values can be looked for in it).
BASE64="select encode(convert_to(notes, 'UTF8'), 'base64') from customers order by id"
HEX="select encode(notes::bytea, 'hex') from customers order by id"
REVERSED="select reverse(notes) from customers order by id"
SPLIT="select regexp_split_to_table(email, '') from customers order by id"
AT="select replace(email, '@', ' at ') from customers order by id"
decode() { # KIND < output > text
  case $1 in
    base64) tr -d '\n' | sed 's/=\{1,2\}/&\n/g' | base64 -d -i 2>/dev/null ;;
    hex) perl -ne 'chomp; print pack("H*", $_), "\n"' ;;
    reversed) perl -nle 'print scalar reverse $_' ;;
    split) tr -d '\n' ;;
    at) sed 's/ at /@/' ;;
  esac
}

# ---------------------------------------------------------------- without the setting: the reads carry the values out
as_bob -At -c "$BASE64" >"$T/loose_b64.out" 2>&1 || fail "loose: base64 read failed: $(show "$(cat "$T/loose_b64.out")" 200)"
decode base64 <"$T/loose_b64.out" >"$T/loose_b64.txt"
n=$(found_in "$T/loose_b64.txt" | wc -l)
((n > 100)) && ok "transforms: allow (profile loose): base64 of notes carries $n seeded values past the detectors" \
  || fail "transforms: allow: base64 of notes decoded to only $n seeded values (the contrast this test rests on)"
no_secrets "$T/loose_b64.out" "transforms: allow: the base64 text itself"
for k in hex reversed at; do
  case $k in hex) q=$HEX ;; reversed) q=$REVERSED ;; at) q=$AT ;; esac
  as_bob -At -c "$q" >"$T/loose_$k.out" 2>&1 || fail "loose: $k read failed"
  n=$(decode $k <"$T/loose_$k.out" >"$T/loose_$k.txt"; found_in "$T/loose_$k.txt" | wc -l)
  ((n > 0)) && ok "transforms: allow: a $k read carries $n seeded values" || fail "transforms: allow: a $k read carries none"
done

# ---------------------------------------------------------------- transforms: refuse
refused() { # LABEL QUERY WHAT-RESHAPES COLUMN
  local rc
  as_alice -At -c "$2" >"$T/refused.out" 2>&1; rc=$?
  assert_nonzero "$rc" "$1: refused"
  assert_contains "$(cat "$T/refused.out")" "reshapes column \"$4\" with $3" "$1: the refusal names the column and $3"
  assert_contains "$(cat "$T/refused.out")" "in a form no detector recognises" "$1: and says why"
  no_secrets "$T/refused.out" "$1"
}
refused "base64" "$BASE64" "convert_to()" notes
refused "hex" "$HEX" "encode()" notes
refused "reverse" "$REVERSED" "reverse()" notes
refused "a character per row" "$SPLIT" "regexp_split_to_table()" email
refused "replace" "$AT" "replace()" email
refused "a cut" "select email::varchar(6) from customers" "a cast" email
refused "glued digits" "select phone || '0' from customers" "the operator ||" phone
refused "a hash" "select md5(email) from customers" "md5()" email
refused "a scalar subquery" "select upper(translate((select notes from customers limit 1), 'abc', 'bcd'))" "translate()" notes
refused "a WHERE's cast error" \
  "select 1 from customers where id = 1 and encode(convert_to(notes, 'UTF8'), 'base64')::int = 1" "convert_to()" notes
refused "a CTE" "with c as (select notes as n from customers) select reverse(n) from c" "reverse()" n
# the session goes on after a refusal, and the PostgreSQL error code is 42501
out=$(as_alice -At -v VERBOSITY=verbose -c "select reverse(notes) from customers" 2>&1)
assert_contains "$out" "ERROR:  42501" "a refusal is SQLSTATE 42501"

# ---------------------------------------------------------------- what keeps values whole is answered, masked
as_alice -At -F '|' -c "select id, btrim(email), coalesce(phone, '-'), name || ' <' || email || '>',
  case when notes like '%SSN%' then notes else 'none' end, length(notes)
  from customers order by id" >"$T/whole.out" 2>"$T/whole.err"; rc=$?
assert_rc "$rc" 0 "btrim, coalesce, ' <' || email || '>', CASE and length are answered ($(show "$(cat "$T/whole.err")" 200))"
assert_eq "$(wc -l <"$T/whole.out")" "1013" "all 1013 rows"
assert_eq "$(sed -n 1p "$T/whole.out" | cut -d'|' -f1-4)" "1|****|****0100|Alice Martin <****>" \
  "the values kept whole arrive masked (the phone's last four digits, partial style)"
no_secrets "$T/whole.out" "reads keeping values whole"
as_alice -At -c "select string_agg(email, ', ' order by id), count(distinct email), max(card)
  from customers where email like '%@example.%'" >"$T/agg.out" 2>&1; rc=$?
assert_rc "$rc" 0 "string_agg with ', ', count and max are answered"
assert_match "$(cat "$T/agg.out")" '^\*\*\*\*, \*\*\*\*, ' "string_agg's emails arrive masked, one by one"
no_secrets "$T/agg.out" "aggregates"
# a reshape a comparison reads answers a yes or a no, as LIKE does
out=$(as_alice -At -c "select count(*) from customers where split_part(email, '@', 2) like 'example.%'" 2>&1); rc=$?
assert_rc "$rc" 0 "a WHERE comparing split_part(email, '@', 2) is answered ($(show "$out" 200))"
assert_match "$out" '^[1-9][0-9]*$' "and counts the rows"

# ---------------------------------------------------------------- letters' case
# Detectors know tokens by their case (AKIA..., ghp_..., the custom EMP-[0-9]{6}):
# bob's lower(notes) carries them, case aside; alice's is refused.
as_bob -At -c "select lower(notes) from customers order by id" >"$T/loose_lower.out" 2>&1 || fail "loose: lower(notes) failed"
n=$(grep -aoiF -f "$T/secrets.txt" "$T/loose_lower.out" | sort -u | wc -l)
((n > 100)) && ok "transforms: allow: lower(notes) carries $n seeded values, case aside" \
  || fail "transforms: allow: lower(notes) carries only $n seeded values, case aside (the contrast this test rests on)"
as_bob -At -c "select notes from customers order by id" >"$T/loose_notes.out" 2>&1
assert_eq "$(grep -aoiF -f "$T/secrets.txt" "$T/loose_notes.out" | sort -u | wc -l)" "0" "while bob's notes as they are carry none"
refused "re-cased" "select lower(notes) from customers" "lower()" notes
out=$(as_alice -At -c "select count(*) from customers where lower(email) like '%@example.%'" 2>&1); rc=$?
assert_rc "$rc" 0 "lower in a comparison is answered ($(show "$out" 100))"

# ---------------------------------------------------------------- client_encoding
# The detectors read UTF-8. In LATIN1 the seeded zoë@müller-bäckerei.de reaches
# the client as bytes no detector reads as letters (the dba's read shows them),
# so a masked request is refused while the session is in another encoding, and
# so is a statement that would switch to one before its rows leave.
UNOTE="select notes from customers where notes like 'Unicode note:%' order by id limit 1"
PGCLIENTENCODING=LATIN1 as_dana -At -c "$UNOTE" >"$T/dba_latin1.out" 2>&1
assert_contains "$(cat "$T/dba_latin1.out")" $'zo\xeb@m\xfcller-b\xe4ckerei.de' \
  "the dba's LATIN1 read carries the address in LATIN1 bytes (what a masked reader would get)"
for who in alice bob; do
  out=$(PGCLIENTENCODING=LATIN1 "as_$who" -At -c "$UNOTE" 2>&1); rc=$?
  assert_nonzero "$rc" "$who: a masked read in LATIN1 is refused"
  assert_contains "$out" "client_encoding is LATIN1" "$who: the refusal names the encoding"
  assert_not_contains "$out" $'m\xfcller' "$who: and carries no LATIN1 text"
done
out=$(as_alice -At -c "set client_encoding = 'LATIN1'; $UNOTE" 2>&1); rc=$?
assert_nonzero "$rc" "SET client_encoding = 'LATIN1' before a read in one message is refused"
assert_contains "$out" "may send rows in another encoding" "and says why"
out=$(as_bob -At -c "copy (select notes from customers where notes like 'Unicode note:%') to stdout with (encoding 'LATIN1')" 2>&1); rc=$?
assert_nonzero "$rc" "COPY ... WITH (ENCODING 'LATIN1') is refused"
assert_not_contains "$out" $'m\xfcller' "and sends nothing in LATIN1"
out=$(as_alice -At -c "select set_config('client_encoding', 'LATIN1', false), notes from customers where notes like 'Unicode note:%'" 2>&1); rc=$?
assert_nonzero "$rc" "set_config('client_encoding', 'LATIN1') in the reading statement is refused"
assert_not_contains "$out" $'m\xfcller' "and nothing in LATIN1 reaches alice"
out=$(as_alice -At -c "$UNOTE" 2>&1); rc=$?
assert_rc "$rc" 0 "in UTF8 the read is answered"
assert_not_contains "$out" "müller-bäckerei" "with the address masked"

# ---------------------------------------------------------------- bytes in hex
# A cast to bytea keeps a value whole: PostgreSQL writes it in hex wherever it
# goes (a cast back to text, an array, a record, JSON, COPY), and the mask
# stage decodes the hex, masks it, and writes it back. The dba's read of the
# same statement decodes to the seeded values (what the hex would carry).
HEXED="select email::bytea::text, array[notes::bytea], to_json(notes::bytea), row(ssn::bytea),
  card::bytea::text, notes::bytea::text::bytea::text from customers order by id"
unhex() { perl -pe 'for my $i (1 .. 3) { s/\\[xX]((?:[0-9a-fA-F]{2})+)/pack("H*", $1)/ge }'; }
as_dana -At -c "$HEXED" >"$T/dba_hex.out" 2>&1 || fail "the dba's hex read failed: $(show "$(cat "$T/dba_hex.out")" 200)"
n=$(unhex <"$T/dba_hex.out" | grep -aoF -f "$T/secrets.txt" | sort -u | wc -l)
((n > 100)) && ok "the dba's hex read decodes to $n seeded values" || fail "the dba's hex read decodes to only $n seeded values"
for who in alice bob; do
  "as_$who" -At -c "$HEXED" >"$T/${who}_hex.out" 2>&1; rc=$?
  assert_rc "$rc" 0 "$who: casts to bytea are answered ($(show "$(cat "$T/${who}_hex.out")" 200))"
  assert_eq "$(wc -l <"$T/${who}_hex.out")" "1013" "$who: all 1013 rows"
  unhex <"$T/${who}_hex.out" >"$T/${who}_hex.txt"
  no_secrets "$T/${who}_hex.txt" "$who: the hex decoded"
  assert_contains "$(sed -n 1p "$T/${who}_hex.txt")" "****" "$who: the decoded values are masked"
done
as_alice -At -c "copy (select email::bytea, email::bytea::text, notes::bytea from customers) to stdout with csv" \
  >"$T/hex_csv.out" 2>&1; rc=$?
assert_rc "$rc" 0 "COPY of bytea, CSV"
assert_eq "$(wc -l <"$T/hex_csv.out")" "1013" "COPY CSV: all 1013 rows"
unhex <"$T/hex_csv.out" >"$T/hex_csv.txt"
no_secrets "$T/hex_csv.txt" "COPY CSV of bytea, decoded"
refused "an XML element (a bytea in base64)" "select xmlelement(name n, notes::bytea) from customers" "xmlelement()" notes

# bytea_output = escape writes what is no printable ASCII as \ooo, in text and in
# arrays, records, JSON and COPY around it (each backslash doubled again there):
# zo\303\253@m\303\274ller-b… is no address to a detector, so the mask stage decodes
# such runs too. The dba's read decodes to the seeded values, the internationalised
# address among them.
ESCAPED="select notes::bytea::text, array[email::bytea], to_json(notes::bytea), row(email::bytea),
  email::bytea from customers order by id"
unescape() { perl -pe 'for my $i (1 .. 3) { s/\\(\\|[0-3][0-7]{2})/$1 eq "\\" ? "\\" : chr(oct($1))/ge }'; }
as_dana -At -c "set bytea_output = escape" -c "$ESCAPED" >"$T/dba_esc.out" 2>&1 \
  || fail "the dba's escape read failed: $(show "$(cat "$T/dba_esc.out")" 200)"
unescape <"$T/dba_esc.out" >"$T/dba_esc.txt"
assert_contains "$(cat "$T/dba_esc.txt")" "zoë@müller-bäckerei.de" "the dba's escape read decodes to the internationalised address"
assert_contains "$(cat "$T/dba_esc.out")" 'zo\303\253@m\303\274ller-b\303\244ckerei.de' "... which it sent as octal escapes"
for who in alice bob; do
  "as_$who" -At -c "set bytea_output = escape" -c "$ESCAPED" >"$T/${who}_esc.out" 2>&1; rc=$?
  assert_rc "$rc" 0 "$who: bytea in escape form is answered ($(show "$(cat "$T/${who}_esc.out")" 200))"
  assert_eq "$(grep -c . "$T/${who}_esc.out")" "1013" "$who: all 1013 rows"
  unescape <"$T/${who}_esc.out" >"$T/${who}_esc.txt"
  no_secrets "$T/${who}_esc.txt" "$who: bytea's escape form, decoded"
done
as_alice -At -c "set bytea_output = escape" -c "copy (select notes::bytea::text, notes::bytea from customers) to stdout" \
  >"$T/esc_copy.out" 2>&1; rc=$?
assert_rc "$rc" 0 "COPY of bytea in escape form"
unescape <"$T/esc_copy.out" >"$T/esc_copy.txt"
no_secrets "$T/esc_copy.txt" "COPY of bytea in escape form, decoded"

# ---------------------------------------------------------------- a large object's bytes
# A document an application stored as a large object (here every note, one a line)
# reaches a masked identity as bytea's hex, which the mask stage reads; encoded or
# cut (lo_get's offset and length, loread) it is no longer what a detector knows:
# bob's base64 of it decodes to the seeded values, alice's is refused, also where
# the statement reads the catalog's list of large objects only.
pg_direct -d app -At -c "select lo_from_bytea(424242, convert_to(string_agg(notes, E'\n' order by id), 'UTF8'))
  from customers" >/dev/null && pg_direct -d app -c "grant select on large object 424242 to app_scram" >/dev/null \
  || die "could not store the notes as a large object"
LO_B64="select encode(lo_get(424242), 'base64')"
as_bob -At -c "$LO_B64" >"$T/lo_b64.out" 2>&1 || fail "loose: the large object's base64 read failed"
n=$(decode base64 <"$T/lo_b64.out" | grep -aoF -f "$T/secrets.txt" | sort -u | wc -l)
((n > 100)) && ok "transforms: allow: a large object's base64 carries $n seeded values" \
  || fail "transforms: allow: a large object's base64 decoded to only $n seeded values (the contrast)"
lo_refused() { # LABEL QUERY WHAT-RESHAPES FUNCTION
  local rc
  as_alice -At -c "$2" >"$T/refused.out" 2>&1; rc=$?
  assert_nonzero "$rc" "$1: refused"
  assert_contains "$(cat "$T/refused.out")" "reshapes what $4 returns with $3" "$1: the refusal names $4 and $3"
  no_secrets "$T/refused.out" "$1"
}
lo_refused "a large object in base64" "$LO_B64" "encode()" "lo_get()"
lo_refused "a large object's oids from the catalog" \
  "select encode(lo_get(oid), 'base64') from pg_largeobject_metadata" "encode()" "lo_get()"
lo_refused "a piece of a large object" "select lo_get(424242, 20, 30)" "its offset and length" "lo_get()"
lo_refused "loread" "select loread(lo_open(424242, 262144), 100000)" "its offset and length" "loread()"
for who in alice bob; do
  "as_$who" -At -c "select lo_get(424242)" >"$T/${who}_lo.out" 2>&1; rc=$?
  assert_rc "$rc" 0 "$who: a large object as it is is answered ($(show "$(cat "$T/${who}_lo.out")" 200))"
  unhex <"$T/${who}_lo.out" >"$T/${who}_lo.txt"
  no_secrets "$T/${who}_lo.txt" "$who: the large object's hex decoded"
  assert_eq "$(grep -c 'Customer wrote from \*\*\*\* about invoice 7781' "$T/${who}_lo.txt")" "1" \
    "$who: the large object decodes to the notes, masked"
done
as_dana -At -c "select lo_get(424242)" | unhex >"$T/dana_lo.txt"
n=$(grep -aoF -f "$T/secrets.txt" "$T/dana_lo.txt" | sort -u | wc -l)
((n > 100)) && ok "the dba's large object decodes to $n seeded values" || fail "the dba's large object decodes to $n"

# ---------------------------------------------------------------- a column's digits as a number
# A card read as a number is still a card (masked); computed on, or written as a
# float, it is not: bob's card::bigint * 3, divided back, gives the seeded cards.
pg_direct -d app -At -c "select value from t94.expect where det = 'credit_card' and kind = 'secret'
  and value ~ '^[0-9]+$'" >"$T/cards.txt"
TIMES3="select card::bigint * 3 from customers where card ~ '^[0-9]{13,19}$' order by id"
as_bob -At -c "$TIMES3" >"$T/loose_times3.out" 2>&1 || fail "loose: card * 3 failed: $(show "$(cat "$T/loose_times3.out")" 200)"
"$PY" -c 'import sys; [print(int(l) // 3) for l in sys.stdin if l.strip()]' <"$T/loose_times3.out" >"$T/loose_times3.txt"
n=$(grep -xF -f "$T/cards.txt" "$T/loose_times3.txt" | sort -u | wc -l)
((n > 10)) && ok "transforms: allow: card::bigint * 3, divided by 3, gives $n seeded cards" \
  || fail "transforms: allow: card::bigint * 3 gave only $n seeded cards (the contrast this test rests on)"
refused "a number computed on" "$TIMES3" "a cast to int8 computed on" card
refused "a float's exponent" "select card::float8 from customers" "a cast to float8" card
refused "a scale" "select round(card::numeric, 2) from customers" "a cast to numeric computed on" card
refused "an array's element, as a float" "select (array[card])[1]::float8 from customers" "a cast to float8" card
refused "a scalar subquery's number computed on" "select (select card from customers where card ~ '^[0-9]+$'
  limit 1)::bigint * 3" "a cast to int8 computed on" card
refused "a JSON element read back, computed on" \
  "select (jsonb_build_array(card)->>0)::bigint * 3 from customers where card ~ '^[0-9]+$'" "a cast to int8 computed on" card
refused "a number's format" "select to_char(card::bigint, '9G9G9G9G9G9G9G9G9G9G9G9G9G9G9G9') from customers" \
  "to_char()" card
as_alice -At -c "select card::bigint from customers where card ~ '^[0-9]{13,19}$' order by id" >"$T/bigint.out" 2>&1; rc=$?
assert_rc "$rc" 0 "a card read as a number alone is answered ($(show "$(cat "$T/bigint.out")" 100))"
n=$(grep -xF -f "$T/cards.txt" "$T/bigint.out" | wc -l)
assert_eq "$n" 0 "no seeded card among the numbers"
n=$(grep -c '^$' "$T/bigint.out")
((n > 10)) && ok "the cards among them are NULL ($n; a number cannot hold ****)" || fail "only $n NULLs among the numbers"

# A column the catalog says holds numbers is a number already: rounding it, summing
# it as numeric, writing it as a float or formatting it is answered (what agents do
# with amounts). A text column of digits under the same name in another table, or a
# name a subquery gives, is refused. The table is created after warden read the
# catalog: it reads it again for a relation it does not list.
pg_direct -d app -c "create table public.invoices (id int, amount numeric(12, 3), fx float8, note text);
  insert into public.invoices select g, g * 1.2345, g / 7.0, '4111111111111111' from generate_series(1, 50) g;
  create table public.refunds (id int, amount text);
  insert into public.refunds values (1, '4111111111111111');
  grant select on public.invoices, public.refunds to app_scram" >/dev/null || die "could not create invoices"
as_alice -At -F '|' -c "select id, round(amount::numeric, 2), fx::numeric(8, 3), to_char(amount, 'FM9990.00'),
  sum(amount::float8) over () from invoices order by id" >"$T/amounts.out" 2>&1; rc=$?
assert_rc "$rc" 0 "a number column rounded, cast and formatted is answered ($(show "$(cat "$T/amounts.out")" 200))"
assert_eq "$(sed -n 2p "$T/amounts.out" | cut -d'|' -f1-4)" "2|2.47|0.286|2.47" "... with the numbers PostgreSQL computes"
refused "a text column's digits, rounded" "select round(note::numeric, 2) from invoices" "a cast to numeric computed on" note
refused "a number's name given to text by a subquery" \
  "select round(s.amount::numeric, 2) from invoices i, (select note as amount from invoices) s" \
  "a cast to numeric computed on" s.amount
as_alice -At -F '|' -c "with m as (select id % 5 as k, sum(amount::numeric) as s from invoices group by 1)
  select k, round(s, 2) from m order by k" >"$T/cte_amounts.out" 2>&1; rc=$?
assert_rc "$rc" 0 "a CTE summing a number column is answered ($(show "$(cat "$T/cte_amounts.out")" 200))"
assert_eq "$(sed -n 1p "$T/cte_amounts.out")" "0|339.49" "... with PostgreSQL's sums"
refused "a CTE naming a text column as a number column" \
  "with t as (select note as amount from invoices) select round(amount::numeric, 2) from t" \
  "a cast to numeric computed on" amount
# a temporary table hides invoices in every schema (pg_temp comes first), and its column
# may be text: after DDL in the session the cast is refused again
out=$(as_alice -At -c "create temp table invoices (id int, amount text)" \
  -c "insert into invoices select id, card from customers where card ~ '^[0-9]{16}$'" \
  -c "select round(amount::numeric * 3) from invoices" 2>&1); rc=$?
assert_nonzero "$rc" "a temporary table's text under a number column's name: refused"
assert_contains "$out" 'reshapes column "amount" with a cast to numeric computed on' "... naming the column"
no_secrets <(printf '%s\n' "$out") "a temporary table's text under a number column's name"
refused "another table's text column of a number's name" \
  "select round(r.amount::numeric, 2) from invoices i join refunds r using (id)" "a cast to numeric computed on" r.amount

# ---------------------------------------------------------------- a JSON error quotes a piece
# ssn::jsonb fails, and its DETAIL and CONTEXT quote the SSN up to where it broke
# off ("219-09"): no detector knows a piece, so under transforms: refuse a data
# exception's DETAIL and CONTEXT are masked whole.
PIECE="select ssn::jsonb from customers where ssn ~ '^[0-9]{3}-[0-9]{2}' order by id limit 1"
out=$(as_bob -c "$PIECE" 2>&1)
assert_match "$out" 'CONTEXT:  JSON data, line 1: [0-9]{3}-[0-9]{2}' "transforms: allow: a JSON error quotes the SSN's first digits"
out=$(as_alice -c "$PIECE" 2>&1); rc=$?
assert_nonzero "$rc" "transforms: refuse: the JSON error still comes"
assert_contains "$out" "invalid input syntax for type json" "with its message"
assert_contains "$out" "DETAIL:  (masked by warden: it may quote a piece of a value)" "its DETAIL masked"
assert_not_contains "$out" "JSON data, line 1" "its CONTEXT masked"

# ---------------------------------------------------------------- psycopg: the extended protocol
# Parse/Bind/Execute with a parameter: the refusal comes at Parse, as 42501, and the session goes on
cat >"$T/t94c.py" <<'PY'
import sys
import psycopg
port, key = int(sys.argv[1]), sys.argv[2]
with psycopg.connect(host="127.0.0.1", port=port, dbname="appdb", user="alice", password=key,
                     application_name="t94c-psycopg", sslmode="require", connect_timeout=20) as conn:
    cur = conn.cursor()
    try:
        cur.execute("select encode(convert_to(notes, 'UTF8'), 'base64') from customers where id = %s", (1,))
        print("NOT REFUSED", cur.fetchall())
    except psycopg.errors.InsufficientPrivilege as e:
        print("REFUSED", str(e).splitlines()[0])
        conn.rollback()
    cur.execute("select btrim(email), name || ' <' || email || '>' from customers where id = %s", (1,), binary=True)
    print("AFTER", cur.fetchall())
PY
out=$(PGPASSWORD= timeout $((60 * WAIT_SCALE)) "$PY" "$T/t94c.py" "$WD_PORT" "$KEY_ALICE" 2>&1)
assert_contains "$out" 'REFUSED warden masks what its detectors recognise' "psycopg: a reshaping read with a parameter is refused at Parse ($(show "$out" 300))"
assert_contains "$out" "reshapes column \"notes\" with convert_to()" "psycopg: the refusal names the column"
assert_contains "$out" "AFTER [('****', 'Alice Martin <****>')]" "psycopg: the session goes on, binary results masked"
printf '%s\n' "$out" >"$T/py.out"
no_secrets "$T/py.out" "psycopg"

# ---------------------------------------------------------------- the catalog's description of the schema
out=$(as_alice -c '\d+ customers' 2>&1); rc=$?
assert_rc "$rc" 0 "psql \\d+ customers ($(show "$out" 200))"
assert_contains "$out" "character varying(120)" "\\d+ shows the columns' types"
out=$(as_alice -c '\dt' 2>&1); rc=$?
assert_rc "$rc" 0 "psql \\dt"
out=$(as_alice -At -c "select left(query, 30) from pg_stat_activity" 2>&1); rc=$?
assert_nonzero "$rc" "pg_stat_activity's statements are no description: left(query, 30) is refused"
pg_dump -t customers -t accounts >"$T/dump.sql" 2>"$T/dump.err"; rc=$?
assert_rc "$rc" 0 "pg_dump of customers ($(show "$(cat "$T/dump.err")" 300))"
assert_contains "$(cat "$T/dump.sql")" "COPY public.customers" "pg_dump wrote the data"
no_secrets "$T/dump.sql" "pg_dump"

# ---------------------------------------------------------------- the dba
as_dana -At -c "$BASE64" >"$T/dba_b64.out" 2>&1; rc=$?
assert_rc "$rc" 0 "the dba's base64 read runs"
n=$(decode base64 <"$T/dba_b64.out" | grep -aoF -f "$T/secrets.txt" | sort -u | wc -l)
((n > 100)) && ok "the dba's read decodes to $n seeded values" || fail "the dba's read decodes to $n seeded values"

# ---------------------------------------------------------------- audit
wd_alive
audit_export
audit_expect '.kind == "request" and .user == "alice" and .decision == "deny" and .rule == "agents-strict" and (.statement | test("^select reverse\\(notes\\)"))' \
  "a refused reshaping read is audited with its rule"
audit_expect '.kind == "result" and .error_code == "42501"' "its result records 42501"
pg_direct -d app -c "drop schema t94 cascade" -c "drop table public.customers, public.accounts, public.invoices,
  public.refunds" -c "select lo_unlink(424242)" >/dev/null 2>&1
it_finish
