#!/usr/bin/env bash
# Masking on the wire, where the protocol itself is the attack: a masked
# identity that gets warden's count of requests wrong (a Query after failed
# extended messages with no Sync, Syncs the target ignores while it copies
# in) never gets rows unmasked: the Query is refused and the session ends,
# the COPY's ignored Syncs are counted as the target counts them (libpq's
# extended COPY FROM STDIN too) and the rows after it are masked; a Describe
# of another statement between a portal's Describe and its Execute does not
# change how its rows are masked (column rules, binary numbers); a Parse or
# Bind the target fails, a portal it dropped, a name DEALLOCATEd, a Parse's
# statement run by SQL EXECUTE, a SQL cursor run by Execute, or a cursor named
# as warden's denied stand-in do not make warden decide (or mask) by a text
# the target does not run; COPY TO
# STDOUT in CSV with ESCAPE '\', and a COPY inside a multi-statement Query,
# are masked field by field. Nothing seeded reaches the client or the audit.
source "$(dirname "$0")/lib.sh"
it_init

pg_direct -d app -f "$IT_ROOT/mask_seed.sql" >/dev/null || die "could not seed the customers table"
pg_direct -d app -At -c "select distinct value from t94.expect where kind = 'secret' and length(value) >= 6
  order by 1" >"$T/secrets.txt"
N_SECRETS=$(wc -l <"$T/secrets.txt")
((N_SECRETS > 10000)) || die "seed: only $N_SECRETS sensitive values"
pg_direct -d app -c "create table public.inbox (line text); grant all on public.inbox to app_scram" >/dev/null

WD_AUDIT_EXTRA="capture_results: masked
  max_result_bytes: 1MiB"
WD_EXTRA="masking:
  profiles:
    - name: pii
      detectors: [email, phone, credit_card, iban, us_ssn, ipv4, jwt, aws_access_key, azure_storage_key, private_key,
                  password_in_url, bearer_token, aws_secret_key, github_token, slack_token, stripe_key, google_api_key,
                  openai_key, anthropic_key, basic_auth, password_in_text]
      custom: [{ name: employee_id, pattern: \"EMP-[0-9]{6}\" }]
      columns: [\"public.customers.ssn\", \"*.password*\", \"*.api_key\"]
      json_keys: [\"secret*\", \"token\"]
policy:
  default: deny
  rules:
    - { name: everyone-masked, match: {}, action: allow, mask: pii }"
wd_new "$(conn appdb)"
wd_start
wd_env require

found_in() { grep -aoF -f "$T/secrets.txt" "$1" 2>/dev/null | sort -u; }
no_secrets() { # FILE WHAT
  local leaks
  if [[ ! -s "$1" ]]; then fail "$2: nothing was received"; return; fi
  leaks=$(found_in "$1")
  if [[ -z "$leaks" ]]; then ok "$2: no seeded value in what the client received"
  else fail "$2: $(wc -l <<<"$leaks") seeded value(s) reached the client, e.g. [$(head -5 <<<"$leaks" | paste -sd '|')]"; fi
}

# One python script, one JSON line per case; what each case received goes to $T/<case>.bin.
"$PY" - "$WD_PORT" "$KEY_ALICE" "$T" >"$T/wire.jsonl" 2>"$T/wire.err" <<'PY'
import json, os, struct, sys
sys.path.insert(0, os.environ["IT_ROOT"])
import pgwire as w
port, key, t = int(sys.argv[1]), sys.argv[2], sys.argv[3]

def cstr(x): return x.encode() + b"\0"
def Q(sql): return w.msg("Q", cstr(sql))
def P(sql, name=""): return w.msg("P", cstr(name) + cstr(sql) + struct.pack("!h", 0))
def B(portal="", stmt="", rfmts=()):
    return w.msg("B", cstr(portal) + cstr(stmt) + struct.pack("!hh", 0, 0) + struct.pack("!h", len(rfmts)) +
                 b"".join(struct.pack("!h", f) for f in rfmts))
def D(kind, name=""): return w.msg("D", kind.encode() + cstr(name))
def E(portal=""): return w.msg("E", cstr(portal) + struct.pack("!i", 0))
S = w.msg("S")

class Case:
    def __init__(self, name):
        self.name, self.raw, self.msgs, self.closed = name, b"", [], None
        self.s, r = w.login(port, "alice", "appdb", key)
        assert r["ok"], r
    def read(self, until="Z", n=1):
        got = 0
        try:
            while got < n:
                typ, body = w.read_msg(self.s)
                self.msgs.append((typ, body))
                self.raw += body + b"\n"
                if typ == until:
                    got += 1
        except (w.Closed, OSError) as e:
            self.closed = str(e)
    def types(self): return "".join(m[0] for m in self.msgs)
    def errors(self): return [w.parse_fields(b) for typ, b in self.msgs if typ == "E"]
    def rows(self):
        out = []
        for typ, body in self.msgs:
            if typ != "D":
                continue
            (n,) = struct.unpack("!h", body[:2]); p, row = 2, []
            for _ in range(n):
                (l,) = struct.unpack("!i", body[p:p + 4]); p += 4
                row.append(None if l < 0 else body[p:p + l]); p += max(l, 0)
            out.append(row)
        return out
    def descs(self):
        """Each RowDescription's columns as name:format, and NoData as "-", in order."""
        out = []
        for typ, body in self.msgs:
            if typ == "n":
                out.append("-")
            if typ != "T":
                continue
            (n,) = struct.unpack("!h", body[:2]); p, cols = 2, []
            for _ in range(n):
                z = body.index(b"\0", p); name = body[p:z].decode(); p = z + 1 + 16
                (f,) = struct.unpack("!h", body[p:p + 2]); p += 2
                cols.append("%s:%d" % (name, f))
            out.append(",".join(cols))
        return out
    def done(self, **kw):
        open(os.path.join(t, self.name + ".bin"), "wb").write(self.raw)
        kw.update(case=self.name, types=self.types()[:200], closed=self.closed,
                  errors=[(e.get("C"), e.get("M", "")[:160]) for e in self.errors()])
        print(json.dumps(kw), flush=True)
        self.s.close()

SELECT = "select email, phone, card, ssn, notes, profile, api_key from customers"

# 1. a Query after a failed Parse, with no Sync between: the target would drop it unanswered
#    (warden's Sync goes ahead of it: it is answered, and every reply after stays paired)
c = Case("query_after_extended")
c.s.sendall(P("select 1/0 from no_such_table") + Q("select 1") + S + Q(SELECT))
c.read(n=3)
c.done(first=[r[0].decode() if r[0] else None for r in c.rows()[:1]])

# 1b. pgJDBC's autosave: BEGIN by Parse/Bind/Execute, SAVEPOINT by Query, no Sync between
c = Case("autosave")
c.s.sendall(P("BEGIN") + B() + E() + Q("SAVEPOINT PGJDBC_AUTOSAVE") + P(SELECT + " order by id limit 3") + B() + E() +
            S)
c.read(n=2)
c.s.sendall(P("BEGIN") + B() + E() + Q("select 'after a failed BEGIN'"))
c.read()
c.s.sendall(S + Q("rollback") + Q("select 'still here'"))
c.read(n=3)
c.done(last=[r[0].decode() if r[0] else None for r in c.rows()[-1:]])

# 1c. ... but not after an extended COPY FROM: the target, copying in, would ignore warden's Sync
c = Case("query_after_copy")
c.s.sendall(P("copy inbox from stdin") + B() + E() + Q(SELECT))
c.read()
c.done()

# 2. Syncs sent while the target copies in (COPY FROM STDIN by Query): no ReadyForQuery for them
c = Case("syncs_in_copy")
c.s.sendall(Q("copy inbox from stdin"))
c.read(until="G")
c.s.sendall(S * 5 + w.msg("d", b"a line\n") + w.msg("c"))
c.read()
c.s.sendall(Q(SELECT))
c.read()
c.s.sendall(Q("select count(*) from inbox"))
c.read()
c.done(last=[r[0].decode() if r[0] else None for r in c.rows()[-1:]])

# 3. libpq's extended COPY FROM STDIN: Sync before the data (ignored), another after CopyDone
c = Case("extended_copy_in")
c.s.sendall(P("copy inbox from stdin") + B() + D("P") + E() + S)
c.read(until="G")
c.s.sendall(w.msg("d", b"another line\n") + w.msg("c") + S)
c.read()
c.s.sendall(Q(SELECT) + Q("select 'aligned'"))
c.read(n=2)
c.done(last=[r[0].decode() if r[0] else None for r in c.rows()[-1:]])

# 4. the portal described, then another statement: its RowDescription is not the portal's
c = Case("describe_other")
c.s.sendall(P("select id, password, api_key from accounts", "s1") +
            P("select 1 as a, 'x'::text as b, 'y'::text as c", "s2") + S)
c.read()
c.s.sendall(B("p1", "s1") + D("P", "p1") + D("S", "s2") + E("p1") + S)
c.read()
c.s.sendall(P(SELECT.replace("select ", "select id, ", 1) + " order by id limit 50", "s3") +
            P("select 1 a, 2 b, 3 c, 4 d, 5 e, 6 f, 7 g, 8 h", "s4") + S)
c.read()
c.s.sendall(B("p3", "s3") + D("P", "p3") + D("S", "s4") + E("p3") + S)
c.read()
c.done(rows=len(c.rows()))

# 5. ... with binary results: a card read as a bigint is still a card
c = Case("describe_other_binary")
q = ("select regexp_replace(card, '[^0-9]', '', 'g')::bigint from customers "
     "where regexp_replace(card, '[^0-9]', '', 'g') ~ '^[0-9]{13,16}$'")
c.s.sendall(P(q, "n1") + P("select 'x'::text as t", "n2") + S)
c.read()
c.s.sendall(B("pn", "n1", rfmts=(1,)) + D("P", "pn") + D("S", "n2") + E("pn") + S)
c.read()
nums = [str(struct.unpack("!q", r[0])[0]) for r in c.rows() if r[0] is not None and len(r[0]) == 8]
open(os.path.join(t, "binary_numbers.txt"), "w").write("\n".join(nums) + "\n")
c.done(rows=len(c.rows()), numbers=len(nums), descs=c.descs(), order=c.types()[3:7])

# 5a. Describes of a statement and of the portal before a masked Execute: each answered in order
c = Case("describe_order")
c.s.sendall(P("select ssn, 1 as n from customers order by id limit 3", "o1") + P("select 'x'::text as t", "o2") +
            P("insert into inbox values ('a')", "o3") + S)
c.read()
c.s.sendall(B("po", "o1", rfmts=(1, 0)) + D("S", "o2") + D("S", "o3") + D("P", "po") + D("S", "o1") + E("po") +
            D("S", "o2") + S)
c.read()
c.done(rows=len(c.rows()), descs=c.descs(), order=c.types()[4:])

# 5aa. a Describe answered before its unit's Execute is sent (Flush: asyncpg's way), then the Execute
H = w.msg("H")
c = Case("describe_flushed")
c.s.sendall(P("select id, email, ssn from customers order by id limit 2", "f1") + D("S", "f1") + H)
c.read(until="T")
c.s.sendall(B("pf", "f1") + H)
c.read(until="2")
c.s.sendall(D("P", "pf") + H)
c.read(until="T")
c.s.sendall(E("pf") + S)
c.read()
c.s.sendall(B("pg", "f1") + E("pg") + S)
c.read()
c.done(rows=len(c.rows()), order=c.types(), descs=c.descs())

# 5ab. an error between the client's Describe and the Execute: the client's description arrives
c = Case("describe_then_error")
c.s.sendall(P("select id, email from customers order by id limit 2", "e1") + B("pe", "e1") + D("P", "pe") +
            P("select * from no_such_table") + E("pe") + S + Q("select 'still here'"))
c.read(n=2)
c.done(last=[r[0].decode() if r[0] else None for r in c.rows()[-1:]])

# 2b. two COPYs of one Query, a Sync before the first one's data (ignored)
c = Case("two_copies")
c.s.sendall(Q("copy inbox from stdin; copy inbox from stdin"))
c.read(until="G")
c.s.sendall(S + w.msg("d", b"one\n") + w.msg("c"))
c.read(until="G")
c.s.sendall(w.msg("d", b"two\n") + w.msg("c"))
c.read()
c.s.sendall(Q(SELECT) + Q("select 'aligned'"))
c.read(n=2)
c.done(last=[r[0].decode() if r[0] else None for r in c.rows()[-1:]])

# 2c. a Sync between CopyData messages: whether the target ignores it depends on where the COPY fails
c = Case("sync_in_data")
c.s.sendall(Q("copy inbox from stdin"))
c.read(until="G")
c.s.sendall(w.msg("d", b"a\tb\n") + S + w.msg("c") + Q(SELECT))
c.read(n=3)
c.done()

# 5b. a Parse the target refuses (a name taken) does not change what the name runs
EVIL = "select password || '' as pw, api_key || '' as k from accounts"
c = Case("parse_refused")
c.s.sendall(P(EVIL, "s1") + S)
c.read()
c.s.sendall(P("select 1", "s1") + S + B("", "s1") + E("") + S)
c.read(n=2)
c.done()

# 5c. ... nor does one the target drops after an error earlier in its unit (pipelined)
c = Case("parse_dropped")
c.s.sendall(P(EVIL) + S + P("selec garbage", "x") + P("select 1") + S + B() + E() + S)
c.read(n=3)
c.done()

# 5d. SQL EXECUTE of a statement a protocol Parse made: its text is not the policy's
GOOD = "select 1 as a, 2 as b"
c = Case("execute_parsed")
c.s.sendall(P(EVIL, "s9") + S)
c.read()
c.s.sendall(Q("execute s9"))
c.read()
c.done()

# 5c2. a Parse the target refuses (the name taken), then, pipelined, Close and Parse of the name:
#      the name holds the later Parse's text (undoing the first must not put back what it found)
def Cl(kind, name): return w.msg("C", kind.encode() + cstr(name))
c = Case("parse_refused_reparsed")
c.s.sendall(P(GOOD, "x1") + S)
c.read()
c.s.sendall(P("select 2", "x1") + S + Cl("S", "x1") + P(EVIL, "x1") + S + B("", "x1") + E() + S)
c.read(n=3)
c.done()

# 5e. a portal the target dropped at its transaction's end, bound again to another statement
c = Case("portal_rebound")
c.s.sendall(P(GOOD, "good") + B("p1", "good") + S)
c.read()
c.s.sendall(P(EVIL, "evil") + B("p1", "evil") + E("p1") + S)
c.read()
c.done()

# 5f. a statement name DEALLOCATEd in SQL, then Parsed again
c = Case("deallocated")
c.s.sendall(P(GOOD, "s7") + S)
c.read()
c.s.sendall(Q("deallocate s7"))
c.read()
c.s.sendall(P(EVIL, "s7") + B("", "s7") + E("") + S)
c.read()
c.done()

# 5g. a DISCARD ALL or DEALLOCATE ALL the target fails frees nothing; one that runs frees the name
c = Case("discard_failed")
c.s.sendall(P(GOOD, "n1") + S)
c.read()
c.s.sendall(Q("begin") + Q("discard all") + Q("rollback") + B("", "n1") + E() + S)
c.read(n=4)
c.s.sendall(Q("begin") + Q("select 1/0") + Q("deallocate all") + Q("rollback") + B("", "n1") + E() + S)
c.read(n=5)
c.s.sendall(Q("deallocate n1; select 'freed'") + B("", "n1") + E() + S + P(GOOD, "n1") + B("", "n1") + E() + S)
c.read(n=3)
c.done()

# 5h. thousands of names in one pipeline (warden looks each up, and each name's unanswered
#     changes, by name), then a unit the target fails: its Close and Parse are undone
c = Case("many_names")
c.s.sendall(b"".join(P("select %d" % i, "m%d" % i) + B("", "m%d" % i) + E() for i in range(3000)) + S)
c.read()
c.s.sendall(P("select 1/0 from no_such_table", "bad") + Cl("S", "m5") + P("select 'made'", "m6x") + S +
            B("", "m5") + E() + S + B("", "m6x") + E() + S + B("", "m2999") + E() + S)
c.read(n=4)
r = c.rows()
c.done(n_rows=len(r), first=r[0][0].decode(), last2=[x[0].decode() for x in r[-2:]])

# 6. an Execute of a cursor DECLAREd in SQL (a portal this session's Bind did not make)
c = Case("cursor_execute")
c.s.sendall(Q("declare c1 cursor with hold for " + SELECT))
c.read()
c.s.sendall(E("c1") + S)
c.read()
c.s.sendall(Q("select 'still here'"))
c.read()
c.done(last=[r[0].decode() if r[0] else None for r in c.rows()[-1:]],
       hints=[e.get("H", "")[:200] for e in c.errors()])

# 6b. a Bind of a statement PREPAREd in SQL, and of a name DISCARD ALL freed, mid-unit
c = Case("bind_unknown")
c.s.sendall(Q("prepare q1 as " + SELECT))
c.read()
c.s.sendall(P(GOOD, "g1") + S)
c.read()
c.s.sendall(Q("discard all"))
c.read()
c.s.sendall(P("select 'before'") + B() + E() + B("", "q1") + E() + S)
c.read()
c.s.sendall(B("", "g1") + E() + S + P(GOOD, "g1") + B("", "g1") + E() + S + Q("select 'still here'"))
c.read(n=3)
c.done(last=[r[0].decode() if r[0] else None for r in c.rows()[-1:]], rows=len(c.rows()))

# 7. a cursor named as warden's stand-in for a denied Execute
c = Case("denied_name")
c.s.sendall(Q("begin") + Q('declare "warden: statement denied by policy" cursor for select id, password, api_key '
                           'from accounts'))
c.read(n=2)
c.s.sendall(P("select password || '' from accounts") + B() + E() + S)
c.read()
c.s.sendall(Q("rollback") + Q("select 'still here'"))
c.read(n=2)
c.done(last=[r[0].decode() if r[0] else None for r in c.rows()[-1:]])
PY
rc=$?
# psycopg's prepared statements: its cache evicts with DEALLOCATE name, and a
# statement's text may say "prepared" or "discard" (the names stay warden's)
"$PY" - "$WD_PORT" "$KEY_ALICE" >"$T/psycopg_names.out" 2>&1 <<'PY2'
import sys, psycopg
port, key = int(sys.argv[1]), sys.argv[2]
c = psycopg.connect(host="127.0.0.1", port=port, dbname="appdb", user="alice", password=key,
                    sslmode="require", autocommit=True, prepare_threshold=0)
c.prepared_max = 2
A, B, C = ("select email from customers where id = %s", "select phone from customers where id = %s",
           "select notes from customers where id = %s")
LIT = "select 'prepared, deallocated, discarded' where %s = 1"
got = []
# A and B prepared; A again; C evicts B (DEALLOCATE); A, still prepared, again; a text saying
# "prepared" and "discarded"; A again
for text in (A, B, A, C, A, LIT, A, B, A):
    got.append(c.execute(text, (1,)).fetchone()[0])
print("rows", len(got), "masked", sum(1 for g in got if "****" in g))
PY2
assert_rc "$?" 0 "psycopg: prepared statements evicted by DEALLOCATE, texts saying prepare/discard ($(show "$(cat "$T/psycopg_names.out")" 300))"
assert_contains "$(cat "$T/psycopg_names.out")" "rows 9 masked 8" "psycopg: every query answered, masked"
assert_rc "$rc" 0 "the wire cases ran ($(show "$(cat "$T/wire.err")" 300))"
case_json() { grep "\"case\": \"$1\"" "$T/wire.jsonl"; }

j=$(case_json query_after_extended)
assert_contains "$j" '"types": "ETDCZZTDDD' "a Query after a failed extended message, no Sync between: answered, then the Sync, then the SELECT"
assert_contains "$j" '"first": ["1"]' "the Query's row is its own"
assert_contains "$j" '"closed": null' "and the session goes on"
no_secrets "$T/query_after_extended.bin" "a Query after extended messages without a Sync"
j=$(case_json query_after_copy)
assert_contains "$j" "needs a Sync before it" "a Query after an extended COPY FROM, no Sync between: 08P01, and why"
assert_contains "$j" '"closed": "connection closed' "and the session ends"
no_secrets "$T/query_after_copy.bin" "a Query after an extended COPY FROM"
j=$(case_json autosave)
assert_contains "$j" '"types": "12CCZ12DDDCZ' "pgJDBC's autosave (BEGIN by Execute, SAVEPOINT by Query): each answered once, in order"
assert_contains "$j" '"types": "12CCZ12DDDCZ12NCTDCZZCZTDCZ"' \
  "a second BEGIN (a warning) and a Query after it: answered as sent, the Sync after them too"
assert_contains "$j" '"last": ["still here"]' "and the session goes on"
no_secrets "$T/autosave.bin" "pgJDBC's autosave"

j=$(case_json syncs_in_copy)
assert_contains "$j" "\"closed\": null" "Syncs during COPY FROM STDIN: the session goes on"
assert_contains "$j" "\"last\": [\"1\"]" "and the query after the rows is answered as itself (the line copied in)"
no_secrets "$T/syncs_in_copy.bin" "Syncs during COPY FROM STDIN, then SELECT"

j=$(case_json two_copies)
assert_contains "$j" "\"last\": [\"aligned\"]" "two COPYs of one Query, a Sync before the first's data: replies stay paired"
no_secrets "$T/two_copies.bin" "two COPYs of one Query, then SELECT"
j=$(case_json sync_in_data)
assert_contains "$j" "only CopyData, CopyDone, CopyFail or Flush may follow CopyData" "a Sync between CopyData: 08P01"
assert_contains "$j" "\"closed\": \"connection closed" "and the session ends"
no_secrets "$T/sync_in_data.bin" "a Sync between CopyData"

j=$(case_json extended_copy_in)
assert_contains "$j" "\"closed\": null" "extended COPY FROM STDIN (Sync before the data): the session goes on"
assert_contains "$j" "\"last\": [\"aligned\"]" "and each reply after it is its own request's"
no_secrets "$T/extended_copy_in.bin" "extended COPY FROM STDIN, then SELECT"

j=$(case_json describe_other)
assert_contains "$j" "\"rows\": 53" "a statement's Describe between: the rows arrive (3 accounts, 50 customers)"
no_secrets "$T/describe_other.bin" "a Describe of another statement between Describe and Execute"
pw=$(pg_direct -d app -At -c "select password from accounts order by id limit 1")
assert_not_contains "$(tr -d '\0' <"$T/describe_other.bin")" "$pw" "column rules hold (accounts.password)"

j=$(case_json describe_other_binary)
rows=$(grep -o '"rows": [0-9]*' <<<"$j" | grep -o '[0-9]*$')
((rows > 100)) && ok "binary bigints after another Describe: $rows rows arrive" || fail "binary case: $rows rows ($j)"
leaks=$(grep -xF -f "$T/binary_numbers.txt" <(tr -d ' -' <"$T/secrets.txt") | sort -u)
if [[ -z "$leaks" ]]; then ok "no card arrived as a binary bigint ($(wc -l <"$T/binary_numbers.txt") numbers came through)"
else fail "$(wc -l <<<"$leaks") card(s) arrived as binary bigints, e.g. $(head -3 <<<"$leaks" | paste -sd ' ')"; fi

j=$(case_json describe_order)
assert_contains "$j" '"descs": ["t:0", "-", "ssn:1,n:0", "ssn:0,n:0", "t:0"]' \
  "the client's Describes before a masked Execute are answered in order, each with its own description"
assert_contains "$j" '"order": "2tTtnTtTDDDCtTZ"' "ParameterDescriptions and descriptions in the order described"
assert_contains "$(case_json describe_other_binary)" '"order": "2TtT"' \
  "the portal's Describe, then a statement's: the portal's description first"
assert_contains "$(case_json describe_other_binary)" '"descs": ["regexp_replace:1", "t:0"]' \
  "each with its own columns and formats"
no_secrets "$T/describe_order.bin" "Describes before a masked Execute"
j=$(case_json describe_then_error)
assert_contains "$j" '"types": "12TEZTDCZ"' "an error after the client's Describe: its description arrives, then the error"
j=$(case_json describe_flushed)
assert_contains "$j" '"order": "1tT2TDDCZ2DDCZ"' \
  "Describes answered before the Execute is sent (Flush): no description the client did not ask for"
assert_contains "$j" '"rows": 4' "and the rows arrive"
no_secrets "$T/describe_flushed.bin" "Describes answered before a masked Execute (Flush)"

for k in parse_refused parse_dropped parse_refused_reparsed execute_parsed portal_rebound deallocated; do
  j=$(case_json $k)
  assert_contains "$j" "42501" "$k: the Execute is decided as what the target runs (the password computed on: 42501)"
  no_secrets "$T/$k.bin" "$k"
done
pw=$(pg_direct -d app -At -c "select password from accounts order by id limit 1")
assert_not_contains "$(cat "$T"/parse_*.bin "$T"/execute_parsed.bin "$T"/portal_rebound.bin "$T"/deallocated.bin | tr -d '\0')" \
  "$pw" "no password in clear"
assert_contains "$(case_json execute_parsed)" "no PREPARE of this session made" "the EXECUTE's refusal says why"

j=$(case_json discard_failed)
assert_contains "$j" '"types": "1ZCZEZCZ2DCZCZEZEZCZ2DCZCTDCZEZ12DCZ"' \
  "DISCARD ALL, DEALLOCATE ALL failing in a transaction block keep the name; DEALLOCATE frees it until Parsed again"
assert_contains "$j" '["26000", "prepared statement \"n1\" does not exist"]' "the freed name: 26000"
j=$(case_json many_names)
assert_contains "$j" '"n_rows": 3002, "first": "0", "last2": ["5", "2999"]' \
  "3,000 statements pipelined in one unit all answered; after the failed unit m5 still binds and m2999 too"
assert_contains "$j" '["26000", "prepared statement \"m6x\" does not exist"]' "the failed unit's Parse is undone: 26000"
assert_contains "$j" '"42P01"' "the unit failed at the target"
j=$(case_json cursor_execute)
assert_contains "$j" '["34000", "portal \"c1\" does not exist"]' "an Execute of a SQL cursor: 34000, as for a portal never made"
assert_contains "$j" "read a cursor with FETCH" "and the hint says what to do instead"
assert_contains "$j" '"last": ["still here"]' "and the session goes on"
no_secrets "$T/cursor_execute.bin" "an Execute of a cursor DECLAREd in SQL"

j=$(case_json bind_unknown)
assert_contains "$j" '"errors": [["26000", "prepared statement \"q1\" does not exist"], ["26000", "prepared statement \"g1\" does not exist"]]' \
  "a Bind of a SQL PREPAREd statement, and of a name DISCARD ALL freed: 26000 each"
assert_contains "$j" '"types": "CZ1ZCZ12DCEZEZ12DCZTDCZ"' "the unit runs up to the Bind, then fails to its Sync; Parsed again, the name runs"
assert_contains "$j" '"last": ["still here"]' "and the session goes on"
no_secrets "$T/bind_unknown.bin" "a Bind of a statement PREPAREd in SQL"

j=$(case_json denied_name)
assert_contains "$j" "42501" "a denied Execute, with a cursor named as warden's stand-in: the policy's 42501"
assert_contains "$j" "\"last\": [\"still here\"]" "and the session goes on"
no_secrets "$T/denied_name.bin" "a cursor named as warden's stand-in for a denied Execute"

# COPY in CSV with ESCAPE '\' (a quote inside a field is \"), and COPY in a multi-statement Query
psql -X -q -c "copy customers to stdout with (format csv, escape '\\')" >"$T/csv_escape.out" 2>&1
assert_rc "$?" 0 "COPY ... (FORMAT csv, ESCAPE '\\') runs"
assert_contains "$(cat "$T/csv_escape.out")" '\"token\": \"****\"' "the documents' json_keys values masked, escaped as COPY escapes"
no_secrets "$T/csv_escape.out" "COPY customers TO STDOUT (FORMAT csv, ESCAPE '\\')"
psql -X -q -c "select 1; copy customers to stdout with (format csv); copy accounts to stdout" >"$T/multi.out" 2>&1
assert_rc "$?" 0 "a Query of SELECT and two COPYs runs"
assert_contains "$(cat "$T/multi.out")" '""token"": ""****""' "the CSV COPY's documents masked by key"
no_secrets "$T/multi.out" "COPY in a multi-statement Query (CSV, then text)"

# the audit holds no seeded value either (capture_results: masked)
audit_export
no_secrets "$AUDIT_FILE" "the audit store"
audit_expect '.kind == "request" and .decision == "deny" and .rule == "unknown-name" and
              (.statement | contains("Bind of statement \"q1\""))' "a Bind of a name warden does not hold, denied"
wd_alive
