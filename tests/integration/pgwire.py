"""Minimal raw PostgreSQL v3 wire client for the integration tests (bad input).

Only what the tests need: startup, GSSENC/SSL/Cancel requests, cleartext and md5
password answers, simple Query, and ErrorResponse parsing. No TLS.
"""
import hashlib
import socket
import struct

PROTO_V3 = 196608
SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102


class Closed(Exception):
    pass


def connect(port, host="127.0.0.1", timeout=10.0):
    s = socket.create_connection((host, port), timeout=timeout)
    s.settimeout(timeout)
    return s


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise Closed("connection closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def read_msg(s):
    """Returns (type char, payload bytes)."""
    hdr = recv_exact(s, 5)
    typ = chr(hdr[0])
    (length,) = struct.unpack("!i", hdr[1:5])
    if length < 4 or length > 64 * 1024 * 1024:
        raise ValueError("bad message length %d for %r" % (length, typ))
    return typ, recv_exact(s, length - 4)


def startup_packet(params, version=PROTO_V3):
    body = struct.pack("!i", version)
    for k, v in params.items():
        body += k.encode() + b"\0" + v.encode() + b"\0"
    body += b"\0"
    return struct.pack("!i", len(body) + 4) + body


def parse_fields(payload):
    """ErrorResponse / NoticeResponse fields -> dict (code letter -> text)."""
    out = {}
    for part in payload.split(b"\0"):
        if part:
            out[chr(part[0])] = part[1:].decode("utf-8", "replace")
    return out


def msg(typ, payload=b""):
    return typ.encode() + struct.pack("!i", len(payload) + 4) + payload


def password_message(s, payload, user, password):
    """Answer an AuthenticationRequest; returns False if the method is unsupported."""
    (code,) = struct.unpack("!i", payload[:4])
    if code == 0:
        return True
    if code == 3:  # cleartext
        s.sendall(msg("p", password.encode() + b"\0"))
        return True
    if code == 5:  # md5
        salt = payload[4:8]
        inner = hashlib.md5(password.encode() + user.encode()).hexdigest().encode()
        outer = b"md5" + hashlib.md5(inner + salt).hexdigest().encode()
        s.sendall(msg("p", outer + b"\0"))
        return True
    raise ValueError("unsupported authentication request code %d" % code)


def login(port, user, database, password, extra=None, sock=None):
    """Full startup. Returns (socket, result) where result is
    {"ok": True, "messages": [...]} after ReadyForQuery or
    {"ok": False, "error": {fields}} after an ErrorResponse, or
    {"ok": False, "closed": "..."} when the server hung up."""
    s = sock or connect(port)
    params = {"user": user, "database": database}
    params.update(extra or {})
    s.sendall(startup_packet(params))
    seen = []
    try:
        while True:
            typ, payload = read_msg(s)
            seen.append(typ)
            if typ == "R":
                password_message(s, payload, user, password)
            elif typ == "E":
                return s, {"ok": False, "error": parse_fields(payload), "seen": seen}
            elif typ == "Z":
                return s, {"ok": True, "seen": seen}
    except (Closed, OSError) as e:
        return s, {"ok": False, "closed": str(e), "seen": seen}


def simple_query(s, sql):
    """Returns (rows as lists of str/None, error fields or None)."""
    s.sendall(msg("Q", sql.encode() + b"\0"))
    rows, err = [], None
    while True:
        typ, payload = read_msg(s)
        if typ == "D":
            (n,) = struct.unpack("!h", payload[:2])
            pos, row = 2, []
            for _ in range(n):
                (ln,) = struct.unpack("!i", payload[pos:pos + 4])
                pos += 4
                if ln < 0:
                    row.append(None)
                else:
                    row.append(payload[pos:pos + ln].decode())
                    pos += ln
            rows.append(row)
        elif typ == "E":
            err = parse_fields(payload)
        elif typ == "Z":
            return rows, err


def read_until_error_or_close(s):
    """Read messages until an ErrorResponse (returns its fields) or EOF (None)."""
    try:
        while True:
            typ, payload = read_msg(s)
            if typ == "E":
                return parse_fields(payload)
    except (Closed, OSError, ValueError):
        return None
