#!/usr/bin/python3
"""Refreshes the README's picture of the web console (docs/console.png): builds the console
tests' topology (hvnetd on loopback, a NIC with a VLAN, a private network, three VMs in
namespaces pinging each other), opens the console in headless chromium, selects a VIF once its
rate graphs have a few samples, and saves the page. Needs root and tools/install-deps.sh.

  sudo /usr/bin/python3 tools/console-screenshot.py [OUTPUT.png]"""
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "integration"))
os.environ.setdefault("HVNETD", str(ROOT / "build" / "hvnetd"))
os.environ.setdefault("XE", str(ROOT / "build" / "xe"))

from conftest import Lab  # noqa: E402
from console_lab import browser, click, console_demo, login, wait_drawn  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def main():
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "docs" / "console.png")
    with tempfile.TemporaryDirectory() as tmp:
        lab = Lab(pathlib.Path(tmp))
        d = None
        try:
            host, net, vms = console_demo(lab, vms=3)
            for i, (vm, vif, ns, tap) in enumerate(vms):
                peer = f"10.93.0.{(i + 1) % len(vms) + 1}"
                lab.spawn("ping", "-q", "-i", "0.05", "-s", str(400 * (i + 1)), peer, ns=ns)
            d = browser(f"{tmp}/chrome", 1600, 900)
            login(d, f"http://127.0.0.1:{host.port}/")
            wait_drawn(d)
            vif = host.ok("VIF.get_by_uuid", vms[0][1])
            time.sleep(12)  # a few samples for the rate graphs
            click(d, f'#topology [data-ref="{vif}"]')
            WebDriverWait(d, 10).until(lambda d: d.find_elements(By.ID, "port-counters"))
            time.sleep(0.5)
            out.parent.mkdir(parents=True, exist_ok=True)
            d.save_screenshot(str(out))
            print(out)
        finally:
            if d:
                d.quit()
            lab.teardown()


if __name__ == "__main__":
    main()
