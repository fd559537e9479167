"""Opens N keep-alive connections to HOST:PORT, sends one GET on each, reads
each answer, then holds them all open for HOLD seconds and checks that every
one is still open. Prints "open N" when they are all connected and answered
(the shell then reads the server's memory), and "still N" at the end.

    python3 idle-clients.py HOST PORT N HOLD PATH
"""
import selectors
import socket
import sys
import time

host, port, n, hold, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
req = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: keep-alive\r\n\r\n".encode()
sel = selectors.DefaultSelector()
socks = []
pending = {}
for i in range(n):
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex((host, port))
    socks.append(s)
    pending[s] = b""
    sel.register(s, selectors.EVENT_WRITE)
    # Let the server accept in step: at most 500 connecting at a time.
    while len(pending) >= 500 or (i == n - 1 and pending):
        for key, ev in sel.select(timeout=5):
            s2 = key.fileobj
            if ev & selectors.EVENT_WRITE:
                s2.send(req)
                sel.modify(s2, selectors.EVENT_READ)
            else:
                data = s2.recv(65536)
                if not data:
                    sys.exit(f"connection closed before its answer ({len(socks)} open)")
                pending[s2] += data
                head, _, body = pending[s2].partition(b"\r\n\r\n")
                if _ and b"content-length:" in head.lower():
                    want = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                    if len(body) >= want:
                        sel.unregister(s2)
                        del pending[s2]
print(f"open {len(socks)}", flush=True)
time.sleep(hold)
alive = 0
for s in socks:
    try:
        alive += s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
    except BlockingIOError:
        alive += 1
    except OSError:
        pass
print(f"still {alive}", flush=True)
