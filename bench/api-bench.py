#!/usr/bin/env python3
"""API read throughput and xe latency against a private hvnetd (network-manager mode, its own
SQLite file, loopback only). Prints calls/s for JSON-RPC and XML-RPC reads over one keep-alive
connection, and the median/p90 wall time of `xe` commands. Needs root and a build.
Usage: sudo bench/api-bench.py [seconds-per-measurement]"""
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import xmlrpc.client

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HVNETD = os.environ.get("HVNETD", os.path.join(ROOT, "build/hvnetd"))
XE = os.environ.get("XE", os.path.join(ROOT, "build/xe"))
SECS = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    work = tempfile.mkdtemp(prefix="hvnet-api-bench-")
    port, sock = free_port(), os.path.join(work, "xapi.sock")
    with open(os.open(os.path.join(work, "pw"), os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write("bench\n")
    proc = subprocess.Popen([HVNETD, "--db", os.path.join(work, "db"), "--api-socket", sock,
                             "--api-listen-tls", "", "--api-listen", f"127.0.0.1:{port}", "--password-file",
                             os.path.join(work, "pw"), "--pif-prefix", "hvbench-none",
                             "--ctl", os.path.join(work, "ctl")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(sock) and time.monotonic() < deadline:
            time.sleep(0.05)
        conn = http.client.HTTPConnection("127.0.0.1", port)

        def rpc(method, params):
            conn.request("POST", "/jsonrpc", json.dumps({"method": method, "params": params, "id": 1}),
                         {"Content-Type": "application/json"})
            return json.loads(conn.getresponse().read())["result"]

        s = rpc("session.login_with_password", ["root", "bench"])
        for i in range(50):
            rpc("network.create", [s, {"name_label": f"net{i}"}])
        ref = rpc("network.get_all", [s])[0]

        def rate(fn):
            n, end = 0, time.monotonic() + SECS
            while time.monotonic() < end:
                fn()
                n += 1
            return n / SECS

        r1 = rate(lambda: rpc("network.get_record", [s, ref]))
        r2 = rate(lambda: rpc("network.get_all_records", [s]))
        x = xmlrpc.client.ServerProxy(f"http://127.0.0.1:{port}")
        xs = x.session.login_with_password("root", "bench")["Value"]
        r3 = rate(lambda: x.network.get_record(xs, ref))
        print(f"JSON-RPC network.get_record            {r1:8.0f} calls/s")
        print(f"JSON-RPC network.get_all_records (50)  {r2:8.0f} calls/s")
        print(f"XML-RPC  network.get_record            {r3:8.0f} calls/s (new connection per call)")
        env = dict(os.environ, HVNET_XAPI_SOCKET=sock)
        for cmd in (["network-list", "--minimal"], ["network-list"], ["network-create", "name-label=x"]):
            times = []
            for _ in range(30):
                t0 = time.perf_counter()
                subprocess.run([XE, *cmd], env=env, capture_output=True, check=True)
                times.append((time.perf_counter() - t0) * 1000)
            times.sort()
            print(f"xe {' '.join(cmd):32s} median {statistics.median(times):6.2f} ms  "
                  f"p90 {times[int(len(times) * 0.9)]:6.2f} ms")
    finally:
        proc.terminate()
        proc.wait()
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
