"""Switch-port locking against a spoofing tenant: scapy (Debian's python3-scapy) in the tenant's
namespace forges ARP replies, IPv4 and IPv6 sources and a MAC; the victim sees none of it while
the tenant's own traffic on its allowed addresses works, and allowed addresses change live."""
import subprocess

from conftest import Capture, ping, received, sh, wait_until

TENANT_MAC, VICTIM_MAC = "00:16:3e:aa:00:01", "00:16:3e:aa:00:02"


def locked_pair(lab, host):
    net = host.xe("network-create", "name-label=tenants").stdout.strip()
    vifs, nss, cidrs = {}, {}, {"tenant": "10.91.0.1/24", "victim": "10.91.0.2/24"}
    for name, mac, in (("tenant", TENANT_MAC), ("victim", VICTIM_MAC)):
        vm, vif, ns, tap = host.vm_on(net, name[0], cidrs[name], mac=mac, name=name)
        vifs[name] = vif
        nss[name] = (ns, tap)
    host.xe("vif-param-set", f"uuid={vifs['tenant']}", "locking-mode=locked",
            "ipv4-allowed=10.91.0.1,10.91.0.3", "ipv6-allowed=fd00::1")
    tns, tdev = nss["tenant"]
    vns, vdev = nss["victim"]
    sh("ip", "addr", "add", "10.91.0.3/24", "dev", tdev, ns=tns)
    for ns, dev, a in ((tns, tdev, "fd00::1/64"), (vns, vdev, "fd00::2/64")):
        sh("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=0", ns=ns)
        sh("sysctl", "-qw", f"net/ipv6/conf/{dev}/disable_ipv6=0", ns=ns)
        sh("ip", "-6", "addr", "add", a, "dev", dev, "nodad", ns=ns)
    return net, vifs, nss


SPOOFER = r"""
import sys
from scapy.all import Ether, ARP, IP, IPv6, ICMP, ICMPv6EchoRequest, ICMPv6ND_RA, UDP, Raw, sendp
dev, me, victim = sys.argv[1], sys.argv[2], sys.argv[3]
frames = [
    # ARP reply claiming the gateway's address is ours
    Ether(src=me, dst=victim) / ARP(op=2, hwsrc=me, psrc="10.91.0.254", hwdst=victim, pdst="10.91.0.2"),
    # spoofed IPv4 and IPv6 sources
    Ether(src=me, dst=victim) / IP(src="10.91.0.77", dst="10.91.0.2") / ICMP() / Raw(b"SPOOF-v4"),
    Ether(src=me, dst=victim) / IPv6(src="fd00::77", dst="fd00::2") / ICMPv6EchoRequest() / Raw(b"SPOOF-v6"),
    # a forged Ethernet source with an allowed IP
    Ether(src="00:16:3e:aa:00:99", dst=victim) / IP(src="10.91.0.1", dst="10.91.0.2") / ICMP() / Raw(b"SPOOF-mac"),
    # router advertisement from a VM
    Ether(src=me, dst="33:33:00:00:00:01") / IPv6(src="fd00::1", dst="ff02::1") / ICMPv6ND_RA() / Raw(b"SPOOF-ra"),
    # and the tenant's own legitimate traffic
    Ether(src=me, dst=victim) / IP(src="10.91.0.1", dst="10.91.0.2") / UDP(dport=9) / Raw(b"LEGIT-v4"),
    Ether(src=me, dst=victim) / IPv6(src="fd00::1", dst="fd00::2") / UDP(dport=9) / Raw(b"LEGIT-v6"),
]
for f in frames:
    sendp(f, iface=dev, verbose=False, count=3)
"""


def test_spoofed_frames_never_reach_the_victim(host, lab):
    net, vifs, nss = locked_pair(lab, host)
    (tns, tdev), (vns, vdev) = nss["tenant"], nss["victim"]
    assert received(ping(tns, "10.91.0.2", count=2)) == 2
    seen = Capture(lab, vns, vdev, 4)
    sh("/usr/bin/python3", "-c", SPOOFER, tdev, TENANT_MAC, VICTIM_MAC, ns=tns)
    frames = seen.frames()
    blob = b"".join(frames)
    assert b"LEGIT-v4" in blob and b"LEGIT-v6" in blob
    leaked = [f for f in frames if b"SPOOF" in f]
    assert not leaked, [f.hex() for f in leaked]
    arp_claims = [f for f in frames if f[12:14] == b"\x08\x06" and f[28:32] == bytes([10, 91, 0, 254])]
    assert arp_claims == []
    assert all(f[6:12] != bytes.fromhex("00163eaa0099") for f in frames)
    st = host.ctl_request({"cmd": "stats"})["value"]["drops"]
    for reason in ("lock_arp", "lock_ipv4", "lock_ipv6", "lock_mac", "lock_ra"):
        assert st[reason] >= 3, (reason, st)
    reasons = {d["reason"] for d in host.ctl_request({"cmd": "drops"})["value"] if d["port"] == tdev}
    assert {"lock_arp", "lock_ipv4", "lock_ipv6", "lock_mac"} <= reasons
    # Several IPs per VIF: the second allowed address works too.
    assert received(ping(tns, "10.91.0.2", count=2, extra=["-I", "10.91.0.3"])) == 2
    assert received(ping(tns, "fd00::2", count=2)) == 2


def test_allowed_addresses_change_live_without_a_ping_gap(host, lab):
    net, vifs, nss = locked_pair(lab, host)
    (tns, tdev), (vns, vdev) = nss["tenant"], nss["victim"]
    sh("ip", "addr", "add", "10.91.0.5/24", "dev", tdev, ns=tns)
    assert received(ping(tns, "10.91.0.2", count=1, extra=["-I", "10.91.0.5"], check=False)) == 0
    pinger = lab.spawn("ping", "-n", "-c", "300", "-i", "0.01", "-W", "1", "10.91.0.2", ns=tns)
    assert pinger.stdout.readline().startswith("PING")
    for _ in range(5):
        host.xe("vif-param-add", f"uuid={vifs['tenant']}", "param-name=ipv4-allowed", "param-key=10.91.0.5")
        host.xe("vif-param-remove", f"uuid={vifs['tenant']}", "param-name=ipv4-allowed", "param-key=10.91.0.5")
    host.xe("vif-param-add", f"uuid={vifs['tenant']}", "param-name=ipv4-allowed", "param-key=10.91.0.5")
    out, _ = pinger.communicate(timeout=60)
    assert " 300 received" in out, out
    assert received(ping(tns, "10.91.0.2", count=2, extra=["-I", "10.91.0.5"])) == 2
    allowed = host.xe("vif-param-get", f"uuid={vifs['tenant']}", "param-name=ipv4-allowed").stdout.strip()
    assert allowed == "10.91.0.1; 10.91.0.3; 10.91.0.5"


def test_disabled_and_default_locking_mode(host, lab):
    net, vifs, nss = locked_pair(lab, host)
    (tns, tdev), (vns, vdev) = nss["tenant"], nss["victim"]
    host.xe("vif-param-set", f"uuid={vifs['tenant']}", "locking-mode=disabled")
    assert received(ping(tns, "10.91.0.2", count=2, check=False)) == 0
    host.xe("vif-param-set", f"uuid={vifs['tenant']}", "locking-mode=network_default")
    assert received(ping(tns, "10.91.0.2", count=2)) == 2  # network default: unlocked
    r = host.xe("network-param-set", f"uuid={net}", "default-locking-mode=disabled", check=False)
    assert r.returncode == 1 and "VIF_IN_USE" in r.stderr
    assert host.xe("network-param-get", f"uuid={net}", "param-name=default-locking-mode").stdout.strip() == "unlocked"
    # With no allowed address at all, a locked VIF passes nothing.
    host.xe("vif-param-set", f"uuid={vifs['tenant']}", "locking-mode=locked", "ipv4-allowed=", "ipv6-allowed=")
    assert received(ping(tns, "10.91.0.2", count=2, check=False)) == 0
    for vif in vifs.values():
        host.xe("vif-unplug", f"uuid={vif}")
    host.xe("network-param-set", f"uuid={net}", "default-locking-mode=disabled")
    assert host.xe("network-param-get", f"uuid={net}", "param-name=default-locking-mode").stdout.strip() == "disabled"


def test_locking_commands_reject_bad_input_and_change_nothing(host, lab):
    net, vifs, nss = locked_pair(lab, host)
    before = host.xe("vif-param-list", f"uuid={vifs['tenant']}").stdout
    for args, code in ((["ipv4-allowed=10.91.0.300"], "INVALID_IP_ADDRESS_SPECIFIED"),
                       (["ipv6-allowed=fd00::zz"], "INVALID_IP_ADDRESS_SPECIFIED"),
                       (["locking-mode=sometimes"], "INVALID_VALUE"),
                       (["qos_algorithm_type=fair"], "INVALID_VALUE"),
                       (["qos_algorithm_params:kbps=fast"], "INVALID_VALUE"),
                       (["qos_algorithm_params:kbps=0"], "INVALID_VALUE")):
        r = host.xe("vif-param-set", f"uuid={vifs['tenant']}", *args, check=False)
        assert r.returncode == 1 and code in r.stderr, (args, r.stderr)
    r = host.xe("network-param-set", f"uuid={net}", "default-locking-mode=locked", check=False)
    assert r.returncode == 1 and "INVALID_VALUE" in r.stderr
    assert host.xe("vif-param-list", f"uuid={vifs['tenant']}").stdout == before
