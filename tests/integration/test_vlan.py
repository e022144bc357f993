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
        """(frame length on the wire, tagged?) of each ARP frame from src; a tag the kernel took
        into metadata counts its 4 bytes."""
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
    # On VLAN 10: 60 bytes with the tag in the frame, 56 if the far kernel lifted it out.
    assert all(n == (60 if in_frame else 56) for n, in_frame in tagged), tagged
    # The far end's ARP request reached the VM as the far kernel sent it: 42 bytes.
    far_mac = bytes.fromhex(sh("cat", f"/sys/class/net/{far}/address", ns=farns).stdout.strip().replace(":", ""))
    to_vm = [len(f) for f in at_vm.frames() if f[6:12] == far_mac and f[12:14] == b"\x08\x06"]
    assert to_vm and all(n == 42 for n in to_vm), to_vm
