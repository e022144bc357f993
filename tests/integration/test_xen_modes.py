"""Classic Xen's route and nat networks, with VIFs made from xl vif specifications. hvnetd runs
in a host namespace of its own (its routes, nftables and dnsmasq are that namespace's); the
"physical" namespace behind its management interface plays the outside world."""
import os
import signal

import pytest

from conftest import Capture, host_with_physical_peers, ping, sh, wait_until

SCAPY = "/usr/bin/python3"


@pytest.fixture
def site(lab):
    """hvnetd with its management interface 10.95.0.1/24 on e0 (gateway 10.95.0.254, the
    physical namespace)."""
    host, hostns, phys, pifs = host_with_physical_peers(lab)
    host.xe("pif-reconfigure-ip", f"uuid={pifs[0]}", "mode=static", "IP=10.95.0.1",
            "netmask=255.255.255.0", "gateway=10.95.0.254")
    host.xe("host-management-reconfigure", f"pif-uuid={pifs[0]}")
    for cmd in ("nft", "dnsmasq", "dhclient"):
        assert sh("which", cmd, check=False).returncode == 0, f"{cmd} missing: tools/install-deps.sh"
    return host, hostns, phys


def xl_vm(host, hostns, lab, role, spec):
    """A running VM with the VIF of one xl vif spec (vifname= the lab's name for `role`), plugged,
    its TAP moved into a namespace of its own. Returns (vm, vif, namespace, tap)."""
    tap = lab.name(role)
    vm = host.xe("vm-create", f"name-label={role}").stdout.strip()
    vif = host.xe("vif-create-xl", f"vm-uuid={vm}", f"spec={spec}, vifname={tap}").stdout.strip()
    host.xe("vif-plug", f"uuid={vif}")
    wait_until(lambda: sh("ip", "link", "show", tap, ns=hostns, check=False).returncode == 0, 10, tap)
    ns = lab.netns(role)
    sh("ip", "link", "set", tap, "netns", ns, ns=hostns)
    sh("ip", "link", "set", tap, "up", ns=ns)
    return vm, vif, ns, tap


def routes(hostns):
    return sorted(r.strip() for r in sh("ip", "route", "show", "proto", "77", ns=hostns).stdout.splitlines() if r.strip())


def test_routed_network_reaches_the_outside_through_the_hosts_routing_and_no_l2_crosses(site, lab):
    host, hostns, phys = site
    net = host.xe("network-create", "name-label=routed").stdout.strip()
    host.xe("network-param-set", f"uuid={net}", "subnet=10.200.0.1/24")
    host.xe("network-param-set", f"uuid={net}", "mode=route")
    assert host.xe("network-list", f"uuid={net}", "params=mode", "--minimal").stdout.strip() == "route"
    vms = []
    for i, role in ((5, "r1"), (6, "r2")):
        vm, vif, ns, tap = xl_vm(host, hostns, lab, role, f"script=vif-route, ip=10.200.0.{i}")
        sh("ip", "addr", "add", f"10.200.0.{i}/24", "dev", tap, ns=ns)
        sh("ip", "route", "add", "default", "via", "10.200.0.1", ns=ns)
        vms.append((vm, vif, ns, tap))
    bridge = host.xe("network-param-get", f"uuid={net}", "param-name=bridge").stdout.strip()
    assert routes(hostns) == [f"10.200.0.5 dev {bridge} scope link", f"10.200.0.6 dev {bridge} scope link"]
    sh("ip", "route", "add", "10.200.0.0/24", "via", "10.95.0.1", ns=phys)
    ns1, ns2 = vms[0][2], vms[1][2]
    # The outside, through the host's routing table.
    r = ping(ns1, "10.95.0.254", count=3)
    assert "3 received" in r.stdout
    # The other VM too, but routed (one hop: TTL 63), never bridged.
    r = ping(ns1, "10.200.0.6", count=3)
    assert "3 received" in r.stdout and "ttl=63" in r.stdout
    # A broadcast of VM 1 reaches the host's port, not VM 2.
    cap2 = Capture(lab, ns2, vms[1][3], 3)
    caph = Capture(lab, hostns, bridge, 3)
    frame = ("from scapy.all import Ether, Raw, sendp; "
             f"sendp(Ether(dst='ff:ff:ff:ff:ff:ff', type=0x88b5)/Raw(b'x'*46), iface='{vms[0][3]}', "
             "count=5, verbose=False)")
    sh(SCAPY, "-c", frame, ns=ns1)
    assert len([f for f in caph.frames() if f[12:14] == b"\x88\xb5"]) == 5
    assert [f for f in cap2.frames() if f[12:14] == b"\x88\xb5"] == []
    # A restart keeps the routes, not doubled.
    before = routes(hostns)
    host.stop(signal.SIGKILL)
    host.start()
    wait_until(lambda: host.xe("network-list", "--minimal", check=False).returncode == 0, 20, "API")
    assert routes(hostns) == before
    # The mode stays while a VIF is plugged.
    r = host.xe("network-param-set", f"uuid={net}", "mode=bridge", check=False)
    assert r.returncode == 1 and "NETWORK_CONTAINS_VIF" in r.stderr
    # Gone with the network: no route left.
    for vm, vif, ns, tap in vms:
        host.xe("vif-unplug", f"uuid={vif}")
        host.xe("vif-destroy", f"uuid={vif}")
    host.xe("network-destroy", f"uuid={net}")
    assert routes(hostns) == []


DHCP_SCRIPT = """#!/bin/sh
# applies a lease inside the VM's namespace (never the machine's resolv.conf)
case "$reason" in
BOUND|RENEW|REBIND|REBOOT)
  ip addr add "$new_ip_address/$new_subnet_mask" dev "$interface"
  ip route replace default via "$new_routers" ;;
esac
exit 0
"""


def test_nat_network_leases_masquerades_and_forwards_and_leaves_nothing(site, lab):
    host, hostns, phys = site
    net = host.xe("network-create", "name-label=nat").stdout.strip()
    host.xe("network-param-set", f"uuid={net}", "subnet=192.168.150.1/24")
    host.xe("network-param-set", f"uuid={net}", "mode=nat")
    host.xe("network-param-set", f"uuid={net}", "port-forwards=tcp:8080=192.168.150.10:80")
    bridge = host.xe("network-param-get", f"uuid={net}", "param-name=bridge").stdout.strip()
    vm, vif, ns, tap = xl_vm(host, hostns, lab, "nat1",
                             "mac=00:16:3e:00:15:0a, script=vif-nat, ip=192.168.150.10")
    # The VM's DHCP client gets its reserved address from hvnetd's dnsmasq.
    script = os.path.join(str(lab.tmp_path), "dhcp-script")
    with open(script, "w") as f:
        f.write(DHCP_SCRIPT)
    os.chmod(script, 0o755)
    d = str(lab.tmp_path)
    lab.spawn("dhclient", "-4", "-d", "-sf", script, "-pf", f"{d}/vm-dhclient.pid", "-lf",
              f"{d}/vm-dhclient.leases", tap, ns=ns)  # in the foreground: it goes with the test
    wait_until(lambda: "192.168.150.10/24" in sh("ip", "-4", "addr", "show", "dev", tap, ns=ns).stdout,
               30, "the VM's DHCP lease")
    leases = open(os.path.join(host.dir, "state", "networks", f"dnsmasq-{bridge}.leases")).read()
    assert "00:16:3e:00:15:0a" in leases and "192.168.150.10" in leases
    # Out through the management interface with the host's address as the source.
    srv = lab.spawn(SCAPY, "-c", SERVER, "10.95.0.254", "8000", ns=phys)
    assert srv.stdout.readline().strip() == "ready"
    out = sh(SCAPY, "-c", CLIENT, "10.95.0.254", "8000", ns=ns).stdout.strip()
    assert out == "peer 10.95.0.1"
    # A port forward of the host reaches the VM.
    web = lab.spawn(SCAPY, "-c", SERVER, "192.168.150.10", "80", ns=ns)
    assert web.stdout.readline().strip() == "ready"
    assert sh(SCAPY, "-c", CLIENT, "10.95.0.1", "8080", ns=phys).stdout.strip() == "peer 10.95.0.254"
    # Restart: the same rules, one table, one dnsmasq.
    rules = sh("nft", "list", "ruleset", ns=hostns).stdout
    assert rules.count("table ip hvnet") == 1 and "masquerade" in rules and "dnat to" in rules

    def dnsmasqs():
        r = sh("pgrep", "-f", os.path.join(host.dir, "state", "networks", f"dnsmasq-{bridge}.leases"),
               check=False)
        return r.stdout.split()
    first = dnsmasqs()
    assert len(first) == 1
    # Supervised: a dnsmasq that dies is started again.
    os.kill(int(first[0]), signal.SIGKILL)
    wait_until(lambda: len(dnsmasqs()) == 1 and dnsmasqs() != first, 10, "dnsmasq started again")
    host.stop(signal.SIGKILL)
    host.start()
    wait_until(lambda: host.xe("network-list", "--minimal", check=False).returncode == 0, 20, "API")
    wait_until(lambda: len(dnsmasqs()) == 1, 10, "one dnsmasq after the restart")
    assert sh("nft", "list", "ruleset", ns=hostns).stdout == rules
    # Destroyed: nothing left.
    host.xe("vif-unplug", f"uuid={vif}")
    host.xe("vif-destroy", f"uuid={vif}")
    host.xe("network-destroy", f"uuid={net}")
    assert "hvnet" not in sh("nft", "list", "ruleset", ns=hostns).stdout
    wait_until(lambda: dnsmasqs() == [], 10, "dnsmasq gone")
    assert routes(hostns) == []


# A TCP server that answers each connection with the address it came from.
SERVER = """
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(4)
print("ready", flush=True)
while True:
    c, a = s.accept(); c.sendall(("peer " + a[0] + "\\n").encode()); c.close()
"""
CLIENT = """
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
print(c.recv(100).decode().strip())
"""
