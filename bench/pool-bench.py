#!/usr/bin/env python3
"""Pools on etcd, end to end: hosts in namespaces (tests/integration/pool_lab.py), a three-member
etcd cluster with client certificates, hvnetd in interrupt poll mode (idle hosts cost no CPU).
Prints:
  - pool-join: from `xe pool-join` to the joiner's data plane having every pool network and VLAN;
  - pool-vlan-create across N hosts: from the call to every host's data plane carrying the tag;
  - writes (network.add_to_other_config, one client, serial) on SQLite vs on etcd: latency
    median/p90 and writes/s.
Needs root and a build. Usage: bench/pool-bench.py [hosts-for-the-big-VLAN (16)] [writes (300)]"""
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
from pool_lab import PoolLab  # noqa: E402

BIG = int(sys.argv[1]) if len(sys.argv) > 1 else 16
WRITES = int(sys.argv[2]) if len(sys.argv) > 2 else 300
QUIET = ["--poll-mode", "interrupt", "--tap-keeper", ""]


def wait(pred, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return time.monotonic()
        time.sleep(0.005)
    raise SystemExit("timed out")


def has_vlan(h, tag):
    topo = h.ctl_request({"cmd": "topology"})["value"]
    return any(v["tag"] == tag for p in topo["ports"] for v in p.get("vlans", []))


def write_latency(h, n):
    net = h.xe("network-create", "name-label=bench").stdout.strip()
    session, _ = h.rpc("session.login_with_password", "root", h.PASSWORD, session=False)
    ref, _ = h.rpc("network.get_by_uuid", net)
    times = []
    start = time.monotonic()
    for k in range(n):
        t0 = time.monotonic()
        _, err = h.rpc("network.add_to_other_config", session, ref, f"k{k}", "v", session=False)
        assert err is None, err
        times.append(time.monotonic() - t0)
    total = time.monotonic() - start
    times.sort()
    return statistics.median(times) * 1e3, times[int(len(times) * 0.9)] * 1e3, n / total


def main():
    if os.geteuid() != 0:
        raise SystemExit("needs root (namespaces)")
    results = []
    with tempfile.TemporaryDirectory(prefix="hvnet-pool-bench-") as tmp:
        lab = conftest.Lab(pathlib.Path(tmp))
        try:
            pool = PoolLab(lab, hosts=BIG)
            master = pool.start_host(0, found=True, extra=QUIET)
            # A pool VLAN first, so that a joiner has a network to take.
            e0 = master.xe("pif-list", f"device={pool.prefix}e0", "VLAN=-1", "--minimal").stdout.strip()
            net = master.xe("network-create", "name-label=v10").stdout.strip()
            master.xe("pool-vlan-create", f"pif-uuid={e0}", "vlan=10", f"network-uuid={net}")
            # Join: host 1, timed to its data plane carrying VLAN 10.
            h1 = pool.start_host(1, extra=QUIET)
            t0 = time.monotonic()
            pool.join(1)
            t1 = wait(lambda: has_vlan(h1, 10))
            results.append(("pool-join to all networks up on the joiner", f"{(t1 - t0) * 1e3:.0f} ms"))
            h2 = pool.start_host(2, extra=QUIET)
            pool.join(2)
            wait(lambda: has_vlan(h2, 10))

            def vlan_across(hosts, tag):
                net = master.xe("network-create", f"name-label=v{tag}").stdout.strip()
                t0 = time.monotonic()
                master.xe("pool-vlan-create", f"pif-uuid={e0}", f"vlan={tag}", f"network-uuid={net}")
                for h in hosts:
                    wait(lambda: has_vlan(h, tag))
                return (time.monotonic() - t0) * 1e3
            results.append(("pool-vlan-create across 3 hosts to all plugged",
                            f"{vlan_across(pool.hosts[:3], 20):.0f} ms"))
            # Writes on etcd (a member) before the big pool, then the big pool.
            med, p90, rate = write_latency(h1, WRITES)
            results.append(("write on etcd (3 members, TLS)",
                            f"median {med:.2f} ms, p90 {p90:.2f} ms, {rate:.0f} writes/s"))
            for i in range(3, BIG):
                pool.start_host(i, extra=QUIET)
                pool.join(i)
            for h in pool.hosts:
                wait(lambda: has_vlan(h, 20))
            results.append((f"pool-vlan-create across {BIG} hosts to all plugged",
                            f"{vlan_across(pool.hosts, 30):.0f} ms"))
        finally:
            lab.teardown()
        # The same writes on a standalone host's SQLite.
        os.makedirs(tmp + "/s", exist_ok=True)
        lab = conftest.Lab(pathlib.Path(tmp + "/s"))
        try:
            ns = lab.netns("solo")
            from pool_lab import PoolHost
            solo = PoolHost(lab, ns, "solo", "127.0.0.1", QUIET)
            med, p90, rate = write_latency(solo, WRITES)
            results.append(("write on SQLite (standalone)",
                            f"median {med:.2f} ms, p90 {p90:.2f} ms, {rate:.0f} writes/s"))
        finally:
            lab.teardown()
    for what, figure in results:
        print(f"{what:55s} {figure}")


if __name__ == "__main__":
    main()
