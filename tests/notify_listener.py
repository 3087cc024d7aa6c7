#!/usr/bin/env python3
"""notify_listener.py SOCKET OUT SECONDS — a stand-in for systemd's notify
socket: binds an AF_UNIX datagram socket at SOCKET and appends each
datagram to OUT as one JSON line {"pid": sender, "lines": [...]}, the
sender's pid taken from the kernel's credentials (as systemd does for
NotifyAccess=main). Exits after SECONDS, so that a test that dies leaves
nothing behind."""
import json
import os
import socket
import struct
import sys
import time

path, out, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(path)
os.chmod(path, 0o600)
end = time.monotonic() + seconds
with open(out, "a", encoding="utf-8") as f:
    f.write(json.dumps({"listening": os.getpid()}) + "\n")
    f.flush()
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(struct.calcsize("3i")))
        except socket.timeout:
            break
        pid = None
        for level, kind, payload in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = struct.unpack("3i", payload[: struct.calcsize("3i")])[0]
        lines = data.decode("utf-8", "replace").split("\n")
        f.write(json.dumps({"pid": pid, "lines": [l for l in lines if l]}) + "\n")
        f.flush()
