#!/usr/bin/env python3
"""Events and long polls: (1) event latency, write acknowledged -> event delivered to a client
long-polling event.from, p50/p99 over N writes; (2) read throughput (network.get_all over one
keep-alive connection per reader) with no long-pollers and with 200 sessions long-polling
event.from at once. Goals: p99 under 20 ms; 200 waiters cost under 10% of read throughput.
Loopback only. Usage: sudo bench/events-load.py [writes] [seconds]"""
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

HVNETD = os.environ.get("HVNETD", os.path.join(os.path.dirname(__file__), "..", "build", "hvnetd"))


class Client:
    def __init__(self, port):
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def call(self, method, params):
        body = json.dumps({"method": method, "params": params, "id": 1})
        self.c.request("POST", "/jsonrpc", body, {"Content-Type": "application/json"})
        r = json.loads(self.c.getresponse().read())
        if r["error"]:
            raise RuntimeError(r["error"])
        return r["result"]


def pct(xs, p):
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(p * len(xs)))], 2)


def main():
    writes = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 5
    with tempfile.TemporaryDirectory() as work:
        pw = os.path.join(work, "pw")
        with open(os.open(pw, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write("bench\n")
        port = 18000 + os.getpid() % 1000
        proc = subprocess.Popen([HVNETD, "--db", os.path.join(work, "db"), "--api-socket",
                                 os.path.join(work, "xapi.sock"), "--api-listen-tls", "", "--api-listen",
                                 f"127.0.0.1:{port}", "--password-file", pw, "--pif-prefix",
                                 "hvev-none", "--ctl", os.path.join(work, "ctl"), "--state-dir",
                                 os.path.join(work, "state"), "--resolv-conf", "",
                                 "--tap-keeper", ""],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    writer = Client(port)
                    s = writer.call("session.login_with_password", ["root", "bench"])
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            # (1) latency: a watcher long-polls; each write's ack time -> the event's arrival.
            watcher = Client(port)
            token = watcher.call("event.inject", [s, "pool", writer.call("pool.get_all", [s])[0]])
            lat = []
            for i in range(writes):
                got = {}

                def watch():
                    r = watcher.call("event.from", [s, ["network"], got["token"], 30.0])
                    got["at"] = time.perf_counter()
                    got["token"] = r["token"]
                got["token"] = token
                t = threading.Thread(target=watch)
                t.start()
                time.sleep(0.002)  # let the poll reach the server (a benchmark, not a test)
                writer.call("network.create", [s, {"name_label": f"n{i}"}])
                acked = time.perf_counter()
                t.join()
                token = got["token"]
                lat.append(max(0.0, got["at"] - acked) * 1000)
            result = {"event_latency_ms": {"writes": writes, "p50": pct(lat, 0.5),
                                           "p99": pct(lat, 0.99), "max": round(max(lat), 2)}}

            # (2) reads per second, 2 reader connections, without and with 200 long polls.
            def reads():
                count = [0, 0]
                end = time.monotonic() + seconds

                def reader(k):
                    c = Client(port)
                    while time.monotonic() < end:
                        c.call("network.get_all", [s])
                        count[k] += 1
                ts = [threading.Thread(target=reader, args=(k,)) for k in range(2)]
                for t in ts:
                    t.start()
                for t in ts:
                    t.join()
                return round(sum(count) / seconds)
            quiet = reads()
            tok = writer.call("event.inject", [s, "pool", writer.call("pool.get_all", [s])[0]])
            pollers = []
            for _ in range(200):
                c = Client(port)
                sess = c.call("session.login_with_password", ["root", "bench"])
                t = threading.Thread(target=lambda c=c, sess=sess: c.call(
                    "event.from", [sess, ["network"], tok, 120.0]), daemon=True)
                t.start()
                pollers.append(t)
            time.sleep(1)  # let all 200 reach the server
            busy = reads()
            threads = int(open(f"/proc/{proc.pid}/status").read().split("Threads:")[1].split()[0])
            result["reads_per_s"] = {"no_waiters": quiet, "200_waiters": busy,
                                     "cost_pct": round(100 * (quiet - busy) / quiet, 1),
                                     "hvnetd_threads_with_200_waiters": threads}
            writer.call("network.create", [s, {"name_label": "wake"}])
            for t in pollers:
                t.join(30)
            print(json.dumps(result, indent=1))
        finally:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    main()
