"""Port mirroring through xe (the distributed switch's SPAN): a session copies what a VM's VIF
receives and is sent to a destination VIF, which carries nothing else; the copies are exact (the
same frames, the same count and bytes as the source's own counters) for a ping and an iperf3
stream; status counts them; destroying the session stops it."""
import json

from conftest import Capture, mac_of, ping, received, sh, wait_until


def quiet(ns, tap):
    """No IPv6 chatter (router solicitations, MLD) to blur exact counts."""
    sh("sysctl", "-qw", f"net/ipv6/conf/{tap}/disable_ipv6=1", ns=ns)


def ipv4_or_arp(frames):
    return sorted(f for f in frames if f[12:14] in (b"\x08\x00", b"\x08\x06"))


def test_mirror_gets_an_exact_copy_of_a_vifs_ping_and_iperf3_stream(host, lab):
    net = host.xe("network-create", "name-label=spanned").stdout.strip()
    vms = {r: host.vm_on(net, r, f"10.82.0.{i}/24") for i, r in ((1, "a"), (2, "b"), (3, "mon"))}
    for _, _, ns, tap in vms.values():
        quiet(ns, tap)
    (_, vif_a, ns_a, tap_a), (_, _, ns_b, _), (_, vif_mon, ns_mon, tap_mon) = \
        vms["a"], vms["b"], vms["mon"]
    wait_until(lambda: received(ping(ns_a, "10.82.0.2", count=1, check=False)) == 1, 20,
               "a reaches b")
    bad = host.xe("port-mirror-create", "name-label=x", f"sources={vif_mon}",
                  f"destination-vif-uuid={vif_mon}", check=False)
    assert bad.returncode != 0 and "INVALID_VALUE" in bad.stderr
    span = host.xe("port-mirror-create", "name-label=span", f"sources={vif_a}",
                   f"destination-vif-uuid={vif_mon}").stdout.strip()
    assert span in host.xe("port-mirror-list", "--minimal").stdout
    # The destination is on no network now.
    assert received(ping(ns_mon, "10.82.0.1", count=2, check=False)) == 0

    at_a, at_mon = Capture(lab, ns_a, tap_a, 4), Capture(lab, ns_mon, tap_mon, 4)
    assert received(ping(ns_a, "10.82.0.2", count=5)) == 5
    mon_mac = bytes.fromhex(mac_of(ns_mon, tap_mon).replace(":", ""))
    sent_and_got = ipv4_or_arp(at_a.frames())
    copies = ipv4_or_arp(f for f in at_mon.frames() if f[6:12] != mon_mac)  # not its own ARP
    assert len(sent_and_got) >= 10  # 5 requests, 5 replies
    assert copies == sent_and_got

    def counters():
        st = host.ctl_request({"cmd": "stats"})["value"]["ports"]
        status = json.loads(json.dumps(host.ok("port_mirror.get_status", host.ok(
            "port_mirror.get_by_uuid", span))))
        return (int(status["packets"]), int(status["bytes"]),
                st[tap_a]["rx_packets"] + st[tap_a]["tx_packets"],
                st[tap_a]["rx_bytes"] + st[tap_a]["tx_bytes"], st[tap_mon]["tx_packets"])

    before = counters()
    server = lab.spawn("iperf3", "-s", "-1", "-B", "10.82.0.2", ns=ns_b)
    wait_until(lambda: "10.82.0.2:5201" in sh("ss", "-ltn", ns=ns_b).stdout, 10, "iperf3 server")
    sh("iperf3", "-c", "10.82.0.2", "-t", "2", ns=ns_a, timeout=60)
    server.wait(10)
    last = [None]

    def settled():
        now, last[0] = counters(), last[0]
        still = now == last[0]
        last[0] = now
        return still
    wait_until(settled, 10, "the counters stop moving")
    after = last[0]
    packets, nbytes, a_packets, a_bytes, mon_tx = (x - y for x, y in zip(after, before))
    print(f"mirrored {packets} frames, {nbytes} bytes; the VIF's own: {a_packets}, {a_bytes}")
    assert packets > 100
    assert (packets, nbytes) == (a_packets, a_bytes)
    assert mon_tx == packets
    shown = host.xe("port-mirror-param-get", f"uuid={span}", "param-name=status").stdout
    assert f"packets: {after[0]}" in shown, shown

    host.xe("port-mirror-destroy", f"uuid={span}")
    at_mon = Capture(lab, ns_mon, tap_mon, 2)
    assert received(ping(ns_a, "10.82.0.2", count=3)) == 3
    assert ipv4_or_arp(f for f in at_mon.frames() if f[6:12] != mon_mac) == []
