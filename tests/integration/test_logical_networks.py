"""RHV's logical networks and vSphere's host interfaces on hvnet's objects: a non-VM storage
network on a plain NIC (no switch in its path), a required network whose NIC loses carrier (the
host goes non-operational, with an event, and comes back), host interfaces with services, and a
NIC label that attaches a network on a host joining the pool later (with the network's MTU held
on every host). hvnetd runs in namespaces of its own; everything is the test's."""
import json
import os

import pytest

from conftest import host_with_physical_peers, ping, received, sh, wait_until
from pool_lab import PoolLab
from test_pool import pifs_of, vm_on


@pytest.fixture
def site(lab):
    """hvnetd in a namespace of its own, PIFs e0/e1 towards 10.95.0.254 and 10.96.0.254."""
    return host_with_physical_peers(lab)


def param(host, cls, uuid, name):
    return host.xe(f"{cls}-param-get", f"uuid={uuid}", f"param-name={name}").stdout.strip()


def vm_in(host, hostns, lab, network, role, cidr):
    """A VM whose TAP hvnetd made in the host namespace, moved into namespace `role`."""
    vm = host.xe("vm-create", f"name-label={role}").stdout.strip()
    vif = host.xe("vif-create", f"vm-uuid={vm}", f"network-uuid={network}", "device=0").stdout.strip()
    host.xe("vif-plug", f"uuid={vif}")
    tap = f"vif{param(host, 'vm', vm, 'dom-id')}.0"
    wait_until(lambda: sh("ip", "link", "show", tap, ns=hostns, check=False).returncode == 0, 10, tap)
    ns = lab.netns(role)
    sh("ip", "link", "set", tap, "netns", ns, ns=hostns)
    sh("ip", "addr", "add", cidr, "dev", tap, ns=ns)
    sh("ip", "link", "set", tap, "up", ns=ns)
    return vm, ns


def port_counters(host, dev):
    """The switch's rx/tx packets of port `dev` (zeros when the switch has no such port)."""
    p = host.ctl_request({"cmd": "stats"})["value"]["ports"].get(dev)
    return (0, 0) if p is None else (p["rx_packets"], p["tx_packets"])


def test_non_vm_storage_network_on_a_plain_nic_has_no_switch_in_its_path(site, lab):
    host, hostns, phys, pifs = site
    e1 = lab.name("e1")
    vm_net, storage = (param(host, "pif", p, "network-uuid") for p in pifs)
    _, vmns = vm_in(host, hostns, lab, vm_net, "vm", "10.95.0.10/24")
    assert received(ping(vmns, "10.95.0.254", count=3)) == 3

    host.xe("network-param-set", f"uuid={storage}", "VM-network=false")
    host.xe("pif-reconfigure-ip", f"uuid={pifs[1]}", "mode=static", "IP=10.96.0.1",
            "netmask=255.255.255.0")
    # The address is on the NIC itself; the switch has let go of it and has no internal port.
    assert "10.96.0.1/24" in sh("ip", "-4", "addr", "show", "dev", e1, ns=hostns).stdout
    bridge = param(host, "network", storage, "bridge")
    assert sh("ip", "link", "show", bridge, ns=hostns, check=False).returncode != 0
    stats = host.ctl_request({"cmd": "stats"})["value"]["ports"]
    assert e1 not in stats and bridge not in stats
    # A storage stream crosses the NIC, none of it through the switch.
    lab.spawn("iperf3", "-s", "-1", "-B", "10.96.0.254", ns=phys)
    wait_until(lambda: "10.96.0.254:5201" in sh("ss", "-ltn", ns=phys).stdout, 10, "iperf3 server")
    out = json.loads(sh("iperf3", "-c", "10.96.0.254", "-t", "2", "-J", ns=hostns).stdout)
    sent = out["end"]["sum_sent"]["bytes"]
    assert sent > 10_000_000, sent
    with open(os.path.join(host.dir, "storage-iperf3.txt"), "w") as f:  # for the record
        f.write(f"{out['end']['sum_received']['bits_per_second'] / 1e9:.2f} Gbit/s\n")
    assert port_counters(host, e1) == (0, 0)
    # The VM network on the other NIC keeps working.
    assert received(ping(vmns, "10.95.0.254", count=3)) == 3
    # Refusals: a VIF on it, a VLAN on its NIC.
    vm = host.xe("vm-create", "name-label=refused").stdout.strip()
    r = host.xe("vif-create", f"vm-uuid={vm}", f"network-uuid={storage}", "device=0", check=False)
    assert r.returncode == 1 and "NETWORK_IS_NOT_A_VM_NETWORK" in r.stderr and storage in r.stderr
    v = host.xe("network-create", "name-label=v10").stdout.strip()
    r = host.xe("vlan-create", f"pif-uuid={pifs[1]}", "vlan=10", f"network-uuid={v}", check=False)
    assert r.returncode == 1 and "PIF_CARRIES_NON_VM_NETWORK" in r.stderr
    # Back to a VM network: the switch takes the NIC again, the address moves to the internal port.
    host.xe("network-param-set", f"uuid={storage}", "VM-network=true")
    assert "10.96.0.1" not in sh("ip", "-4", "addr", "show", "dev", e1, ns=hostns).stdout
    assert "10.96.0.1/24" in sh("ip", "-4", "addr", "show", "dev", bridge, ns=hostns).stdout
    wait_until(lambda: received(ping(phys, "10.96.0.1", count=1, check=False)) == 1, 10,
               "the host address through the switch")
    assert port_counters(host, e1) != (0, 0)


def test_required_network_without_carrier_makes_the_host_non_operational_until_it_returns(site, lab):
    host, hostns, phys, pifs = site
    me = host.xe("host-list", "--minimal").stdout.strip()
    storage = param(host, "pif", pifs[1], "network-uuid")
    state = lambda: param(host, "host", me, "network-state")  # noqa: E731
    missing = lambda: param(host, "host", me, "missing-networks")  # noqa: E731
    host.xe("network-param-set", f"uuid={storage}", "required=true")
    wait_until(lambda: state() == "operational", 10, "operational with carrier")
    def rpc(method, *params):
        result, error = host.rpc(method, *params)
        assert error is None, f"{method}: {error}"
        return result
    token = rpc("event.inject", "pool", rpc("pool.get_all")[0])
    # The NIC's far end goes down: no carrier, the host is non-operational and says why.
    sh("ip", "link", "set", lab.name("P1"), "down", ns=phys)
    wait_until(lambda: state() == "non-operational", 10, "non-operational without carrier")
    assert missing() == storage
    r = rpc("event.from", ["host"], token, 5.0)
    snaps = [ev["snapshot"] for ev in r["events"] if ev["class"] == "host"]
    assert any(sn["network_state"] == "non-operational" and
               sn["missing_networks"] == [f"OpaqueRef:{storage}"] for sn in snaps), snaps
    token = r["token"]
    # Carrier back: operational again by itself, with an event.
    sh("ip", "link", "set", lab.name("P1"), "up", ns=phys)
    wait_until(lambda: state() == "operational", 10, "operational again")
    assert missing() == ""
    r = rpc("event.from", ["host"], token, 5.0)
    assert any(ev["snapshot"]["network_state"] == "operational" for ev in r["events"])
    # A required network the host has no PIF on.
    lonely = host.xe("network-create", "name-label=lonely").stdout.strip()
    host.xe("network-param-set", f"uuid={lonely}", "required=true")
    wait_until(lambda: missing() == lonely, 10, "the network without a PIF listed")
    host.xe("network-param-set", f"uuid={lonely}", "required=false")
    wait_until(lambda: state() == "operational", 10, "operational without the requirement")


def test_host_interfaces_with_services_and_roles(site, lab):
    host, hostns, phys, pifs = site
    host.xe("pif-reconfigure-ip", f"uuid={pifs[0]}", "mode=static", "IP=10.95.0.1",
            "netmask=255.255.255.0", "gateway=10.95.0.254")
    host.xe("host-management-reconfigure", f"pif-uuid={pifs[0]}")
    host.xe("pif-reconfigure-ip", f"uuid={pifs[1]}", "mode=static", "IP=10.96.0.1",
            "netmask=255.255.255.0", "gateway=10.96.0.254")
    host.xe("pif-param-set", f"uuid={pifs[1]}", "services=storage,migration")
    out = host.xe("host-interface-list").stdout
    assert out.count("uuid ( RO)") == 2
    assert "management" in out and "migration; storage" in out
    r = host.xe("pif-param-set", f"uuid={pifs[0]}", "services=management,storage", check=False)
    assert r.returncode == 1 and "HOST_SERVICE_ALREADY_ASSIGNED" in r.stderr and pifs[1] in r.stderr
    # The default-route service takes the host's default route from the management interface.
    bridge0 = param(host, "network", param(host, "pif", pifs[0], "network-uuid"), "bridge")
    bridge1 = param(host, "network", param(host, "pif", pifs[1], "network-uuid"), "bridge")
    assert f"dev {bridge0}" in sh("ip", "route", "show", "default", ns=hostns).stdout
    host.xe("pif-param-add", f"uuid={pifs[1]}", "param-name=services", "param-key=default-route")
    assert f"via 10.96.0.254 dev {bridge1}" in sh("ip", "route", "show", "default", ns=hostns).stdout
    # Roles: one network per role in the pool; management is where the management interface is.
    net0 = param(host, "pif", pifs[0], "network-uuid")
    assert param(host, "network", net0, "roles") == "management"
    other = host.xe("network-create", "name-label=display").stdout.strip()
    host.xe("network-param-set", f"uuid={other}", "roles=display")
    r = host.xe("network-param-set", f"uuid={net0}", "roles=management,display", check=False)
    assert r.returncode == 1 and "NETWORK_ROLE_ALREADY_ASSIGNED" in r.stderr and other in r.stderr
    r = host.xe("network-param-set", f"uuid={other}", "roles=management", check=False)
    assert r.returncode == 1 and "INVALID_VALUE" in r.stderr


@pytest.fixture
def pool(lab):
    for tool in ("/usr/bin/etcd", "/usr/bin/etcdctl", "/usr/bin/openssl"):
        if not os.path.exists(tool):
            pytest.skip(f"{tool} missing: run tools/install-deps.sh")
    return PoolLab(lab, hosts=3, etcd_members=1)


def test_a_label_attaches_the_network_on_a_host_that_joins_later(pool):
    master = pool.start_host(0, found=True)
    e0 = pool.prefix + "e0"
    net = master.xe("network-create", "name-label=labelled", "MTU=1400").stdout.strip()
    master.xe("network-param-set", f"uuid={net}", "label-VLAN=77")
    master.xe("network-param-set", f"uuid={net}", "label=uplink")
    m_e0 = master.xe("pif-list", f"host-uuid={master.host_uuid}", f"device={e0}", "VLAN=-1",
                     "--minimal").stdout.strip()
    master.xe("pif-param-set", f"uuid={m_e0}", "labels=uplink")
    assert pifs_of(master, master.host_uuid, VLAN=77, currently_attached=True)
    # A host labels its NIC while standalone, then joins: the pool's network comes to it.
    h2 = pool.start_host(2)
    j_e0 = h2.xe("pif-list", f"device={e0}", "--minimal").stdout.strip()
    h2.xe("pif-param-set", f"uuid={j_e0}", "labels=uplink")
    pool.join(2)
    wait_until(lambda: pifs_of(master, h2.host_uuid, VLAN=77, currently_attached=True), 10,
               "the labelled network on the joiner")
    # The network's MTU holds on every host, through the VLAN.
    for h in (master,):
        for p in pifs_of(h, master.host_uuid, VLAN=77) + pifs_of(h, h2.host_uuid, VLAN=77):
            assert p["MTU"] == 1400
    _, _, ns0 = vm_on(pool, 0, net, "192.168.77.1/24", mtu=1400)
    _, _, ns2 = vm_on(pool, 2, net, "192.168.77.3/24", mtu=1400)
    assert received(ping(ns0, "192.168.77.3", count=4, size=1372, extra=("-M", "do"),
                         check=False)) >= 3
    # A policy set once holds on every host (the distributed switch): forged transmits rejected
    # on the network drop a spoofed source on the joiner too.
    master.xe("network-param-set", f"uuid={net}", "forged-transmits=reject")
    tap2 = sh("ip", "-o", "link", "show", ns=ns2).stdout.split("\n")[1].split(":")[1].strip().split("@")[0]
    drops = lambda: h2.ctl_request({"cmd": "stats"})["value"]["drops"].get("lock_mac", 0)  # noqa: E731
    before = drops()
    sh("ip", "link", "set", tap2, "address", "02:00:00:00:77:03", ns=ns2)
    assert received(ping(ns2, "192.168.77.1", count=3, check=False)) == 0
    assert drops() > before  # ARP and ping frames from the forged source, dropped on host 2
