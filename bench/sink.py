"""bench/sink.py: TCP throughput with the kernel's TCP.

  sink.py recv ADDR PORT SECONDS   accepts one connection, reads for
                                   SECONDS (after the first byte), prints
                                   "bytes <n> seconds <t> MB/s <r>"
  sink.py send ADDR PORT SECONDS   connects and sends as fast as it can
"""
import socket
import sys
import time

cmd, addr, port, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
if cmd == "recv":
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(1)
    print("listening", flush=True)
    c, _ = ls.accept()
    buf = bytearray(1 << 20)
    n = c.recv_into(buf)
    start, total = time.monotonic(), 0
    while True:
        k = c.recv_into(buf)
        if k == 0:
            break
        total += k
        if time.monotonic() - start >= secs:
            break
    t = time.monotonic() - start
    print("bytes %d seconds %.3f MB/s %.1f" % (total, t, total / t / 1e6), flush=True)
    c.close()
else:
    s = socket.create_connection((addr, port))
    data = memoryview(bytearray(1 << 20))
    end = time.monotonic() + secs + 1
    try:
        while time.monotonic() < end:
            s.sendall(data)
    except OSError:
        pass
