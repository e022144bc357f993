"""NIC bonds against real partners: an LACP bond negotiated with Open vSwitch (userspace datapath,
its own namespace) and an active-backup bond failing over behind a Linux bridge "switch"."""
import re
import time

from conftest import Capture, ping, received, sh, wait_until


def bond_host_setup(lab, host, mode, props=()):
    """Two PIFs (veths e0/e1 whose peers S0/S1 live in a switch namespace), a bond over them, a
    VM on the bond's network in namespace 'v' at 10.82.0.1. Returns (bond uuid, vm ns, sw ns)."""
    sw = lab.netns("s")
    for i in (0, 1):
        lab.veth(lab.name(f"e{i}"), lab.name(f"S{i}"), sw)
    host.xe("pif-scan")
    pifs = [host.xe("pif-list", f"device={lab.name(f'e{i}')}", "--minimal").stdout.strip() for i in (0, 1)]
    net = host.xe("network-create", "name-label=bonded").stdout.strip()
    bond = host.xe("bond-create", f"network-uuid={net}", f"pif-uuids={pifs[0]},{pifs[1]}",
                   f"mode={mode}", *props).stdout.strip()
    vm, vif, vmns, tap = host.vm_on(net, "v", "10.82.0.1/24", mac="00:16:3e:0b:00:01")
    return bond, vmns, sw


def physical_host(lab, sw):
    """A physical host namespace 'h' at 10.82.0.2 behind switch port SH. Returns (ns, SH)."""
    hostns = lab.netns("h")
    sh_port, nic = lab.name("SH"), lab.name("HH")
    sh("ip", "link", "add", sh_port, "type", "veth", "peer", "name", nic, ns=sw)
    sh("ip", "link", "set", nic, "netns", hostns, ns=sw)
    sh("ip", "link", "set", sh_port, "up", ns=sw)
    sh("ip", "addr", "add", "10.82.0.2/24", "dev", nic, ns=hostns)
    sh("ip", "link", "set", nic, "up", ns=hostns)
    return hostns, sh_port


def bond_status(host, bond):
    out = host.xe("bond-param-get", f"uuid={bond}", "param-name=status").stdout.strip()
    return dict(kv.split(": ", 1) for kv in out.split("; ") if ": " in kv)


def lost_during(lab, vmns, action, count=300, interval="0.01"):
    """Pings 10.82.0.2 every `interval` while `action` runs; returns the number lost."""
    p = lab.spawn("ping", "-n", "-c", count, "-i", interval, "-W", "1", "10.82.0.2", ns=vmns)
    first = p.stdout.readline()  # the PING header: the pinger is running
    assert first.startswith("PING"), first
    time.sleep(0.5)  # let some replies arrive first (pacing, not synchronisation)
    action()
    out, _ = p.communicate(timeout=120)
    m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
    assert m, out
    return int(m.group(1)) - int(m.group(2))


def lacp_bond_setup(lab, host, tmp):
    """An hvnet LACP bond (fast) over e0/e1 whose partner is an Open vSwitch bond 'po1' (LACP
    active, userspace datapath) in switch namespace 's', a physical host at 10.82.0.2 on the
    switch and a VM at 10.82.0.1 on the bond. Returns (bond uuid, vm ns, host ns, sw ns, ovs)."""
    from ovs import Ovs
    sw = lab.netns("s")
    ovs = Ovs(tmp, netns=sw)
    lab._undo.append(ovs.stop)
    for i in (0, 1):
        lab.veth(lab.name(f"e{i}"), lab.name(f"S{i}"), sw)
        sh("ethtool", "-K", lab.name(f"S{i}"), "tx", "off", ns=sw, check=False)
    hostns, sh_port = physical_host(lab, sw)
    sh("ethtool", "-K", sh_port, "tx", "off", ns=sw, check=False)
    ovs.vsctl("add-br", "sw0", "--", "set", "bridge", "sw0", "datapath_type=netdev")
    ovs.vsctl("add-bond", "sw0", "po1", lab.name("S0"), lab.name("S1"), "lacp=active",
              "bond_mode=balance-slb", "other_config:lacp-time=fast")
    ovs.vsctl("add-port", "sw0", sh_port)
    host.xe("pif-scan")
    pifs = [host.xe("pif-list", f"device={lab.name(f'e{i}')}", "--minimal").stdout.strip() for i in (0, 1)]
    net = host.xe("network-create", "name-label=bonded").stdout.strip()
    asked = time.monotonic()
    bond = host.xe("bond-create", f"network-uuid={net}", f"pif-uuids={pifs[0]},{pifs[1]}",
                   "mode=lacp", "properties:lacp-time=fast").stdout.strip()
    created = time.monotonic()
    print(f"bond-create took {created - asked:.2f} s; status {bond_status(host, bond)}")
    e = [lab.name("e0"), lab.name("e1")]
    # 802.1AX: a PDU each way, the 2 s aggregate wait, then sync: within 4 s of the bond's creation.
    wait_until(lambda: all(bond_status(host, bond).get(f"{d}.enabled") == "true" for d in e),
               max(0.1, created + 4 - time.monotonic()), "LACP negotiation within 4 s")
    print(f"LACP: negotiated with Open vSwitch {time.monotonic() - created:.2f} s after bond-create")
    vm, vif, vmns, tap = host.vm_on(net, "v", "10.82.0.1/24")
    return bond, vmns, hostns, sw, ovs


def test_lacp_bond_negotiates_with_open_vswitch_and_survives_a_link_failure(host, lab):
    bond, vmns, hostns, sw, ovs = lacp_bond_setup(lab, host, str(lab.tmp_path))
    assert host.xe("bond-param-get", f"uuid={bond}", "param-name=mode").stdout.strip() == "lacp"
    e0, e1 = lab.name("e0"), lab.name("e1")
    wait_until(lambda: bond_status(host, bond).get(f"{e0}.enabled") == "true"
               and bond_status(host, bond).get(f"{e1}.enabled") == "true", 30, "LACP negotiation")
    st = bond_status(host, bond)
    assert st["lacp-negotiated"] == "true"
    assert st[f"{e0}.lacp"] == "current"
    assert "distributing" in st[f"{e0}.lacp-actor-state"]
    assert "synchronized" in st[f"{e0}.lacp-partner-state"]
    assert "negotiated" in ovs.appctl("lacp/show", "po1")
    # Open vSwitch enables its members a moment after negotiation.
    wait_until(lambda: received(ping(vmns, "10.82.0.2", count=1, check=False)) == 1, 15,
               "traffic over the LACP bond")
    assert received(ping(vmns, "10.82.0.2", count=5)) == 5

    # lacp-time on the live bond: only the Timeout bit and the rate change; no ping lost at 10 ms.
    lost = lost_during(lab, vmns, lambda: host.xe("bond-param-set", f"uuid={bond}",
                                                  "properties:lacp-time=slow"), count=200)
    st = bond_status(host, bond)
    assert lost == 0, f"{lost} pings lost across lacp-time fast -> slow"
    assert "timeout" not in st[f"{e0}.lacp-actor-state"].split(",")
    assert "distributing" in st[f"{e0}.lacp-actor-state"] and st[f"{e0}.lacp"] == "current"

    # Cut the member that carries our pings (the flow hash chose it).
    st = bond_status(host, bond)
    busy = max((0, 1), key=lambda i: int(st[f"{lab.name(f'e{i}')}.tx-packets"]))
    busy_dev, other_dev = lab.name(f"e{busy}"), lab.name(f"e{1 - busy}")
    cut = lab.name(f"S{busy}")
    lost = lost_during(lab, vmns, lambda: sh("ip", "link", "set", cut, "down", ns=sw))
    print(f"LACP: {lost} of 300 pings lost when the carrying member link went down")
    assert lost < 60, f"{lost} pings lost"  # traffic moved to the other member
    wait_until(lambda: bond_status(host, bond).get(f"{busy_dev}.enabled") == "false", 10, "member out")
    assert bond_status(host, bond)[f"{other_dev}.enabled"] == "true"
    assert received(ping(vmns, "10.82.0.2", count=3)) == 3
    sh("ip", "link", "set", cut, "up", ns=sw)
    wait_until(lambda: bond_status(host, bond).get(f"{busy_dev}.enabled") == "true", 30,
               "member re-attached")
    links = host.xe("bond-param-get", f"uuid={bond}", "param-name=links-up").stdout.strip()
    assert links == "2"


def test_active_backup_fails_over_behind_a_linux_bridge_in_under_200ms(host, lab):
    bond, vmns, sw = bond_host_setup(lab, host, "active-backup")
    hostns, sh_port = physical_host(lab, sw)
    sh("ip", "link", "add", "br0", "type", "bridge", ns=sw)
    for port in (lab.name("S0"), lab.name("S1"), sh_port):
        sh("ip", "link", "set", port, "master", "br0", ns=sw)
    sh("ip", "link", "set", "br0", "up", ns=sw)
    assert received(ping(vmns, "10.82.0.2", count=3)) == 3
    active = bond_status(host, bond)["active-member"]
    assert active == lab.name("e0")  # the primary member
    # A second VM whose VIF never sent a frame (its TAP stays down), locked to 10.82.0.9.
    net = host.xe("network-list", "name-label=bonded", "--minimal").stdout.strip()
    silent_vm = host.xe("vm-create", "name-label=silent").stdout.strip()
    silent = host.xe("vif-create", f"vm-uuid={silent_vm}", f"network-uuid={net}", "device=0",
                     "mac=00:16:3e:0b:00:02").stdout.strip()
    host.xe("vif-param-set", f"uuid={silent}", "locking-mode=locked", "ipv4-allowed=10.82.0.9")
    host.xe("vif-plug", f"uuid={silent}")
    peer = lab.name("S0")
    on_backup = Capture(lab, sw, lab.name("S1"), 6)
    lost = lost_during(lab, vmns, lambda: sh("ip", "link", "set", peer, "down", ns=sw))
    print(f"active-backup: {lost} pings lost at 10 ms intervals")
    assert lost < 20, f"{lost} pings lost (>= 200 ms)"
    st = bond_status(host, bond)
    assert st["active-member"] == lab.name("e1")
    assert int(st["learning-packets-sent"]) >= 1
    # The failover announced the silent VIF out of the new active member: a RARP for its MAC and a
    # gratuitous ARP for its address.
    silent_mac = bytes.fromhex("00163e0b0002")
    frames = [f for f in on_backup.frames() if f[6:12] == silent_mac]
    assert any(f[12:14] == b"\x80\x35" for f in frames), frames
    garp = [f for f in frames if f[12:14] == b"\x08\x06"]
    assert garp and all(f[28:32] == f[38:42] == bytes([10, 82, 0, 9]) for f in garp), garp


def test_bond_commands_reject_bad_input_and_destroy_restores_members(host, lab):
    for i in (0, 1, 2):
        lab.veth(lab.name(f"e{i}"), lab.name(f"S{i}"))
    host.xe("pif-scan")
    pifs = [host.xe("pif-list", f"device={lab.name(f'e{i}')}", "--minimal").stdout.strip() for i in (0, 1, 2)]
    net = host.xe("network-create", "name-label=b").stdout.strip()
    before = host.xe("pif-list", "params=all").stdout
    r = host.xe("bond-create", f"network-uuid={net}", f"pif-uuids={pifs[0]}", check=False)
    assert r.returncode == 1 and "PIF_BOND_NEEDS_MORE_MEMBERS" in r.stderr
    r = host.xe("bond-create", f"network-uuid={net}", f"pif-uuids={pifs[0]},{pifs[1]}", "mode=fastest",
                check=False)
    assert r.returncode == 1 and "INVALID_VALUE" in r.stderr
    r = host.xe("bond-create", f"network-uuid={net}", f"pif-uuids={pifs[0]},{pifs[1]}",
                "mode=active-backup", "properties:lacp-time=fast", check=False)
    assert r.returncode == 1 and "INVALID_VALUE" in r.stderr
    assert host.xe("pif-list", "params=all").stdout == before
    bond = host.xe("bond-create", f"network-uuid={net}", f"pif-uuids={pifs[0]},{pifs[1]}",
                   "mac=00:16:3e:bb:00:01").stdout.strip()
    assert host.xe("bond-param-get", f"uuid={bond}", "param-name=mode").stdout.strip() == "balance-slb"
    master = host.xe("bond-param-get", f"uuid={bond}", "param-name=master").stdout.strip()
    assert host.xe("pif-param-get", f"uuid={master}", "param-name=MAC").stdout.strip() == "00:16:3e:bb:00:01"
    assert re.fullmatch(r"bond\d+", host.xe("pif-param-get", f"uuid={master}", "param-name=device").stdout.strip())
    net2 = host.xe("network-create", "name-label=b2").stdout.strip()
    r = host.xe("bond-create", f"network-uuid={net2}", f"pif-uuids={pifs[1]},{pifs[2]}", check=False)
    assert r.returncode == 1 and "PIF_ALREADY_BONDED" in r.stderr
    r = host.xe("bond-param-set", f"uuid={bond}", "properties:hashing_algorithm=src_mac", check=False)
    assert r.returncode == 1 and "INVALID_VALUE" in r.stderr  # properties are LACP-only
    host.xe("bond-set-mode", f"uuid={bond}", "mode=lacp")
    host.xe("bond-param-set", f"uuid={bond}", "properties:hashing_algorithm=src_mac",
            "properties:lacp-time=fast")
    props = host.xe("bond-param-get", f"uuid={bond}", "param-name=properties").stdout
    assert "hashing_algorithm: src_mac" in props and "lacp-time: fast" in props
    host.xe("bond-destroy", f"uuid={bond}")
    assert host.xe("bond-list", "--minimal").stdout.strip() == ""
    assert host.xe("pif-param-get", f"uuid={pifs[0]}", "param-name=bond-slave-of").stdout.strip() == "<not in database>"
    assert host.xe("pif-param-get", f"uuid={pifs[0]}", "param-name=currently-attached").stdout.strip() == "true"


def test_two_networks_on_one_bond_fail_over_to_different_members(host, lab):
    """failover-order per network (vSphere's teaming override): on one active-backup bond the
    untagged network runs on e0 and the VLAN 10 network on e1; cutting e1 moves VLAN 10 to e0 and
    leaves the untagged network where it is; cutting e0 instead moves the untagged network to e1."""
    bond, vm_u, sw = bond_host_setup(lab, host, "active-backup")
    e0, e1, s0, s1 = (lab.name(n) for n in ("e0", "e1", "S0", "S1"))
    master = host.xe("bond-param-get", f"uuid={bond}", "param-name=master").stdout.strip()
    untagged = host.xe("network-list", "name-label=bonded", "--minimal").stdout.strip()
    v10 = host.xe("network-create", "name-label=v10").stdout.strip()
    host.xe("vlan-create", f"pif-uuid={master}", f"network-uuid={v10}", "vlan=10")
    _, _, vm_t, tap_t = host.vm_on(v10, "t", "10.83.0.1/24", mac="00:16:3e:0b:00:10")
    bad = host.xe("network-param-set", f"uuid={v10}", f"failover-order={e1},{e1}", check=False)
    assert bad.returncode != 0 and "INVALID_VALUE" in bad.stderr
    host.xe("network-param-set", f"uuid={untagged}", f"failover-order={e0},{e1}")
    host.xe("network-param-set", f"uuid={v10}", f"failover-order={e1},{e0}")
    wait_until(lambda: bond_status(host, bond).get("vlan10-active-member") == e1, 10,
               "VLAN 10 on e1")

    rounds = iter(range(70, 80))

    def where():
        """(member, VLAN) of the ARP requests each VM sends (for an address not asked before),
        seen at the switch ports."""
        last = next(rounds)
        caps = {m: Capture(lab, sw, m, 2) for m in (s0, s1)
                if "UP" in sh("ip", "link", "show", m, ns=sw).stdout.split(">")[0]}
        for ns, dst in ((vm_u, f"10.82.0.{last}"), (vm_t, f"10.83.0.{last}")):
            ping(ns, dst, count=2, interval="0.3", check=False)
        out = {}
        for m, c in caps.items():
            for f in c.frames():
                vid = ((f[14] << 8) | f[15]) & 0xfff if f[12:14] == b"\x81\x00" else None
                out.setdefault(f[6:12].hex(), set()).add((m, vid))
        return out.get("00163e0b0001", set()), out.get("00163e0b0010", set())

    assert where() == ({(s0, None)}, {(s1, 10)})
    sh("ip", "link", "set", s1, "down", ns=sw)
    wait_until(lambda: bond_status(host, bond).get("vlan10-active-member") == e0, 10,
               "VLAN 10 fails over to e0")
    assert where() == ({(s0, None)}, {(s0, 10)})
    sh("ip", "link", "set", s1, "up", ns=sw)
    wait_until(lambda: bond_status(host, bond).get("vlan10-active-member") == e1, 10,
               "VLAN 10 back on e1")
    sh("ip", "link", "set", s0, "down", ns=sw)
    wait_until(lambda: bond_status(host, bond).get("active-member") == e1, 10, "the bond on e1")
    assert where() == ({(s1, None)}, {(s1, 10)})
