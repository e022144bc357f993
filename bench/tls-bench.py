#!/usr/bin/env python3
"""The API over HTTPS against plain HTTP, one run, same hvnetd (its own SQLite file, loopback):
login+logout pairs/s and network.get_record calls/s over one keep-alive connection each, and
calls/s when every call opens a new connection (for HTTPS: a full handshake each); then the same
login and read for a subject (a system account the bench makes and removes, password checked by
PAM, every call checked against its read-only role). Prints the figures and the ratios. Needs
root, useradd and a build.
Usage: sudo bench/tls-bench.py [seconds-per-measurement]"""
import http.client
import json
import os
import socket
import secrets
import ssl
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HVNETD = os.environ.get("HVNETD", os.path.join(ROOT, "build/hvnetd"))
SECS = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rate(fn):
    """Calls/s of fn: the median of three runs of SECS/3 each (one slow run does not decide)."""
    runs = []
    for _ in range(3):
        n, end = 0, time.monotonic() + SECS / 3
        while time.monotonic() < end:
            fn()
            n += 1
        runs.append(n / (SECS / 3))
    return sorted(runs)[1]


def main():
    work = tempfile.mkdtemp(prefix="hvnet-tls-bench-")
    port, tls_port, sock = free_port(), free_port(), os.path.join(work, "xapi.sock")
    with open(os.open(os.path.join(work, "pw"), os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write("bench\n")
    user, password = f"hvbench{secrets.token_hex(3)}", secrets.token_urlsafe(12)
    subprocess.run(["useradd", "-M", "-N", "-s", "/usr/sbin/nologin", user], check=True)
    subprocess.run(["chpasswd"], input=f"{user}:{password}\n", text=True, check=True)
    proc = subprocess.Popen([HVNETD, "--db", os.path.join(work, "db"), "--api-socket", sock,
                             "--api-listen", f"127.0.0.1:{port}",
                             "--api-listen-tls", f"127.0.0.1:{tls_port}",
                             "--password-file", os.path.join(work, "pw"),
                             "--pif-prefix", "hvbench-none", "--ctl", os.path.join(work, "ctl"),
                             "--tap-keeper", ""],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while not os.path.exists(sock) and time.monotonic() < deadline:
            time.sleep(0.05)
        ctx = ssl.create_default_context(cafile=os.path.join(work, "api-tls.pem"))
        make = {"HTTP": lambda: http.client.HTTPConnection("127.0.0.1", port),
                "HTTPS": lambda: http.client.HTTPSConnection("localhost", tls_port, context=ctx)}
        # "localhost" names the certificate's SAN; it resolves to loopback.
        results = {}
        for name, new in make.items():
            conn = new()

            def rpc(method, params, c=None):
                c = c or conn
                c.request("POST", "/jsonrpc",
                          json.dumps({"method": method, "params": params, "id": 1}),
                          {"Content-Type": "application/json"})
                return json.loads(c.getresponse().read())["result"]

            s = rpc("session.login_with_password", ["root", "bench"])
            if name == "HTTP":
                for i in range(50):
                    rpc("network.create", [s, {"name_label": f"net{i}"}])
            ref = rpc("network.get_all", [s])[0]
            logins = rate(lambda: rpc("session.logout", [rpc("session.login_with_password",
                                                              ["root", "bench"])]))
            reads = rate(lambda: rpc("network.get_record", [s, ref]))

            def fresh():
                c = new()
                rpc("network.get_record", [s, ref], c)
                c.close()
            fresh_reads = rate(fresh)
            if name == "HTTP":  # the subject, once: xe subject-add and subject-role-add
                sid = rpc("auth.get_subject_identifier", [s, user])
                subj = rpc("subject.create", [s, {"subject_identifier": sid, "other_config": {}}])
                ro = rpc("role.get_by_name_label", [s, "read-only"])[0]
                rpc("subject.add_to_roles", [s, subj, ro])
            us = rpc("session.login_with_password", [user, password])
            sub_logins = rate(lambda: rpc("session.logout", [rpc("session.login_with_password",
                                                                  [user, password])]))
            sub_reads = rate(lambda: rpc("network.get_record", [us, ref]))
            results[name] = (logins, reads, fresh_reads, sub_logins, sub_reads)
        for name, (logins, reads, fresh_reads, sub_logins, sub_reads) in results.items():
            print(f"{name:5s} root: login+logout {logins:8.0f} pairs/s   get_record {reads:8.0f}"
                  f" calls/s   new connection per call {fresh_reads:7.0f} calls/s")
            print(f"{name:5s} subject (PAM, read-only role): login+logout {sub_logins:8.0f} pairs/s"
                  f"   get_record {sub_reads:8.0f} calls/s")
        h, t = results["HTTP"], results["HTTPS"]
        print(f"HTTPS/HTTP     login {t[0] / h[0]:.2f}   keep-alive reads {t[1] / h[1]:.2f}"
              f"   new-connection reads {t[2] / h[2]:.2f}   subject login {t[3] / h[3]:.2f}"
              f"   subject reads {t[4] / h[4]:.2f}")
        print(f"subject/root   reads (role checked per call) HTTP {h[4] / h[1]:.2f}"
              f"   HTTPS {t[4] / t[1]:.2f}")
    finally:
        proc.terminate()
        proc.wait()
        subprocess.run(["rm", "-rf", work])
        subprocess.run(["userdel", "-f", user], check=False)


if __name__ == "__main__":
    main()
