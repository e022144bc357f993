"""A VXLAN tunnel endpoint as a switch port: VMs on hvnet reach hosts behind another VTEP (here
the Linux kernel's own vxlan device in a namespace of its own), both ways, with learning, the
private network's MTU enforced, and the encapsulation as Wireshark expects it."""
import os
import subprocess

from conftest import ping, received, sh, wait_until
from test_pif_backend import iperf_bytes

VNI = 5001


def kernel_vtep(lab, underlay_root, underlay_peer, vni=VNI, inner="10.81.0.2/24"):
    """A namespace with a kernel vxlan device (VNI `vni`, UDP 4789) reached over a veth whose
    root-side end carries hvnet's transport address 10.80.0.1."""
    ns = lab.netns("k")
    lab.veth(underlay_root, underlay_peer, ns)
    sh("ip", "addr", "add", "10.80.0.1/30", "dev", underlay_root)
    sh("ip", "link", "set", underlay_root, "up")
    sh("ip", "addr", "add", "10.80.0.2/30", "dev", underlay_peer, ns=ns)
    vx = "vx" + str(vni)
    sh("ip", "link", "add", vx, "type", "vxlan", "id", str(vni), "dstport", "4789", "local",
       "10.80.0.2", "remote", "10.80.0.1", "dev", underlay_peer, ns=ns)
    sh("ip", "addr", "add", inner, "dev", vx, ns=ns)
    sh("ip", "link", "set", vx, "up", ns=ns)
    return ns, vx


def vxlan_topology(vif, vxport, vni=VNI, mtu=1450):
    return {"networks": [{"name": "priv", "mtu": mtu}],
            "ports": [{"name": vif, "type": "tap", "network": "priv"},
                      {"name": vxport, "type": "vxlan", "local": "10.80.0.1",
                       "tunnels": [{"vni": vni, "network": "priv", "remotes": ["10.80.0.2"]}]}]}


def tunnel_lab(lab):
    vif, vxport, ul, ulp = lab.name("v"), lab.name("x"), lab.name("u"), lab.name("U")
    kns, kvx = kernel_vtep(lab, ul, ulp)
    d = lab.hvnetd(vxlan_topology(vif, vxport))
    vm = lab.netns("m")
    lab.vm(vif, vm, "10.81.0.1/24", mtu="1450")
    return d, vif, vxport, vm, kns, kvx, ulp


def test_vm_and_kernel_vtep_reach_each_other(lab):
    d, vif, vxport, vm, kns, kvx, ulp = tunnel_lab(lab)
    assert received(ping(vm, "10.81.0.2", count=3)) == 3
    assert received(ping(kns, "10.81.0.1", count=3)) == 3
    # The kernel VTEP's MAC was learned behind its address, on the tunnel's VNI.
    st = d.stats()["ports"][vxport]
    tunnel = st["tunnel"]["tunnels"][0]
    assert tunnel["vni"] == VNI and tunnel["remotes"] == ["10.80.0.2"]
    kmac = sh("cat", f"/sys/class/net/{kvx}/address", ns=kns).stdout.strip()
    assert {"mac": kmac, "vtep": "10.80.0.2"} in [
        {"mac": e["mac"], "vtep": e["vtep"]} for e in tunnel["learned"]], tunnel


def test_tcp_with_default_offloads_crosses_the_tunnel(lab):
    d, vif, vxport, vm, kns, kvx, ulp = tunnel_lab(lab)
    assert "tcp-segmentation-offload: on" in sh("ethtool", "-k", vif, ns=vm).stdout
    # The VM's TSO super-frames are cut to the tunnel's MTU in hvnet; the kernel's replies come
    # back through its vxlan device.
    for server, client, addr in ((kns, vm, "10.81.0.2"), (vm, kns, "10.81.0.1")):
        got = iperf_bytes(lab, server, client, addr)
        assert got > 20_000_000, f"{client} -> {addr}: only {got} bytes"


def test_private_network_mtu_follows_the_underlay(lab):
    d, vif, vxport, vm, kns, kvx, ulp = tunnel_lab(lab)
    # 1422 bytes of ICMP payload + 28 = 1450: fits a 1500-byte underlay once wrapped.
    assert received(ping(vm, "10.81.0.2", count=2, size=1422, extra=("-M", "do"))) == 2
    # With the VM's MTU raised past the network's, the frame leaves the VM and hvnet drops it,
    # counted, every one of them.
    sh("ip", "link", "set", vif, "mtu", "1500", ns=vm)
    before = d.stats()["drops"]["mtu_exceeded"]
    r = ping(vm, "10.81.0.2", count=4, size=1423, extra=("-M", "do"), interval="0.05", check=False)
    assert received(r) == 0
    assert d.stats()["drops"]["mtu_exceeded"] - before == 4


def test_tshark_dissects_the_encapsulation_without_warnings(lab, tmp_path):
    d, vif, vxport, vm, kns, kvx, ulp = tunnel_lab(lab)
    pcap = str(tmp_path / "vxlan.pcap")
    cap = lab.spawn("tshark", "-i", ulp, "-f", "udp port 4789", "-c", "6", "-w", pcap, ns=kns)
    # (tshark writes the file's header once it captures: from then on the pings are seen.)
    wait_until(lambda: cap.poll() is not None or os.path.exists(pcap) and os.path.getsize(pcap) > 0,
               15, "tshark capturing")
    assert received(ping(vm, "10.81.0.2", count=3)) == 3
    cap.wait(30)
    text = subprocess.run(["tshark", "-r", pcap, "-V"], capture_output=True, text=True).stdout
    assert "Virtual eXtensible Local Area Network" in text, text[:2000]
    assert f"VXLAN Network Identifier (VNI): {VNI}" in text
    expert = subprocess.run(["tshark", "-r", pcap, "-q", "-z", "expert,warn"],
                            capture_output=True, text=True).stdout
    assert "Warning" not in expert and "Error" not in expert, expert


def two_hosts(lab, nets):
    """Two hvnetd 'hosts' whose transport addresses are 127.0.0.1 and 127.0.0.2 (the underlay is
    the loopback), each with a VM per private network; nets = [(network, vni, vm address)].
    Returns {(host, network): vm namespace}."""
    vms = {}
    for h, (local, remote) in enumerate((("127.0.0.1", "127.0.0.2"), ("127.0.0.2", "127.0.0.1"))):
        ports, tunnels = [], []
        for net, vni, _ in nets:
            ports.append({"name": lab.name(f"{h}{net}"), "type": "tap", "network": net})
            tunnels.append({"vni": vni, "network": net, "remotes": [remote]})
        ports.append({"name": lab.name(f"{h}x"), "type": "vxlan", "local": local,
                      "tunnels": tunnels})
        lab.hvnetd({"networks": [{"name": n, "mtu": 1450} for n, _, _ in nets], "ports": ports},
                   instance=f"host{h}")
        for net, _, addr in nets:
            ns = lab.netns(f"{h}{net}m")
            lab.vm(lab.name(f"{h}{net}"), ns, f"{addr}.{h + 1}/24", mtu="1450")
            vms[(h, net)] = ns
    return vms


def test_two_hosts_keep_private_networks_with_the_same_addresses_apart(lab):
    vms = two_hosts(lab, [("a", 100, "10.82.0"), ("b", 200, "10.82.0")])
    for net in ("a", "b"):
        assert received(ping(vms[(0, net)], "10.82.0.2", count=2)) == 2
    # Each VM found its own network's peer behind 10.82.0.2, not the other network's.
    for net in ("a", "b"):
        peer_mac = sh("cat", f"/sys/class/net/{lab.name('1' + net)}/address",
                      ns=vms[(1, net)]).stdout.strip()
        neigh = sh("ip", "neigh", "show", "10.82.0.2", ns=vms[(0, net)]).stdout
        assert peer_mac in neigh, (net, neigh, peer_mac)


def test_tcp_between_vms_on_two_hosts(lab):
    vms = two_hosts(lab, [("a", 300, "10.83.0")])
    assert received(ping(vms[(0, "a")], "10.83.0.2", count=2)) == 2
    got = iperf_bytes(lab, vms[(1, "a")], vms[(0, "a")], "10.83.0.2")
    assert got > 20_000_000, f"only {got} bytes"
