"""A network's security policy (vSphere's port group policy) on its VIFs, through xe: promiscuous
mode, forged transmits and MAC changes, each reject or accept, applied live."""
from conftest import Capture, mac_of, ping, received, sh, wait_until

SEND_FORGED = (
    "import sys\n"
    "from scapy.all import Ether, IP, ICMP, sendp\n"
    "sendp(Ether(dst=sys.argv[2], src='00:16:3e:55:55:55') / IP(src=sys.argv[3], dst=sys.argv[4])"
    " / ICMP(), iface=sys.argv[1], count=5, inter=0.1, verbose=False)\n")


def icmp_between(frames, src_mac, dst_mac):
    s, d = (bytes.fromhex(m.replace(":", "")) for m in (src_mac, dst_mac))
    return [f for f in frames if f[0:6] == d and f[6:12] == s and f[12:14] == b"\x08\x00"
            and f[23] == 1]


def test_promiscuous_vif_sees_the_others_unicast_and_forged_sources_are_dropped(host, lab):
    net = host.xe("network-create", "name-label=pg").stdout.strip()
    assert host.xe("network-param-get", f"uuid={net}",
                   "param-name=promiscuous-mode").stdout.strip() == "reject"
    _, _, ns_a, tap_a = host.vm_on(net, "a", "10.81.0.1/24")
    _, _, ns_b, tap_b = host.vm_on(net, "b", "10.81.0.2/24")
    _, _, ns_s, tap_s = host.vm_on(net, "s", "10.81.0.3/24")
    mac_a, mac_b = mac_of(ns_a, tap_a), mac_of(ns_b, tap_b)
    wait_until(lambda: received(ping(ns_a, "10.81.0.2", count=1, check=False)) == 1, 20,
               "a reaches b")

    # Rejecting (the default): the third VM does not see a's pings to b.
    seen = Capture(lab, ns_s, tap_s, 2)
    assert received(ping(ns_a, "10.81.0.2", count=4)) == 4
    assert icmp_between(seen.frames(), mac_a, mac_b) == []

    bad = host.xe("network-param-set", f"uuid={net}", "promiscuous-mode=sometimes", check=False)
    assert bad.returncode != 0 and "INVALID_VALUE" in bad.stderr
    host.xe("network-param-set", f"uuid={net}", "promiscuous-mode=accept")
    seen = Capture(lab, ns_s, tap_s, 2)
    assert received(ping(ns_a, "10.81.0.2", count=4)) == 4
    assert len(icmp_between(seen.frames(), mac_a, mac_b)) == 4

    # Forged transmits: accepted, a frame from another source MAC reaches b; rejected, it is
    # dropped (port locking's lock_mac) while a's own traffic goes on.
    host.xe("network-param-set", f"uuid={net}", "promiscuous-mode=reject")

    def forged_seen():
        at_b = Capture(lab, ns_b, tap_b, 2)
        sh("/usr/bin/python3", "-c", SEND_FORGED, tap_a, mac_b, "10.81.0.1", "10.81.0.2",
           ns=ns_a)
        return [f for f in at_b.frames() if f[6:12] == bytes.fromhex("00163e555555")]

    assert len(forged_seen()) == 5

    def lock_mac():
        return host.ctl_request({"cmd": "stats"})["value"]["drops"].get("lock_mac", 0)

    before = lock_mac()
    host.xe("network-param-set", f"uuid={net}", "forged-transmits=reject")
    assert forged_seen() == []
    assert lock_mac() - before == 5
    assert received(ping(ns_a, "10.81.0.2", count=3)) == 3
