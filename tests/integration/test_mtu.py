"""Per-network MTU and malformed frames on real ports."""
from conftest import ping, received, sh, wait_until


def test_frames_over_the_network_mtu_do_not_pass(lab):
    v1, v2 = lab.name("a"), lab.name("b")
    d = lab.hvnetd({"networks": [{"name": "n", "mtu": 1400}],
                    "ports": [{"name": v1, "network": "n"}, {"name": v2, "network": "n"}]})
    ns1, ns2 = lab.netns("x"), lab.netns("y")
    # The VIF TAP carries the network MTU; the VM raises its own to try bigger frames.
    assert sh("cat", f"/sys/class/net/{v1}/mtu").stdout.strip() == "1400"
    lab.vm(v1, ns1, "10.78.0.1/24", mtu=9000)
    lab.vm(v2, ns2, "10.78.0.2/24", mtu=9000)
    assert received(ping(ns1, "10.78.0.2", count=2, size=1372, extra=["-M", "do"])) == 2
    r = ping(ns1, "10.78.0.2", count=3, size=2000, extra=["-M", "do"], check=False)
    assert received(r) == 0
    assert d.stats()["drops"]["mtu_exceeded"] >= 3


def test_malformed_frames_on_a_pif_are_counted_and_dropped(lab):
    pif, peer = lab.name("p"), lab.name("P")
    v1 = lab.name("a")
    phys = lab.netns("s")
    lab.veth(pif, peer, phys)
    d = lab.hvnetd({"networks": [{"name": "n"}],
                    "ports": [{"name": pif, "type": "pif", "network": "n"},
                              {"name": v1, "network": "n"}]})
    script = (
        "import socket\n"
        f"s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(('{peer}', 0))\n"
        "src = bytes.fromhex('020000000001'); bc = b'\\xff' * 6\n"
        "for _ in range(5): s.send(bc + b'\\x01' + src[1:] + b'\\x08\\x00' + bytes(46))\n"  # multicast source
        "for _ in range(4): s.send(bc + src + b'\\x81\\x00\\x00\\x63\\x08\\x00' + bytes(46))\n"  # VID 99: unknown
        "for _ in range(3): s.send(bc + bc + b'\\x08\\x00' + bytes(46))\n"   # broadcast source
    )
    sh("/usr/bin/python3", "-c", script, ns=phys)
    # (A truncated 802.1Q tag never reaches an AF_PACKET socket: the kernel's VLAN untagging drops
    # it first. The unit tests cover that case over the in-memory port.)
    wait_until(lambda: d.stats()["drops"]["vlan_unknown"] >= 4
               and d.stats()["drops"]["bad_source_mac"] >= 8, 5, "drop counters")
    st = d.stats()
    assert st["ports"][v1]["tx_packets"] == 0
    assert st["ports"][pif]["rx_dropped"] >= 12
    assert d.proc.poll() is None  # still running


def test_jumbo_frames_cross_a_pif_whole(lab):
    """A 9000-byte network: frames larger than an AF_PACKET ring slot are read whole from the
    socket, in order with the small ones around them, both ways."""
    pif, peer, vif = lab.name("p"), lab.name("P"), lab.name("v")
    phys, vm = lab.netns("s"), lab.netns("m")
    lab.veth(pif, peer, phys)
    d = lab.hvnetd({"networks": [{"name": "n", "mtu": 9000}],
                    "ports": [{"name": pif, "type": "pif", "network": "n"},
                              {"name": vif, "type": "tap", "network": "n"}]})
    sh("ip", "link", "set", peer, "mtu", "9000", ns=phys)
    sh("ip", "addr", "add", "10.77.0.1/24", "dev", peer, ns=phys)
    sh("ip", "link", "set", peer, "up", ns=phys)
    lab.vm(vif, vm, "10.77.0.2/24", mtu="9000")
    assert received(ping(vm, "10.77.0.1", count=3, size=8972, extra=["-M", "do"])) == 3
    assert received(ping(phys, "10.77.0.2", count=3, size=8972, extra=["-M", "do"])) == 3
    assert received(ping(phys, "10.77.0.2", count=3, size=100)) == 3
    assert d.stats()["ports"][pif]["rx_dropped"] == 0
