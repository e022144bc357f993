"""PIFs over each backend (ctest runs this file with HVNET_PIF_BACKEND=af_xdp and =af_packet):
the backend asked for is the one in use, and TCP (both families) and UDP with the kernel's
default offloads cross PIF<->VIF and PIF<->PIF in both directions, whatever the backend can
carry of the offload metadata."""
import json
import os
import signal

from conftest import PIF_BACKEND, ping, received, sh, wait_until

EXPECTED = {"af_xdp": ("af_xdp-native", "af_xdp-generic"), "af_xdp-generic": ("af_xdp-generic",),
            "af_packet": ("af_packet",)}


def enable_ipv6(ns, dev, cidr):
    sh("sysctl", "-qw", f"net.ipv6.conf.{dev}.disable_ipv6=0", ns=ns)
    sh("ip", "-6", "addr", "add", cidr, "dev", dev, "nodad", ns=ns)


def wire_sized_frames(*peers):
    """Generic XDP sees a veth peer's TSO super-frames whole, and they do not fit an AF_XDP chunk
    (native mode makes the peer segment; a NIC's wire frames fit): under generic mode the peers
    (device, namespace) send wire-sized frames. Checksum offload stays on: partial checksums are
    still carried across."""
    if PIF_BACKEND == "af_xdp-generic":
        for dev, ns in peers:
            sh("ethtool", "-K", dev, "tso", "off", "gso", "off", ns=ns)


def pif_and_vm(lab, mtu=1500):
    """A 'physical' namespace behind a veth PIF and a VM on a TAP, one network."""
    pif, peer, vif = lab.name("p"), lab.name("P"), lab.name("v")
    phys, vm = lab.netns("s"), lab.netns("m")
    lab.veth(pif, peer, phys)
    d = lab.hvnetd({"networks": [{"name": "n", "mtu": mtu}],
                    "ports": [{"name": pif, "type": "pif", "network": "n"},
                              {"name": vif, "type": "tap", "network": "n"}]})
    sh("ip", "link", "set", peer, "mtu", str(mtu), ns=phys)
    sh("ip", "addr", "add", "10.79.0.1/24", "dev", peer, ns=phys)
    lab.vm(vif, vm, "10.79.0.2/24", mtu=str(mtu))
    enable_ipv6(phys, peer, "fd79::1/64")
    enable_ipv6(vm, vif, "fd79::2/64")
    return d, pif, phys, peer, vm, vif


def iperf_json(lab, server_ns, client_ns, addr, *extra, secs=2):
    server = lab.spawn("iperf3", "-s", "-1", "-B", addr, ns=server_ns)
    wait_until(lambda: ":5201" in sh("ss", "-ltnu", ns=server_ns).stdout, 10, "iperf3 server")
    r = sh("iperf3", "-c", addr, "-t", str(secs), "-J", *extra, ns=client_ns, timeout=60)
    server.wait(10)
    return json.loads(r.stdout)


def iperf_end(lab, server_ns, client_ns, addr, *extra, secs=2):
    return iperf_json(lab, server_ns, client_ns, addr, *extra, secs=secs)["end"]


def iperf_bytes(lab, server_ns, client_ns, addr):
    return iperf_end(lab, server_ns, client_ns, addr)["sum_received"]["bytes"]


def test_backend_in_use_is_the_one_asked_for(lab):
    d, pif, *_ = pif_and_vm(lab)
    stats = d.stats()
    assert stats["threads"] == int(os.environ.get("HVNET_THREADS", "1"))
    port = stats["ports"][pif]
    backend = port["backend"]
    if PIF_BACKEND:
        assert backend in EXPECTED[PIF_BACKEND], backend
        assert port["backend_reason"].startswith("--pif-backend " + PIF_BACKEND)
    else:
        # The default takes AF_XDP only with zero-copy, which no veth offers: AF_PACKET, and it
        # says why (the kernel's own word on the driver).
        assert backend == "af_packet", backend
        assert "veth offers no AF_XDP zero-copy" in port["backend_reason"], port


def test_tcp_with_default_offloads_between_pif_and_vif(lab):
    d, pif, phys, peer, vm, vif = pif_and_vm(lab)
    feats = sh("ethtool", "-k", vif, ns=vm).stdout
    assert "tx-checksumming: on" in feats and "tcp-segmentation-offload: on" in feats
    assert "tx-checksumming: on" in sh("ethtool", "-k", peer, ns=phys).stdout
    wire_sized_frames((peer, phys))
    # A broken checksum or segmentation path moves (next to) nothing; a working one far more
    # than 20 MB in 2 s on any backend.
    for server, client, addr in ((vm, phys, "10.79.0.2"), (phys, vm, "10.79.0.1"),
                                 (vm, phys, "fd79::2"), (phys, vm, "fd79::1")):
        got = iperf_bytes(lab, server, client, addr)
        assert got > 20_000_000, f"{client} -> {addr}: only {got} bytes"


def test_udp_with_default_offloads_between_pif_and_vif(lab):
    d, pif, phys, peer, vm, vif = pif_and_vm(lab)
    for server, client, addr in ((vm, phys, "10.79.0.2"), (phys, vm, "10.79.0.1")):
        end = iperf_end(lab, server, client, addr, "-u", "-b", "20M", "-l", "1200", secs=1)
        got = end["sum_received"]
        # Datagrams with a bad checksum never reach the server's socket.
        assert got["packets"] > 1000 and got["lost_percent"] < 5, (client, got)


def test_tcp_between_two_pifs(lab):
    p1, q1, p2, q2 = lab.name("p1"), lab.name("q1"), lab.name("p2"), lab.name("q2")
    a, b = lab.netns("a"), lab.netns("b")
    lab.veth(p1, q1, a)
    lab.veth(p2, q2, b)
    d = lab.hvnetd({"networks": [{"name": "n"}],
                    "ports": [{"name": p1, "type": "pif", "network": "n"},
                              {"name": p2, "type": "pif", "network": "n"}]})
    wire_sized_frames((q1, a), (q2, b))
    sh("ip", "addr", "add", "10.79.1.1/24", "dev", q1, ns=a)
    sh("ip", "addr", "add", "10.79.1.2/24", "dev", q2, ns=b)
    assert received(ping(a, "10.79.1.2", count=3)) == 3
    got = iperf_bytes(lab, b, a, "10.79.1.2")
    assert got > 20_000_000, f"only {got} bytes"
    st = d.stats()
    if PIF_BACKEND:
        assert st["ports"][p1]["backend"] in EXPECTED[PIF_BACKEND]


def test_jumbo_network_pif_carries_large_frames(lab):
    # One AF_XDP chunk holds 3.8 KB: a 9000-byte network puts its PIF on AF_PACKET.
    d, pif, phys, peer, vm, vif = pif_and_vm(lab, mtu=9000)
    assert d.stats()["ports"][pif]["backend"] == "af_packet"
    r = ping(phys, "10.79.0.2", count=3, size=8900, extra=("-M", "do"))
    assert received(r) == 3


def veth_queue_redirects(dev):
    """Frames native XDP handed to AF_XDP sockets, per receive queue of a veth."""
    stats = sh("ethtool", "-S", dev).stdout
    return [int(line.split(":")[1]) for line in stats.splitlines()
            if line.strip().startswith("rx_queue_") and "_xdp_redirect:" in line]


def test_every_receive_queue_of_a_pif_is_served(lab):
    # A NIC spreads flows over its receive queues; AF_XDP binds one socket per queue. A veth with
    # two queues stands in: pings from different source addresses land on one queue or the
    # other, and every one of them must get its reply.
    pif, peer, vif = lab.name("p"), lab.name("P"), lab.name("v")
    phys, vm = lab.netns("s"), lab.netns("m")
    sh("ip", "link", "add", pif, "numtxqueues", "2", "numrxqueues", "2", "type", "veth", "peer",
       "name", peer, "numtxqueues", "2", "numrxqueues", "2", "netns", phys)
    lab._undo.append(lambda: sh("ip", "link", "del", pif, check=False))
    assert sorted(os.listdir(f"/sys/class/net/{pif}/queues")) == ["rx-0", "rx-1", "tx-0", "tx-1"]
    d = lab.hvnetd({"networks": [{"name": "n"}],
                    "ports": [{"name": pif, "type": "pif", "network": "n"},
                              {"name": vif, "type": "tap", "network": "n"}]})
    sh("ip", "addr", "add", "10.79.2.1/24", "dev", peer, ns=phys)
    sh("ip", "link", "set", peer, "up", ns=phys)
    lab.vm(vif, vm, "10.79.2.2/24")
    native = d.stats()["ports"][pif]["backend"] == "af_xdp-native"
    # The queue follows the flow hash: vary the source address.
    for host in range(10, 42):
        sh("ip", "addr", "add", f"10.79.2.{host}/24", "dev", peer, ns=phys)
        r = ping(phys, "10.79.2.2", count=1, extra=("-I", f"10.79.2.{host}"), check=False)
        assert received(r) == 1, f"no reply to 10.79.2.{host}: {r.stdout}"
        if host >= 17 and (not native or min(veth_queue_redirects(pif)) > 0):
            break
    if native:  # the veth's own counters: both queues carried frames to our sockets
        assert min(veth_queue_redirects(pif)) > 0, veth_queue_redirects(pif)


SEND_FRAMES = """
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
frame = bytes.fromhex("02aabbccdd01" "02aabbccdd02" "88b5") + bytes(50)  # to nobody, local type
for _ in range(int(sys.argv[2])):
    s.send(frame)
"""


def test_frames_the_kernel_dropped_while_hvnet_stalled_are_counted(lab):
    # A stalled forwarding thread loses frames in the kernel (its ring or queue fills). The
    # operator sees how many: every frame sent is either received or counted missed.
    d, pif, phys, peer, vm, vif = pif_and_vm(lab)
    sh("sysctl", "-qw", f"net.ipv6.conf.{peer}.disable_ipv6=1", ns=phys)  # (no chatter)
    before = d.stats()["ports"][pif]
    sent = 5000
    os.kill(d.proc.pid, signal.SIGSTOP)
    try:
        sh("python3", "-c", SEND_FRAMES, peer, str(sent), ns=phys)
    finally:
        os.kill(d.proc.pid, signal.SIGCONT)

    def accounted():
        port = d.stats()["ports"][pif]
        return (port["rx_packets"] - before["rx_packets"]) + (port["rx_missed"] - before["rx_missed"])

    wait_until(lambda: accounted() >= sent, 10, "every frame received or counted missed")
    port = d.stats()["ports"][pif]
    assert port["rx_missed"] - before["rx_missed"] > 0, port
    assert accounted() <= sent + 20, port  # (a few frames of the peer's own, at most)
