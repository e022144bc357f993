#!/usr/bin/env python3
"""XenAPI latency under a hostile crowd: a client on 127.0.0.2 calls network.get_all (a fresh
TCP connection per call, as xe does) while 2,000 idle connections and 200 slowloris senders hold
the TCP port. Prints p50/p90/p99/max of the client's calls, with and without the crowd, and
hvnetd's threads and RSS. Loopback only. Usage: sudo bench/api-load.py [seconds]"""
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HVNETD = os.environ.get("HVNETD", os.path.join(os.path.dirname(__file__), "..", "build", "hvnetd"))


def post(port, body, src):
    with socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(src, 0)) as s:
        s.sendall(b"POST /jsonrpc HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n"
                  b"Connection: close\r\n\r\n" % len(body) + body)
        buf = b""
        while chunk := s.recv(65536):
            buf += chunk
    return json.loads(buf.partition(b"\r\n\r\n")[2])


def measure(port, session, seconds):
    body = json.dumps({"method": "network.get_all", "params": [session], "id": 1}).encode()
    lat, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = time.perf_counter()
        assert post(port, body, "127.0.0.2")["error"] is None
        lat.append((time.perf_counter() - t0) * 1000)
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
    return {"calls": len(lat), "p50_ms": round(q(0.5), 2), "p90_ms": round(q(0.9), 2),
            "p99_ms": round(q(0.99), 2), "max_ms": round(lat[-1], 2)}


def status(pid):
    f = dict(l.split(":", 1) for l in open(f"/proc/{pid}/status"))
    return int(f["Threads"]), int(f["VmRSS"].split()[0])


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 20
    h = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(h, 65536), h))
    work = tempfile.mkdtemp(prefix="hvnet-api-load-")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pw = os.path.join(work, "pw")
    with open(os.open(pw, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write("bench\n")
    proc = subprocess.Popen([HVNETD, "--db", os.path.join(work, "db"), "--api-socket",
                             os.path.join(work, "sock"), "--api-listen-tls", "", "--api-listen", f"127.0.0.1:{port}",
                             "--password-file", pw, "--pif-prefix", "hvload-none", "--ctl",
                             os.path.join(work, "ctl")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        sess = post(port, json.dumps({"method": "session.login_with_password",
                                      "params": ["root", "bench"], "id": 1}).encode(), "127.0.0.2")["result"]
        quiet = measure(port, sess, min(5, seconds))
        idle = []
        for i in range(2000):
            s = socket.socket()
            s.bind((f"127.0.1.{i % 4 + 1}", 0))
            s.connect(("127.0.0.1", port))
            idle.append(s)
        slow = [socket.create_connection(("127.0.0.1", port), source_address=("127.0.2.1", 0))
                for _ in range(200)]
        for s in slow:
            s.sendall(b"POST /jsonrpc HTTP/1.1\r\n")
        stop = threading.Event()

        def drip():
            while not stop.wait(1):
                for s in slow:
                    try:
                        s.send(b"X")
                    except OSError:
                        pass

        t = threading.Thread(target=drip)
        t.start()
        loaded = measure(port, sess, seconds)
        threads, rss = status(proc.pid)
        stop.set()
        t.join()
        for s in idle + slow:
            s.close()
        print(json.dumps({"quiet": quiet, "idle2000_slowloris200": loaded,
                          "hvnetd_threads": threads, "hvnetd_rss_kb": rss}))
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
