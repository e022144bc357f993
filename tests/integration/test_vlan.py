"""A VLAN network on a PIF (veth) reaching a physical host through a VLAN-aware physical switch.

See conftest.physical_vlan_switch for why the physical switch is Open vSwitch."""
from conftest import Capture, physical_vlan_switch, ping, received, sh, wait_until


def test_vlan_reaches_physical_host_and_second_vlan_is_isolated(lab):
    pif = lab.name("p")
    phys, host, ovs, host_nics = physical_vlan_switch(lab, pif, {10: "10.10.10.2/24",
                                                                 20: "10.10.20.2/24"})
    v10, v20, v20b = lab.name("a"), lab.name("b"), lab.name("c")
    d = lab.hvnetd({
        "networks": [{"name": "n10"}, {"name": "n20"}],
        "ports": [{"name": pif, "type": "pif",
                   "vlans": [{"tag": 10, "network": "n10"}, {"tag": 20, "network": "n20"}]},
                  {"name": v10, "type": "tap", "network": "n10"},
                  {"name": v20, "type": "tap", "network": "n20"},
                  {"name": v20b, "type": "tap", "network": "n20"}]})
    vm10, vm20, intruder = lab.netns("x"), lab.netns("y"), lab.netns("z")
    lab.vm(v10, vm10, "10.10.10.1/24")
    lab.vm(v20, vm20, "10.10.20.1/24")
    # On VLAN 20 but addressed as if it were on VLAN 10.
    lab.vm(v20b, intruder, "10.10.10.9/24")

    wait_until(lambda: received(ping(vm10, "10.10.10.2", count=1, check=False)) == 1, 20,
               "VLAN 10 path through the physical switch")
    assert received(ping(vm10, "10.10.10.2", count=3)) == 3
    assert received(ping(vm20, "10.10.20.2", count=3)) == 3
    # The physical switch learned vm10's MAC on VLAN 10 from the trunk: the frames were tagged 10.
    mac10 = sh("cat", f"/sys/class/net/{v10}/address", ns=vm10).stdout.strip()
    fdb = ovs.appctl("fdb/show", "sw0")
    assert any(mac10 in line and line.split()[1] == "10" for line in fdb.splitlines()), fdb

    intruder_mac = sh("cat", f"/sys/class/net/{v20b}/address", ns=intruder).stdout.strip()
    seen_by_vm10 = Capture(lab, vm10, v10, 3)
    r = ping(intruder, "10.10.10.2", count=3, check=False)
    assert received(r) == 0
    # Nothing the intruder sent (its ARP broadcasts) reached the VLAN 10 VM.
    assert seen_by_vm10.from_mac(intruder_mac) == []
    assert d.stats()["ports"][v20]["tx_packets"] > 0  # ...while its own VLAN did see them
    hv_fdb = d.fdb()
    assert all(e["network"] == "n20" for e in hv_fdb if e["port"] == v20b)
    assert any(e["port"] == pif and e["vlan"] == 10 for e in hv_fdb)


def test_short_frames_leave_a_pif_padded_to_the_ethernet_minimum_and_reach_vifs_as_sent(lab):
    """A VM's 42-byte ARP reply leaves the PIF as 60 bytes, untagged and on a VLAN (46 bytes once
    tagged); the far end's 42-byte ARP request reaches the VM unpadded (VIFs are not wires)."""
    pif, far = lab.name("p"), lab.name("f")
    farns = lab.netns("w")
    lab.veth(pif, far, farns)
    sh("ip", "addr", "add", "10.77.0.2/24", "dev", far, ns=farns)
    va, vb = lab.name("a"), lab.name("b")
    lab.hvnetd({
        "networks": [{"name": "n0"}, {"name": "n10"}],
        "ports": [{"name": pif, "type": "pif", "network": "n0",
                   "vlans": [{"tag": 10, "network": "n10"}]},
                  {"name": va, "type": "tap", "network": "n0"},
                  {"name": vb, "type": "tap", "network": "n10"}]})
    vma, vmb = lab.netns("x"), lab.netns("y")
    lab.vm(va, vma, "10.77.0.1/24")
    lab.vm(vb, vmb, "10.77.10.1/24")
    mac_a = bytes.fromhex(sh("cat", f"/sys/class/net/{va}/address", ns=vma).stdout.strip().replace(":", ""))
    mac_b = bytes.fromhex(sh("cat", f"/sys/class/net/{vb}/address", ns=vmb).stdout.strip().replace(":", ""))

    def arp(frames, src):
        """(frame length on the wire, tagged?) of each ARP frame from src."""
        out = []
        for f in frames:
            if f[6:12] != src:
                continue
            if f[12:14] == b"\x81\x00" and f[16:18] == b"\x08\x06":
                out.append((len(f), True))
            elif f[12:14] == b"\x08\x06":
                out.append((len(f), False))
        return out

    on_wire = Capture(lab, farns, far, 4)
    at_vm = Capture(lab, vma, va, 4)
    wait_until(lambda: received(ping(farns, "10.77.0.1", count=1, check=False)) == 1, 20,
               "the untagged VM answers")
    # This kernel has no 8021q: the far end asks on VLAN 10 with a frame scapy builds.
    far_hex = sh("cat", f"/sys/class/net/{far}/address", ns=farns).stdout.strip()
    sh("/usr/bin/python3", "-c",
       "import sys\n"
       "from scapy.all import ARP, Dot1Q, Ether, sendp\n"
       "m = sys.argv[2]\n"
       "sendp(Ether(dst='ff:ff:ff:ff:ff:ff', src=m) / Dot1Q(vlan=10) /"
       " ARP(op=1, hwsrc=m, psrc='10.77.10.2', pdst='10.77.10.1'), iface=sys.argv[1],"
       " count=3, inter=0.3, verbose=False)", far, far_hex, ns=farns)
    wire = on_wire.frames()
    untagged, tagged = arp(wire, mac_a), arp(wire, mac_b)
    assert untagged, "no ARP reply from the untagged VM reached the wire"
    assert tagged, "no ARP reply from the VLAN 10 VM reached the wire"
    assert all(n == 60 for n, _ in untagged), untagged
    assert all(n == 60 and in_frame for n, in_frame in tagged), tagged
    # The far end's ARP request reached the VM as the far kernel sent it: 42 bytes.
    far_mac = bytes.fromhex(sh("cat", f"/sys/class/net/{far}/address", ns=farns).stdout.strip().replace(":", ""))
    to_vm = [len(f) for f in at_vm.frames() if f[6:12] == far_mac and f[12:14] == b"\x08\x06"]
    assert to_vm and all(n == 42 for n in to_vm), to_vm


def test_vlan_zero_carries_priority_tagged_frames_and_leaves_untagged_traffic_native(host, lab):
    """xe vlan-create vlan=0 (xapi accepts 0..4094): the VLAN-0 network's frames leave the PIF with
    an 802.1Q header of VID 0, priority-tagged frames from the wire reach it, and untagged traffic
    stays on the PIF's own network."""
    pif_dev, far = lab.name("p"), lab.name("f")
    farns = lab.netns("w")
    lab.veth(pif_dev, far, farns)
    host.xe("pif-scan")
    pif = host.xe("pif-list", f"device={pif_dev}", "--minimal").stdout.strip()
    native = host.xe("pif-param-get", f"uuid={pif}", "param-name=network-uuid").stdout.strip()
    net0 = host.xe("network-create", "name-label=prio").stdout.strip()
    vlan_pif = host.xe("vlan-create", f"network-uuid={net0}", f"pif-uuid={pif}", "vlan=0").stdout.strip()
    assert host.xe("pif-param-get", f"uuid={vlan_pif}", "param-name=VLAN").stdout.strip() == "0"
    _, _, ns_p, tap_p = host.vm_on(net0, "x", "10.78.0.1/24")
    _, _, ns_n, tap_n = host.vm_on(native, "y", "10.78.0.3/24")
    mac = {n: bytes.fromhex(sh("cat", f"/sys/class/net/{t}/address", ns=n).stdout.strip().replace(":", ""))
           for n, t in ((ns_p, tap_p), (ns_n, tap_n))}
    far_hex = sh("cat", f"/sys/class/net/{far}/address", ns=farns).stdout.strip()
    wire = Capture(lab, farns, far, 8)
    # The far end asks for both VMs' addresses, once priority-tagged and once untagged.
    sh("/usr/bin/python3", "-c",
       "import sys\n"
       "from scapy.all import ARP, Dot1Q, Ether, sendp\n"
       "m = sys.argv[2]\n"
       "for ip in ('10.78.0.1', '10.78.0.3'):\n"
       "    a = ARP(op=1, hwsrc=m, psrc='10.78.0.2', pdst=ip)\n"
       "    sendp(Ether(dst='ff:ff:ff:ff:ff:ff', src=m) / Dot1Q(vlan=0, prio=3) / a,"
       "          iface=sys.argv[1], count=2, inter=0.3, verbose=False)\n"
       "    sendp(Ether(dst='ff:ff:ff:ff:ff:ff', src=m) / a, iface=sys.argv[1], count=2,"
       "          inter=0.3, verbose=False)\n", far, far_hex, ns=farns)
    frames = wire.frames()

    def replies(src):
        """The 802.1Q header (None if untagged) of each ARP reply from src seen on the wire."""
        out = []
        for f in frames:
            if f[6:12] != src:
                continue
            if f[12:14] == b"\x81\x00" and f[16:18] == b"\x08\x06" and f[24:26] == b"\x00\x02":
                out.append(int.from_bytes(f[14:16], "big"))
            elif f[12:14] == b"\x08\x06" and f[20:22] == b"\x00\x02":
                out.append(None)
        return out

    prio, plain = replies(mac[ns_p]), replies(mac[ns_n])
    # The VLAN-0 VM heard the two priority-tagged requests only and answered both with VID 0; the
    # native VM heard the two untagged ones only and answered untagged.
    assert len(prio) == 2 and all(t is not None and t & 0x0fff == 0 for t in prio), prio
    assert plain == [None, None], plain
    host.xe("vlan-destroy", f"uuid={vlan_pif}")
