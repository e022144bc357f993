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
