# bench/lib.sh — what the bench scripts share; sourced from the repository's root
# after they set RESULTS (the results file say() appends to).

PY=/usr/bin/python3
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
export PATH="$PGBIN:$PATH"

say() { echo "$*" | tee -a "$RESULTS"; }

wait_port() { # port seconds: 0 once something accepts on 127.0.0.1:port
  "$PY" - "$1" "$2" <<'PY'
import socket, sys, time
end = time.time() + float(sys.argv[2])
while time.time() < end:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close(); sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
PY
}
