#!/usr/bin/env python3
"""The pool demo: three hvnet hosts, each a network namespace with its own hvnetd and an etcd
member on its management address (TLS, client certificates from a CA made here), their eth0 into
one physical switch. The first host founds the pool, the two others join it with xe pool-join;
then a pool network and a pool VLAN (tag 100) on eth0 of every host, and two VMs on different
hosts that ping each other over the VLAN through the physical switch. Prints each step's xe
command; Enter (or --once) removes it all. Needs root and a build (tools/build.sh)."""
import os
import pathlib
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests/integration"))
os.environ.setdefault("HVNETD", os.path.join(ROOT, "build/hvnetd"))
os.environ.setdefault("XE", os.path.join(ROOT, "build/xe"))
os.environ.setdefault("HVNETCTL", os.path.join(ROOT, "build/hvnetctl"))

import conftest  # noqa: E402
from pool_lab import PoolLab  # noqa: E402


def step(h, *args):
    print(f"[{h.netns}] xe {' '.join(args)}")
    out = h.xe(*args).stdout.strip()
    if out:
        print("   ", out.replace("\n", "\n    "))
    return out


def main():
    if os.geteuid() != 0:
        raise SystemExit("the pool demo needs root (namespaces)")
    with tempfile.TemporaryDirectory(prefix="hvnet-pool-demo-") as tmp:
        lab = conftest.Lab(pathlib.Path(tmp))
        try:
            print("three hosts and a three-member etcd cluster in namespaces ...")
            pool = PoolLab(lab)
            hosts = [pool.start_host(0, found=True), pool.start_host(1), pool.start_host(2)]
            for i in (1, 2):
                step(hosts[i], "pool-join", f"master-address={pool.addrs[0]}",
                     "master-username=root", f"master-password={hosts[i].PASSWORD}")
            step(hosts[2], "host-list", "params=uuid,name-label")
            net = step(hosts[1], "network-create", "name-label=pool-vlan100")
            e0 = hosts[0].xe("pif-list", f"host-uuid={hosts[0].host_uuid}",
                             f"device={pool.prefix}e0", "VLAN=-1", "--minimal").stdout.strip()
            step(hosts[0], "pool-vlan-create", f"pif-uuid={e0}", "vlan=100", f"network-uuid={net}")
            step(hosts[2], "pif-list", "VLAN=100", "params=host-name-label,device,VLAN,currently-attached")
            vms = []
            for i, addr in ((0, "192.168.100.1/24"), (2, "192.168.100.2/24")):
                h = hosts[i]
                vm = step(h, "vm-create", f"name-label=vm-on-host{i}")
                vif = step(h, "vif-create", f"vm-uuid={vm}", f"network-uuid={net}", "device=0")
                step(h, "vif-plug", f"uuid={vif}")
                tap = "vif" + h.xe("vm-param-get", f"uuid={vm}", "param-name=dom-id").stdout.strip() + ".0"
                conftest.wait_until(lambda: conftest.sh("ip", "link", "show", tap, ns=pool.ns[i],
                                                        check=False).returncode == 0, 10, tap)
                ns = lab.netns(f"vm{i}")
                conftest.sh("ip", "link", "set", tap, "netns", ns, ns=pool.ns[i])
                conftest.sh("ip", "addr", "add", addr, "dev", tap, ns=ns)
                conftest.sh("ip", "link", "set", tap, "up", ns=ns)
                vms.append(ns)
            print(f"[{vms[0]}] ping 192.168.100.2 (a VM on another host, over VLAN 100)")
            print(conftest.ping(vms[0], "192.168.100.2", count=3, check=False).stdout)
            if "--once" not in sys.argv:
                input("Enter removes the demo ... ")
        finally:
            lab.teardown()


if __name__ == "__main__":
    main()
