#!/usr/bin/env python3
"""The web console under a large pool: 16 hosts on etcd (tests/integration/pool_lab.py, hvnetd in
interrupt poll mode), 10 networks and 20 VMs with 10 VIFs each (200 VIFs), the console opened on
the master in headless chromium (over HTTPS on the pool's management network, reached through a
veth from this namespace). Prints:
  - page load: navigation to the login form ready (HTML, CSS and modules from memory);
  - login to drawn: from pressing "Log in" to every host, PIF, network and VIF drawn (the login,
    one event.from of everything, the drawing);
  - the drawing itself;
  - the console's cost on an idle API: calls/s over a minute with the page open, counted by the
    master (/metrics) and by the page.
Each load figure is the median of 5 loads. Needs root and a build.
Usage: bench/console-load.py [hosts (16)] [VIFs (200)] [idle seconds (60)]"""
import json
import os
import pathlib
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests/integration"))
os.environ.setdefault("HVNETD", os.path.join(ROOT, "build/hvnetd"))
os.environ.setdefault("XE", os.path.join(ROOT, "build/xe"))
os.environ.setdefault("HVNETCTL", os.path.join(ROOT, "build/hvnetctl"))

import conftest  # noqa: E402
from console_lab import browser, login  # noqa: E402
from pool_lab import PoolLab  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

HOSTS = int(sys.argv[1]) if len(sys.argv) > 1 else 16
VIFS = int(sys.argv[2]) if len(sys.argv) > 2 else 200
IDLE = int(sys.argv[3]) if len(sys.argv) > 3 else 60
QUIET = ["--poll-mode", "interrupt", "--tap-keeper", ""]


def api_calls(h):
    """Every API call the host has answered (its /metrics, over the Unix socket)."""
    c = conftest.UnixHTTPConnection(h.sock)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    c.close()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("hvnet_api_calls_total{"))


def main():
    if os.geteuid() != 0:
        raise SystemExit("needs root (namespaces)")
    with tempfile.TemporaryDirectory(prefix="hvnet-console-bench-") as tmp:
        lab = conftest.Lab(pathlib.Path(tmp))
        d = None
        try:
            t0 = time.monotonic()
            pool = PoolLab(lab, hosts=HOSTS, etcd_members=1)
            master = pool.start_host(0, found=True, extra=QUIET)
            for i in range(1, HOSTS):
                pool.start_host(i, extra=QUIET)
                pool.join(i)
            pool.reach_from_root()  # this namespace on the management network
            nets = [master.ok("network.create", {"name_label": f"net{i}", "name_description": "",
                                                 "MTU": 1500, "other_config": {}})
                    for i in range(10)]
            per_vm = 10
            for v in range(VIFS // per_vm):
                vm = master.ok("VM.create", {"name_label": f"vm{v:02d}"})
                for k in range(per_vm):
                    master.ok("VIF.create", {"VM": vm, "network": nets[(v + k) % len(nets)],
                                             "device": str(k), "MAC": f"00:16:3e:01:{v:02x}:{k:02x}",
                                             "MTU": 1500, "other_config": {},
                                             "qos_algorithm_type": "", "qos_algorithm_params": {}})
            counts = {c: len(master.ok(f"{c}.get_all")) for c in ("host", "PIF", "network", "VIF")}
            print(f"pool ready in {time.monotonic() - t0:.0f} s: {json.dumps(counts)}")

            d = browser(f"{tmp}/chrome", 1600, 1000)
            d.execute_cdp_cmd("Security.setIgnoreCertificateErrors", {"ignore": True})
            url = f"https://{pool.addrs[0]}/"
            loads, logins, draws = [], [], []
            for _ in range(5):
                d.get("about:blank")
                login(d, url)  # navigates, then logs in
                nav = d.execute_script(
                    "const t = performance.getEntriesByType('navigation')[0];"
                    "return t.domContentLoadedEventEnd - t.startTime;")
                WebDriverWait(d, 60, poll_frequency=0.01).until(lambda d: d.execute_script(
                    "return document.querySelectorAll('#topology [data-class]').length") >=
                    sum(counts.values()))
                c = d.execute_script("const c = window.hvnetConsole;"
                                     "return [c.drawnAt - c.loginAt, c.drawMs];")
                loads.append(nav)
                logins.append(c[0])
                draws.append(c[1])
                d.execute_script("document.querySelector('#logout').click()")
            print(f"page load (navigation to login form ready)   median {statistics.median(loads):.0f} ms")
            print(f"login to drawn ({HOSTS} hosts, {counts['PIF']} PIFs, {counts['network']} "
                  f"networks, {counts['VIF']} VIFs)   median {statistics.median(logins):.0f} ms")
            print(f"drawing alone                                  median {statistics.median(draws):.1f} ms")
            login(d, url)
            WebDriverWait(d, 60).until(lambda d: d.execute_script(
                "return window.hvnetConsole.draws > 0"))
            time.sleep(3)
            a0, p0 = api_calls(master), d.execute_script("return window.hvnetConsole.rpc.calls")
            time.sleep(IDLE)
            a1, p1 = api_calls(master), d.execute_script("return window.hvnetConsole.rpc.calls")
            print(f"idle console: {(a1 - a0) / IDLE:.2f} API calls/s at the master "
                  f"({(p1 - p0) / IDLE:.2f}/s from the page) over {IDLE} s")
        finally:
            if d:
                d.quit()
            lab.teardown()


if __name__ == "__main__":
    main()
