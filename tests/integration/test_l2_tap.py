"""Two VMs (namespaces owning TAPs that hvnetd holds) on one network."""
import json
import os

from conftest import ping, received, sh, wait_until


def two_vm_topology(lab):
    return {"networks": [{"name": "net0", "mtu": 1500}],
            "ports": [{"name": lab.name("v1"), "type": "tap", "network": "net0"},
                      {"name": lab.name("v2"), "type": "tap", "network": "net0"}]}


def setup_two_vms(lab):
    d = lab.hvnetd(two_vm_topology(lab))
    ns1, ns2 = lab.netns("a"), lab.netns("b")
    lab.vm(lab.name("v1"), ns1, "10.77.0.1/24")
    lab.vm(lab.name("v2"), ns2, "10.77.0.2/24")
    return d, ns1, ns2


def test_vms_ping_each_other_and_macs_are_learned(lab):
    d, ns1, ns2 = setup_two_vms(lab)
    r = ping(ns1, "10.77.0.2", count=5)
    assert received(r) == 5
    mac1 = sh("cat", f"/sys/class/net/{lab.name('v1')}/address", ns=ns1).stdout.strip()
    fdb = {e["mac"]: e for e in d.fdb()}
    assert fdb[mac1]["port"] == lab.name("v1")
    assert fdb[mac1]["network"] == "net0"
    st = d.stats()
    assert st["ports"][lab.name("v2")]["tx_packets"] >= 5
    # Batched through io_uring unless switched off (as on kernels without it).
    want = "tap" if os.environ.get("HVNET_NO_IO_URING") else "tap-io_uring"
    assert st["ports"][lab.name("v2")]["backend"] == want


def test_tcp_with_default_offloads(lab):
    d, ns1, ns2 = setup_two_vms(lab)
    # The VM side keeps the kernel's default offloads (checksum and TSO on).
    feats = sh("ethtool", "-k", lab.name("v1"), ns=ns1).stdout
    assert "tx-checksumming: on" in feats
    assert "tcp-segmentation-offload: on" in feats
    server = lab.spawn("iperf3", "-s", "-1", "-B", "10.77.0.2", ns=ns2)
    wait_until(lambda: ":5201" in sh("ss", "-ltn", ns=ns2).stdout, 10, "iperf3 server")
    r = sh("iperf3", "-c", "10.77.0.2", "-t", "5", "-J", ns=ns1, timeout=60)
    result = json.loads(r.stdout)
    sent = result["end"]["sum_sent"]["bytes"]
    got = result["end"]["sum_received"]["bytes"]
    # A broken checksum/offload path moves nothing; a working one moves far more than 50 MB in 5 s.
    assert got > 50_000_000, f"only {got} bytes received"
    assert got <= sent
    server.wait(10)


def test_host_reaches_a_vm_through_its_internal_port(lab):
    host_if, v1 = lab.name("i"), lab.name("v1")
    d = lab.hvnetd({"networks": [{"name": "net0"}],
                    "ports": [{"name": host_if, "type": "internal", "network": "net0"},
                              {"name": v1, "type": "tap", "network": "net0"}]})
    # The host side of the network lives in its own namespace here, as the host stack would.
    hostns, vmns = lab.netns("h"), lab.netns("a")
    lab.vm(host_if, hostns, "10.77.1.254/24")
    lab.vm(v1, vmns, "10.77.1.1/24")
    assert received(ping(hostns, "10.77.1.1", count=3)) == 3
    assert d.stats()["ports"][host_if]["type"] == "internal"
