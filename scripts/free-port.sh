#!/usr/bin/env bash
# Print a free TCP port on 127.0.0.1 (the kernel picks it: bind to port 0).
exec /usr/bin/python3 - <<'PY'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
