"""Private networks across hosts. In a pool, tunnel-create on each host's transport PIF and
hvnet, its own controller, gives the network one key and a full mesh of tunnels between the
hosts' transport addresses: VMs on different hosts ping and run TCP with default offloads over
VXLAN and over GRE (xapi's default protocol), two networks with the same inner addresses stay
apart, a host that leaves takes its tunnels with it without a loss between the others, and a
host that moves its transport address is followed. Outside a pool, VTEPs added to a network
(network.external_VTEPs) interoperate: the Linux kernel's vxlan device over a VLAN-tagged
underlay, and Open vSwitch's vxlan and gre ports, with tshark dissecting what crosses. See
pool_lab.py for the pool's hosts."""
import os
import subprocess

from conftest import ping, received, sh, wait_until
from test_pif_backend import iperf_bytes
from test_pool import pool, vm_on  # noqa: F401 (pool: the fixture)


def transport_ip(pool, i):
    return f"10.78.{pool.lab.n % 250}.{i + 1}"


def three_host_pool(pool, hosts=3):
    """A pool of `hosts`; each host's eth0 is its transport PIF, plugged, on 10.78.<run>.<i+1>."""
    master = pool.start_host(0, found=True)
    for i in range(1, hosts):
        pool.start_host(i)
        pool.join(i)
    every = {h.host_uuid for h in pool.hosts[:hosts]}
    wait_until(lambda: pool.hosts_seen_by(0) == every, 10, "every host in the pool")
    transport = []
    for i, h in enumerate(pool.hosts[:hosts]):
        pif = master.xe("pif-list", f"host-uuid={h.host_uuid}", f"device={pool.prefix}e0",
                        "VLAN=-1", "--minimal").stdout.strip()
        master.xe("pif-plug", f"uuid={pif}")
        master.xe("pif-reconfigure-ip", f"uuid={pif}", "mode=static", f"IP={transport_ip(pool, i)}",
                  "netmask=255.255.255.0")
        transport.append(pif)
    return master, transport


def vm(pool, i, network, cidr, role, mtu=1450):
    """A VM on host i with one VIF on `network`, in namespace `role`: (VIF, namespace)."""
    _, vif, ns = vm_on(pool, i, network, cidr, role=role, mtu=mtu)
    return vif, ns


def vtep(h, protocol="vxlan"):
    """This host's tunnel port of `protocol` in hvnetctl stats (None without one)."""
    for name, port in h.ctl_request({"cmd": "stats"})["value"]["ports"].items():
        if port.get("tunnel", {}).get("protocol") == protocol:
            return port["tunnel"]
    return None


def remotes(h, vni, protocol="vxlan"):
    v = vtep(h, protocol)
    for t in (v or {}).get("tunnels", []):
        if t["vni"] == vni:
            return sorted(t["remotes"])
    return None


def test_a_plain_tunnel_create_is_gre_with_xapis_refusals(pool):
    master, transport = three_host_pool(pool, hosts=1)
    net = master.xe("network-create", "name-label=priv").stdout.strip()
    r = master.xe("tunnel-create", f"pif-uuid={transport[0]}", f"network-uuid={net}", "protocol=ipip",
                  check=False)
    assert r.returncode != 0 and "INVALID_VALUE" in r.stderr, r.stderr
    tn = master.xe("tunnel-create", f"pif-uuid={transport[0]}", f"network-uuid={net}").stdout.strip()
    assert master.xe("tunnel-param-get", f"uuid={tn}", "param-name=protocol").stdout.strip() == "gre"
    access = master.xe("tunnel-param-get", f"uuid={tn}", "param-name=access-PIF").stdout.strip()
    assert master.xe("pif-param-get", f"uuid={access}", "param-name=device").stdout.strip() == "tunnel0"
    assert tn in master.xe("tunnel-list", "--minimal").stdout
    # The transport PIF of a tunnel is not forgotten; an access PIF carries no other tunnel.
    r = master.xe("pif-forget", f"uuid={transport[0]}", check=False)
    assert r.returncode != 0 and "PIF_TUNNEL_STILL_EXISTS" in r.stderr, r.stderr
    other = master.xe("network-create", "name-label=other").stdout.strip()
    r = master.xe("tunnel-create", f"pif-uuid={access}", f"network-uuid={other}", check=False)
    assert r.returncode != 0 and "IS_TUNNEL_ACCESS_PIF" in r.stderr, r.stderr
    # A PIF without an IP configuration carries no tunnel.
    e1 = master.xe("pif-list", f"device={pool.prefix}e1", "--minimal").stdout.strip()
    r = master.xe("tunnel-create", f"pif-uuid={e1}", f"network-uuid={other}", check=False)
    assert r.returncode != 0 and "TRANSPORT_PIF_NOT_CONFIGURED" in r.stderr, r.stderr
    master.xe("tunnel-destroy", f"uuid={tn}")
    assert master.xe("tunnel-list", "--minimal").stdout.strip() == ""


def test_vms_on_three_hosts_share_a_private_network_and_a_leaving_host_takes_its_tunnels(pool):
    master, transport = three_host_pool(pool)
    nets = {}
    for label in ("a", "b"):
        nets[label] = master.xe("network-create", f"name-label=priv-{label}", "MTU=1450").stdout.strip()
        for pif in transport:
            master.xe("tunnel-create", f"pif-uuid={pif}", f"network-uuid={nets[label]}",
                      "protocol=vxlan")
    tunnels = master.ok("tunnel.get_all_records")
    keys = {}
    for t in tunnels.values():
        net = master.ok("PIF.get_network", t["access_PIF"])
        keys.setdefault(net, set()).add(t["status"]["key"])
        assert t["status"]["active"] == "true", t
    assert all(len(k) == 1 for k in keys.values()) and len(keys) == 2, keys
    vni_a = int(next(iter(keys[master.ok("network.get_by_uuid", nets["a"])])))
    # Every host reaches the two others on each network.
    for i, h in enumerate(pool.hosts):
        want = sorted(transport_ip(pool, j) for j in range(3) if j != i)
        wait_until(lambda: remotes(h, vni_a) == want, 10, f"host {i}'s remotes")

    _, a0 = vm(pool, 0, nets["a"], "192.168.77.1/24", "a0")
    _, a1 = vm(pool, 1, nets["a"], "192.168.77.2/24", "a1")
    vif2, a2 = vm(pool, 2, nets["a"], "192.168.77.3/24", "a2")
    _, b0 = vm(pool, 0, nets["b"], "192.168.77.1/24", "b0")
    vif_b1, b1 = vm(pool, 1, nets["b"], "192.168.77.2/24", "b1")
    assert received(ping(a0, "192.168.77.2", count=3)) == 3
    assert received(ping(a0, "192.168.77.3", count=3)) == 3
    assert received(ping(a2, "192.168.77.2", count=3)) == 3
    # Same addresses on network b: b0 reaches b1, whose MAC it learns, not a1's.
    assert received(ping(b0, "192.168.77.2", count=3)) == 3
    b1_mac = master.xe("vif-param-get", f"uuid={vif_b1}", "param-name=MAC").stdout.strip()
    assert b1_mac in sh("ip", "neigh", "show", "192.168.77.2", ns=b0).stdout
    # TCP with the VMs' default offloads, both ways across the tunnel.
    for server, client, addr in ((a1, a0, "192.168.77.2"), (a0, a1, "192.168.77.1")):
        got = iperf_bytes(pool.lab, server, client, addr)
        assert got > 20_000_000, f"{client} -> {addr}: only {got} bytes"

    # GRE, xapi's default protocol, on hosts 0 and 1: 1500 - 20 (IPv4) - 8 (GRE with a key) - 14.
    net_c = master.xe("network-create", "name-label=priv-c", "MTU=1458").stdout.strip()
    for pif in transport[:2]:
        master.xe("tunnel-create", f"pif-uuid={pif}", f"network-uuid={net_c}")
    for i in (0, 1):
        wait_until(lambda: remotes(pool.hosts[i], 3, "gre") == [transport_ip(pool, 1 - i)], 10,
                   f"host {i}'s GRE remotes")
    _, c0 = vm(pool, 0, net_c, "192.168.77.1/24", "c0", mtu=1458)
    _, c1 = vm(pool, 1, net_c, "192.168.77.2/24", "c1", mtu=1458)
    assert received(ping(c0, "192.168.77.2", count=3, size=1430, extra=("-M", "do"))) == 3
    got = iperf_bytes(pool.lab, c1, c0, "192.168.77.2")
    assert got > 20_000_000, f"GRE: only {got} bytes"

    # Host 2 leaves the pool: its tunnels go, and the others stop sending to it, while traffic
    # between the hosts that stay goes on without a loss (their endpoints change in place).
    pool.hosts[2].xe("vif-unplug", f"uuid={vif2}")
    during = pool.lab.spawn("ping", "-n", "-c", "100", "-i", "0.03", "-W", "2", "192.168.77.2",
                            ns=a0)
    master.xe("pool-eject", f"host-uuid={pool.hosts[2].host_uuid}")
    for i in (0, 1):
        want = [transport_ip(pool, 1 - i)]
        wait_until(lambda: remotes(pool.hosts[i], vni_a) == want, 15, f"host {i}'s remotes")
    out, _ = during.communicate(timeout=60)
    assert " 100 received" in out, out
    assert len(master.ok("tunnel.get_all_records")) == 6
    assert received(ping(a0, "192.168.77.3", count=2, check=False)) == 0

    # Host 1 moves to another transport address: host 0 follows.
    new_ip = f"10.78.{pool.lab.n % 250}.11"
    master.xe("pif-reconfigure-ip", f"uuid={transport[1]}", "mode=static", f"IP={new_ip}",
              "netmask=255.255.255.0")
    wait_until(lambda: remotes(pool.hosts[0], vni_a) == [new_ip], 15, "host 0's remotes")
    wait_until(lambda: received(ping(a0, "192.168.77.2", count=1, check=False)) == 1, 15,
               "host 1 at its new address")


# --- hvnet and VTEPs outside the pool ----------------------------------------------------------

def managed_host(lab, pif):
    """hvnetd in a namespace of its own with the root namespace's device `pif` as its one PIF,
    scanned and plugged. Returns (host, namespace, PIF uuid)."""
    from conftest import ManagedHost
    hns = lab.netns("H")
    sh("ip", "link", "set", pif, "netns", hns)
    sh("ip", "link", "set", pif, "up", ns=hns)
    # Open vSwitch's AF_PACKET ports forward partial checksums as they come: the NIC completes
    # hvnet's (as a real NIC's checksum offload would) before they reach it.
    sh("ethtool", "-K", pif, "tx", "off", ns=hns, check=False)
    h = ManagedHost(lab, netns=hns)
    h.xe("pif-scan")
    pif_uuid = h.xe("pif-list", f"device={pif}", "--minimal").stdout.strip()
    h.xe("pif-plug", f"uuid={pif_uuid}")
    return h, hns, pif_uuid


def private_network(h, transport, protocol, mtu, external):
    """A network with a tunnel of `protocol` on `transport` and `external` as its external VTEP;
    returns (network, key)."""
    net = h.xe("network-create", f"name-label=priv-{protocol}",
               *([f"MTU={mtu}"] if mtu else [])).stdout.strip()
    args = [f"protocol={protocol}"] if protocol else []
    tn = h.xe("tunnel-create", f"pif-uuid={transport}", f"network-uuid={net}", *args).stdout.strip()
    h.xe("network-param-add", f"uuid={net}", "param-name=external-VTEPs", f"param-key={external}")
    key = h.xe("tunnel-param-get", f"uuid={tn}", "param-name=status", "param-key=key").stdout.strip()
    assert h.xe("tunnel-param-get", f"uuid={tn}", "param-name=status",
                "param-key=remote_VTEPs").stdout.strip() == external
    return net, int(key)


def host_vm(lab, h, hns, net, cidr, role, mtu):
    vm = h.xe("vm-create", f"name-label={role}").stdout.strip()
    vif = h.xe("vif-create", f"vm-uuid={vm}", f"network-uuid={net}", "device=0").stdout.strip()
    h.xe("vif-plug", f"uuid={vif}")
    domid = h.xe("vm-param-get", f"uuid={vm}", "param-name=dom-id").stdout.strip()
    tap = f"vif{domid}.0"
    wait_until(lambda: sh("ip", "link", "show", tap, ns=hns, check=False).returncode == 0, 10, tap)
    ns = lab.netns(role)
    sh("ip", "link", "set", tap, "netns", ns, ns=hns)
    sh("ip", "link", "set", tap, "mtu", str(mtu), ns=ns)
    sh("ip", "addr", "add", cidr, "dev", tap, ns=ns)
    sh("ip", "link", "set", tap, "up", ns=ns)
    return ns, tap


def capture(lab, ns, ifname, bpf, pcap, count):
    cap = lab.spawn("tshark", "-i", ifname, "-f", bpf, "-c", str(count), "-w", pcap, ns=ns)
    wait_until(lambda: cap.poll() is not None or os.path.exists(pcap) and os.path.getsize(pcap) > 0,
               15, "tshark capturing")
    return cap


def dissected_without_warnings(pcap):
    text = subprocess.run(["tshark", "-r", pcap, "-V"], capture_output=True, text=True).stdout
    expert = subprocess.run(["tshark", "-r", pcap, "-q", "-z", "expert,warn"],
                            capture_output=True, text=True).stdout
    assert "Warning" not in expert and "Error" not in expert, expert
    return text


def test_kernel_vxlan_device_as_external_vtep_over_a_vlan_tagged_underlay(lab, tmp_path):
    """The transport PIF is VLAN 200 on the NIC; the kernel VTEP sits behind a VLAN switch (Open
    vSwitch: this kernel has no 802.1Q sub-interfaces) on the access port of VLAN 200."""
    from conftest import physical_vlan_switch
    pif = lab.name("t")
    phys, kns, ovs, nics = physical_vlan_switch(lab, pif, {200: "10.79.0.2/24"})
    h, hns, pif_uuid = managed_host(lab, pif)
    transport_net = h.xe("network-create", "name-label=transport").stdout.strip()
    vlan_pif = h.xe("vlan-create", f"pif-uuid={pif_uuid}", "vlan=200",
                    f"network-uuid={transport_net}").stdout.strip()
    h.xe("pif-reconfigure-ip", f"uuid={vlan_pif}", "mode=static", "IP=10.79.0.1",
         "netmask=255.255.255.0")
    # A network made with the default MTU: its tunnel lowers it to what a 1500 underlay carries.
    net, key = private_network(h, vlan_pif, "vxlan", None, "10.79.0.2")
    assert h.xe("network-param-get", f"uuid={net}", "param-name=MTU").stdout.strip() == "1450"
    # (its NIC's checksums too must be complete before Open vSwitch's AF_PACKET port)
    sh("ethtool", "-K", nics[200], "tx", "off", ns=kns, check=False)
    kvx = "kvx"
    sh("ip", "link", "add", kvx, "type", "vxlan", "id", key, "dstport", "4789", "local", "10.79.0.2",
       "remote", "10.79.0.1", "dev", nics[200], ns=kns)
    sh("ip", "addr", "add", "10.81.0.2/24", "dev", kvx, ns=kns)
    sh("ip", "link", "set", kvx, "up", ns=kns)
    vm, tap = host_vm(lab, h, hns, net, "10.81.0.1/24", "vm", 1450)
    pcap = str(tmp_path / "kernel.pcap")
    cap = capture(lab, kns, nics[200], "udp port 4789", pcap, 6)
    assert received(ping(vm, "10.81.0.2", count=3)) == 3
    cap.wait(30)
    assert received(ping(kns, "10.81.0.1", count=3)) == 3
    text = dissected_without_warnings(pcap)
    assert f"VXLAN Network Identifier (VNI): {key}" in text
    # 1422 bytes of ICMP payload + 28 = 1450 pass with DF; with the VM's MTU raised past the
    # network's, a 1423-byte DF ping leaves the VM and hvnet drops it, counting every one.
    assert received(ping(vm, "10.81.0.2", count=2, size=1422, extra=("-M", "do"))) == 2
    sh("ip", "link", "set", "dev", tap, "mtu", "1500", ns=vm)
    drops = lambda: h.ctl_request({"cmd": "stats"})["value"]["drops"]["mtu_exceeded"]  # noqa: E731
    before = drops()
    r = ping(vm, "10.81.0.2", count=4, size=1423, extra=("-M", "do"), interval="0.05", check=False)
    assert received(r) == 0
    assert drops() - before == 4
    # TCP with default offloads, both ways, over the tagged underlay.
    for server, client, addr in ((kns, vm, "10.81.0.2"), (vm, kns, "10.81.0.1")):
        got = iperf_bytes(lab, server, client, addr)
        assert got > 20_000_000, f"{client} -> {addr}: only {got} bytes"
    # A restarted hvnetd brings the tunnel back by itself (its socket is bound before the host's
    # addresses are back on their interfaces).
    h.stop()
    h.start()
    wait_until(lambda: received(ping(vm, "10.81.0.2", count=1, check=False)) == 1, 30,
               "the tunnel after a restart")


def test_open_vswitch_vxlan_and_gre_ports_as_external_vteps(lab, tmp_path):
    """Open vSwitch's userspace datapath as a VTEP outside the pool: its tunnel ports reach a VM on
    hvnet over VXLAN and over GRE, both ways; tshark dissects both encapsulations."""
    from ovs import Ovs
    pif, peer = lab.name("t"), lab.name("T")
    lab.veth(pif, peer)
    h, hns, pif_uuid = managed_host(lab, pif)
    h.xe("pif-reconfigure-ip", f"uuid={pif_uuid}", "mode=static", "IP=10.79.0.1",
         "netmask=255.255.255.0")
    ons = lab.netns("O")
    sh("ip", "link", "set", peer, "netns", ons)
    sh("ip", "link", "set", peer, "up", ns=ons)
    # OVS's AF_PACKET ports do not complete checksums: no offload on its side.
    sh("ethtool", "-K", peer, "tx", "off", ns=ons, check=False)
    ovs = Ovs(str(tmp_path), netns=ons)
    lab._undo.append(ovs.stop)
    # br-phy holds the underlay NIC and OVS's own transport address; one bridge per tunnel.
    ovs.vsctl("add-br", "br-phy", "--", "set", "bridge", "br-phy", "datapath_type=netdev")
    ovs.vsctl("add-port", "br-phy", peer)
    sh("ip", "addr", "add", "10.79.0.3/24", "dev", "br-phy", ns=ons)
    sh("ip", "link", "set", "br-phy", "up", ns=ons)
    nets = {}
    for proto, mtu, inner in (("vxlan", 1450, "10.81.0"), ("gre", 1458, "10.84.0")):
        net, key = private_network(h, pif_uuid, proto, mtu, "10.79.0.3")
        br, vmport = f"br-{proto}", f"vm-{proto}"
        ovs.vsctl("add-br", br, "--", "set", "bridge", br, "datapath_type=netdev")
        ovs.vsctl("add-port", br, f"t-{proto}", "--", "set", "interface", f"t-{proto}",
                  f"type={proto}", "options:remote_ip=10.79.0.1", f"options:key={key}")
        ovs.vsctl("add-port", br, vmport, "--", "set", "interface", vmport, "type=internal")
        sh("ip", "link", "set", vmport, "mtu", str(mtu), ns=ons)
        sh("ip", "addr", "add", f"{inner}.3/24", "dev", vmport, ns=ons)
        sh("ip", "link", "set", vmport, "up", ns=ons)
        vm, _ = host_vm(lab, h, hns, net, f"{inner}.1/24", f"v{proto[0]}", mtu)
        nets[proto] = (vm, inner, key)
    # OVS resolves hvnet's transport address through br-phy (its neighbour snooping).
    wait_until(lambda: received(ping(ons, "10.79.0.1", count=1, check=False)) == 1, 15,
               "the underlay")
    for proto, (vm, inner, key) in nets.items():
        wait_until(lambda: received(ping(vm, f"{inner}.3", count=1, check=False)) == 1, 15,
                   f"OVS's {proto} VM")
        pcap = str(tmp_path / f"ovs-{proto}.pcap")
        cap = capture(lab, ons, peer, "udp port 4789" if proto == "vxlan" else "ip proto 47", pcap, 6)
        assert received(ping(vm, f"{inner}.3", count=3)) == 3
        assert received(ping(ons, f"{inner}.1", count=3)) == 3
        cap.wait(30)
        text = dissected_without_warnings(pcap)
        if proto == "vxlan":
            assert f"VXLAN Network Identifier (VNI): {key}" in text
        else:
            assert "Generic Routing Encapsulation (Transparent Ethernet bridging)" in text, text[:3000]
            assert f"Key: 0x{key:08x}" in text, text[:3000]
