"""The kernel's side of the live interop specs (spec/live_spec.lua).

  echo.py server ADDR PORT          a threaded echo server
  echo.py client ADDR PORT NBYTES   sends NBYTES, reads them back, prints
                                    "ok <bytes> <sha256>" or "bad ..."
  echo.py many ADDR PORT COUNT      COUNT short connections one after
                                    another, prints "ok <n>"
"""
import hashlib
import socket
import socketserver
import sys
import threading


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            data = self.request.recv(65536)
            if not data:
                break
            self.request.sendall(data)


def server(addr, port):
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    with socketserver.ThreadingTCPServer((addr, port), Echo) as s:
        s.serve_forever()


def client(addr, port, n):
    data = bytes((i * 7 + i // 251) & 0xFF for i in range(n))
    got = bytearray()
    s = socket.create_connection((addr, port), timeout=20)

    def reader():
        while len(got) < n:
            chunk = s.recv(65536)
            if not chunk:
                break
            got.extend(chunk)

    t = threading.Thread(target=reader)
    t.start()
    s.sendall(data)
    t.join(30)
    s.close()
    same = bytes(got) == data
    print("ok" if same else "bad", len(got), hashlib.sha256(got).hexdigest())


def many(addr, port, count):
    ok = 0
    for i in range(count):
        s = socket.create_connection((addr, port), timeout=10)
        msg = ("hello %d\n" % i).encode()
        s.sendall(msg)
        got = b""
        while len(got) < len(msg):
            chunk = s.recv(100)
            if not chunk:
                break
            got += chunk
        s.close()  # this side closes first: it holds the TIME-WAIT
        ok += got == msg
    print("ok", ok)


if __name__ == "__main__":
    cmd, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if cmd == "server":
        server(addr, port)
    elif cmd == "client":
        client(addr, port, int(sys.argv[4]))
    else:
        many(addr, port, int(sys.argv[4]))
