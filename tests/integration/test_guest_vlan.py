"""Guest VLAN tagging (vSphere's VLAN 4095 port group): a network on VLAN 4095 of a PIF makes its
VIFs trunks. A VM tags its own frames; tags of the network's trunk-VLANs share the L2 domain of
the PIF's VLAN networks of those tags (and their VMs, untagged), untagged frames the PIF's own
network, other tags are dropped and counted. The kernel here has no 8021q: scapy tags."""
from conftest import Capture, mac_of, ping, received, sh, wait_until

SEND_ARPS = (
    "import sys\n"
    "from scapy.all import ARP, Dot1Q, Ether, sendp\n"
    "m, iface = sys.argv[1], sys.argv[2]\n"
    "for arg in sys.argv[3:]:\n"
    "    tag, ip = arg.split('=')\n"
    "    src = ip.rsplit('.', 1)[0] + '.1'\n"
    "    sendp(Ether(dst='ff:ff:ff:ff:ff:ff', src=m) / Dot1Q(vlan=int(tag)) /"
    "          ARP(op=1, hwsrc=m, psrc=src, pdst=ip), iface=iface, count=3, inter=0.2,"
    "          verbose=False)\n")


def arps(frames, src_mac, op):
    """The VLAN (None if untagged) of each ARP frame of `op` (1 request, 2 reply) from src_mac."""
    src = bytes.fromhex(src_mac.replace(":", ""))
    out = []
    for f in frames:
        if f[6:12] != src:
            continue
        if f[12:14] == b"\x81\x00" and f[16:18] == b"\x08\x06" and f[25] == op:
            out.append(((f[14] << 8) | f[15]) & 0xfff)
        elif f[12:14] == b"\x08\x06" and f[21] == op:
            out.append(None)
    return out


def test_trunk_vif_tags_its_frames_into_the_uplinks_vlans(host, lab):
    pif_dev, far = lab.name("p"), lab.name("f")
    farns = lab.netns("w")
    lab.veth(pif_dev, far, farns)
    sh("ip", "addr", "add", "10.80.0.2/24", "dev", far, ns=farns)
    host.xe("pif-scan")
    pif = host.xe("pif-list", f"device={pif_dev}", "--minimal").stdout.strip()
    native = host.xe("pif-param-get", f"uuid={pif}", "param-name=network-uuid").stdout.strip()
    nets = {}
    for tag in (10, 20, 30):
        nets[tag] = host.xe("network-create", f"name-label=v{tag}").stdout.strip()
        host.xe("vlan-create", f"network-uuid={nets[tag]}", f"pif-uuid={pif}", f"vlan={tag}")
    trunk = host.xe("network-create", "name-label=trunk").stdout.strip()
    tp = host.xe("vlan-create", f"network-uuid={trunk}", f"pif-uuid={pif}", "vlan=4095").stdout.strip()
    assert host.xe("pif-param-get", f"uuid={tp}", "param-name=VLAN").stdout.strip() == "4095"
    host.xe("network-param-set", f"uuid={trunk}", "trunk-VLANs=20,10")
    assert host.xe("network-param-get", f"uuid={trunk}",
                   "param-name=trunk-VLANs").stdout.strip() == "10; 20"
    bad = host.xe("network-param-set", f"uuid={trunk}", "trunk-VLANs=10,5000", check=False)
    assert bad.returncode != 0 and "VLAN_TAG_INVALID" in bad.stderr and "5000" in bad.stderr
    assert host.xe("network-param-get", f"uuid={trunk}",
                   "param-name=trunk-VLANs").stdout.strip() == "10; 20"

    _, _, ns_t, tap_t = host.vm_on(trunk, "t", "10.80.0.1/24")
    vms = {tag: host.vm_on(nets[tag], f"v{tag}", f"10.80.{tag}.2/24") for tag in (10, 20, 30)}
    macs = {tag: mac_of(ns, tap) for tag, (_, _, ns, tap) in vms.items()}
    mac_t = mac_of(ns_t, tap_t)

    # Untagged: the PIF's own network, as far as the physical host.
    wait_until(lambda: received(ping(ns_t, "10.80.0.2", count=1, check=False)) == 1, 20,
               "the trunk VM's untagged frames reach the PIF's network")

    def drops():
        return host.ctl_request({"cmd": "stats"})["value"]["drops"].get("vlan_not_in_trunk", 0)

    before = drops()
    at_vm, wire, at30 = Capture(lab, ns_t, tap_t, 4), Capture(lab, farns, far, 4), \
        Capture(lab, vms[30][2], vms[30][3], 4)
    sh("/usr/bin/python3", "-c", SEND_ARPS, mac_t, tap_t, "10=10.80.10.2", "20=10.80.20.2",
       "30=10.80.30.2", ns=ns_t)
    replies = at_vm.frames()
    # Each VLAN VM answered, and its answer reached the trunk VM tagged with its VLAN.
    assert set(arps(replies, macs[10], 2)) == {10}
    assert set(arps(replies, macs[20], 2)) == {20}
    assert arps(replies, macs[30], 2) == []
    # The requests left the PIF tagged 10 and 20; tag 30 never left the trunk VIF.
    on_wire = arps(wire.frames(), mac_t, 1)
    assert sorted(set(on_wire)) == [10, 20], on_wire
    assert arps(at30.frames(), mac_t, 1) == []
    assert drops() - before >= 3

    # VLAN 30 allowed live (param-add): its VM answers now, tagged 30.
    host.xe("network-param-add", f"uuid={trunk}", "param-name=trunk-VLANs", "param-key=30")
    at_vm = Capture(lab, ns_t, tap_t, 3)
    sh("/usr/bin/python3", "-c", SEND_ARPS, mac_t, tap_t, "30=10.80.30.2", ns=ns_t)
    assert set(arps(at_vm.frames(), macs[30], 2)) == {30}

    # Native VLAN 10: the trunk VM's untagged frames are VLAN 10's (the VLAN 10 VM answers them
    # untagged to it), and the PIF's own network no longer hears it.
    host.xe("network-param-set", f"uuid={trunk}", "native-VLAN=10")
    sh("ip", "addr", "flush", "dev", tap_t, ns=ns_t)
    sh("ip", "addr", "add", "10.80.10.1/24", "dev", tap_t, ns=ns_t)
    wait_until(lambda: received(ping(ns_t, "10.80.10.2", count=1, check=False)) == 1, 20,
               "untagged frames of the trunk VM on the native VLAN 10")
    assert received(ping(ns_t, "10.80.10.2", count=3)) == 3
    wire = Capture(lab, farns, far, 2)
    ping(ns_t, "10.80.10.9", count=2, check=False)  # ARP broadcasts: on the wire tagged 10
    assert set(arps(wire.frames(), mac_t, 1)) == {10}
    assert native  # the PIF's own network still exists, unused by the trunk VM now
