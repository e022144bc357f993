"""A VLAN network on a PIF (veth) reaching a physical host through a VLAN-aware physical switch.

This kernel has neither 802.1Q sub-interfaces nor bridge VLAN filtering, so the physical switch is
Open vSwitch's userspace datapath in its own namespace: the hvnet PIF plugs into a trunk port, the
physical host into access ports for VLAN 10 and VLAN 20 (as a host behind a real switch would)."""
from conftest import Capture, ping, received, sh, wait_until
from ovs import Ovs


def test_vlan_reaches_physical_host_and_second_vlan_is_isolated(lab):
    pif, sw_pif = lab.name("p"), lab.name("P")
    phys = lab.netns("s")   # the physical switch
    host = lab.netns("h")   # the physical host, one NIC per VLAN
    lab.veth(pif, sw_pif, phys)
    ovs = Ovs(str(lab.tmp_path), netns=phys)
    lab._undo.append(ovs.stop)
    ovs.vsctl("add-br", "sw0", "--", "set", "bridge", "sw0", "datapath_type=netdev")
    ovs.vsctl("add-port", "sw0", sw_pif, "--", "set", "port", sw_pif, "trunks=10,20")
    for vid, addr in ((10, "10.10.10.2/24"), (20, "10.10.20.2/24")):
        sw_end, host_end = lab.name(f"S{vid // 10}"), lab.name(f"H{vid // 10}")
        sh("ip", "link", "add", sw_end, "type", "veth", "peer", "name", host_end, ns=phys)
        sh("ip", "link", "set", host_end, "netns", host, ns=phys)
        sh("ip", "link", "set", sw_end, "up", ns=phys)
        ovs.vsctl("add-port", "sw0", sw_end, "--", "set", "port", sw_end, f"tag={vid}")
        sh("ip", "addr", "add", addr, "dev", host_end, ns=host)
        sh("ip", "link", "set", host_end, "up", ns=host)
        # The physical host keeps default offloads; OVS's AF_PACKET ports need them off on its side.
        sh("ethtool", "-K", sw_end, "tx", "off", ns=phys, check=False)
    sh("ethtool", "-K", sw_pif, "tx", "off", ns=phys, check=False)

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
