#!/usr/bin/env python3
"""Bond failover time, first lost to first delivered frame: a VM behind an hvnet bond sends a UDP
datagram every millisecond to a physical host; the member link carrying it is cut; the longest gap
between two delivered datagrams is the failover time. Runs active-backup (Linux bridge as the
switch) and LACP (Open vSwitch userspace as the partner). Needs root and a build.
Usage: sudo bench/bond-failover.py [runs]"""
import os
import pathlib
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
os.environ.setdefault("HVNETD", os.path.join(HERE, "..", "build", "hvnetd"))
os.environ.setdefault("XE", os.path.join(HERE, "..", "build", "xe"))

import conftest  # noqa: E402  (the integration harness: namespaces, hvnetd, xe)
from conftest import Lab, ManagedHost, sh, wait_until  # noqa: E402
import test_bond  # noqa: E402

RECEIVER = r"""
import socket, sys, time, json
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.82.0.2", 9999)); s.settimeout(0.5)
print("ready", flush=True)
arrivals = []
end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end:
    try:
        d, _ = s.recvfrom(64)
    except socket.timeout:
        continue
    arrivals.append(time.monotonic())
gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
print(json.dumps({"n": len(arrivals), "max_gap_ms": max(gaps) * 1000 if gaps else -1}), flush=True)
"""
SENDER = r"""
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.monotonic() + float(sys.argv[1]); i = 0
while time.monotonic() < end:
    s.sendto(i.to_bytes(8, "big"), ("10.82.0.2", 9999)); i += 1
    time.sleep(0.001)
"""


def measure(lab, vmns, hostns, cut):
    import json
    rx = lab.spawn("/usr/bin/python3", "-c", RECEIVER, "4", ns=hostns)
    assert rx.stdout.readline().strip() == "ready"
    tx = lab.spawn("/usr/bin/python3", "-c", SENDER, "3", ns=vmns)
    time.sleep(1.0)  # steady traffic before the cut (pacing only)
    cut()
    tx.wait(30)
    out, _ = rx.communicate(timeout=30)
    return json.loads(out.strip().splitlines()[-1])


def active_backup(tmp):
    lab = Lab(pathlib.Path(tmp))
    try:
        host = ManagedHost(lab)
        bond, vmns, sw = test_bond.bond_host_setup(lab, host, "active-backup")
        hostns, sh_port = test_bond.physical_host(lab, sw)
        sh("ip", "link", "add", "br0", "type", "bridge", ns=sw)
        for port in (lab.name("S0"), lab.name("S1"), sh_port):
            sh("ip", "link", "set", port, "master", "br0", ns=sw)
        sh("ip", "link", "set", "br0", "up", ns=sw)
        wait_until(lambda: sh("ping", "-c1", "-W1", "10.82.0.2", ns=vmns, check=False).returncode == 0, 10)
        return measure(lab, vmns, hostns, lambda: sh("ip", "link", "set", lab.name("S0"), "down", ns=sw))
    finally:
        lab.teardown()


def lacp(tmp):
    lab = Lab(pathlib.Path(tmp))
    try:
        host = ManagedHost(lab)
        bond, vmns, hostns, sw, ovs = test_bond.lacp_bond_setup(lab, host, tmp)
        # Open vSwitch's AF_PACKET ports pass partial checksums on unfinished: UDP needs them done.
        tap = sh("ls", "/sys/class/net", ns=vmns).stdout.split()
        for dev in tap:
            if dev.startswith("vif"):
                sh("ethtool", "-K", dev, "tx", "off", ns=vmns, check=False)
        wait_until(lambda: sh("ping", "-c1", "-W1", "10.82.0.2", ns=vmns, check=False).returncode == 0, 30)
        # Find the member carrying the flow, then cut it.
        sh("ping", "-c", "20", "-i", "0.01", "10.82.0.2", ns=vmns, check=False)
        st = test_bond.bond_status(host, bond)
        busy = max((0, 1), key=lambda i: int(st[f"{lab.name(f'e{i}')}.tx-packets"]))
        return measure(lab, vmns, hostns,
                       lambda: sh("ip", "link", "set", lab.name(f"S{busy}"), "down", ns=sw))
    finally:
        lab.teardown()


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    for name, fn in (("active-backup (Linux bridge switch)", active_backup),
                     ("lacp (Open vSwitch partner)", lacp)):
        gaps = []
        for _ in range(runs):
            with tempfile.TemporaryDirectory(prefix="hvnet-failover-") as tmp:
                r = fn(tmp)
                gaps.append(r["max_gap_ms"])
        gaps.sort()
        print(f"{name:40s} failover gap ms: median {gaps[len(gaps) // 2]:.1f}  "
              f"min {gaps[0]:.1f}  max {gaps[-1]:.1f}  (1 ms send interval, {runs} runs)")


if __name__ == "__main__":
    main()
