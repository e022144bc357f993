"""Pools on etcd: hosts in namespaces join a pool, its networks, VLANs and bonds reach every
member, VMs on different hosts talk over a pool VLAN through the physical switch, the master
fails over by itself, writes survive etcd members going away, and eject returns a host to
standalone. See pool_lab.py for the topology."""
import os
import signal
import threading

import pytest

from conftest import ping, received, sh, wait_until
from pool_lab import PoolLab


@pytest.fixture
def pool(lab):
    for tool in ("/usr/bin/etcd", "/usr/bin/etcdctl", "/usr/bin/openssl"):
        if not os.path.exists(tool):
            pytest.skip(f"{tool} missing: run tools/install-deps.sh")
    return PoolLab(lab)


def pifs_of(h, host_uuid, **where):
    out = []
    for ref, r in h.ok("PIF.get_all_records").items():
        host = h.uuid("host", r["host"])
        if host == host_uuid and all(r[k] == v for k, v in where.items()):
            out.append(r)
    return out


def vm_on(pool, i, network_uuid, cidr, role=None, mtu=None):
    """A VM on host i with a VIF on the network, its TAP moved into a namespace of its own
    (`role`, default v<i>) with `mtu` if given."""
    h = pool.hosts[i]
    vm = h.xe("vm-create", f"name-label={role or f'vm{i}'}").stdout.strip()
    vif = h.xe("vif-create", f"vm-uuid={vm}", f"network-uuid={network_uuid}", "device=0").stdout.strip()
    h.xe("vif-plug", f"uuid={vif}")
    domid = h.xe("vm-param-get", f"uuid={vm}", "param-name=dom-id").stdout.strip()
    tap = f"vif{domid}.0"
    wait_until(lambda: sh("ip", "link", "show", tap, ns=pool.ns[i], check=False).returncode == 0,
               10, f"{tap} on host {i}")
    ns = pool.lab.netns(role or f"v{i}")
    sh("ip", "link", "set", tap, "netns", ns, ns=pool.ns[i])
    if mtu:
        sh("ip", "link", "set", tap, "mtu", str(mtu), ns=ns)
    sh("ip", "addr", "add", cidr, "dev", tap, ns=ns)
    sh("ip", "link", "set", tap, "up", ns=ns)
    return vm, vif, ns


def test_join_pool_network_vlan_and_vms_on_two_hosts_ping_over_it(pool):
    master = pool.start_host(0, found=True)
    h1 = pool.start_host(1)
    out = pool.join(1)
    assert "pinned" in out
    both = {master.host_uuid, h1.host_uuid}
    wait_until(lambda: pool.hosts_seen_by(0) == both, 10, "the joiner on the master")
    assert pool.hosts_seen_by(1) == both
    assert h1.xe("pool-param-get", f"uuid={h1.xe('pool-list', '--minimal').stdout.strip()}",
                 "param-name=master").stdout.strip() == master.host_uuid
    # The joiner's eth0 is on the pool's network of eth0 (same bridge), not a network of its own.
    e0 = pool.prefix + "e0"
    m_pif, j_pif = pifs_of(master, master.host_uuid, device=e0)[0], pifs_of(master, h1.host_uuid, device=e0)[0]
    assert m_pif["network"] == j_pif["network"]
    # pif-scan of the joiner through the master: the joiner scans its own NICs.
    sh("ip", "link", "add", pool.prefix + "e3", "type", "veth", "peer", "name", pool.prefix + "e4",
       ns=pool.ns[1])
    master.xe("pif-scan", f"host-uuid={h1.host_uuid}")
    assert pifs_of(master, h1.host_uuid, device=pool.prefix + "e3")
    assert not pifs_of(master, master.host_uuid, device=pool.prefix + "e3")

    # A third host, then a pool network made through a joiner and a pool VLAN on eth0 of all.
    h2 = pool.start_host(2)
    pool.join(2)
    both = both | {h2.host_uuid}
    net = h1.xe("network-create", "name-label=vlan100").stdout.strip()
    for h in (master, h2):
        wait_until(lambda: net in h.xe("network-list", "--minimal").stdout, 10, "network everywhere")
    m_pif_uuid = master.xe("pif-list", f"host-uuid={master.host_uuid}", f"device={e0}", "VLAN=-1",
                           "--minimal").stdout.strip()
    vlan_pifs = master.xe("pool-vlan-create", f"pif-uuid={m_pif_uuid}", "vlan=100",
                          f"network-uuid={net}").stdout.strip().split(",")
    assert len(vlan_pifs) == 3
    for h in (master, h1, h2):
        for host in both:
            wait_until(lambda: pifs_of(h, host, VLAN=100, currently_attached=True), 10,
                       "VLAN 100 PIF everywhere")

    _, _, ns0 = vm_on(pool, 0, net, "192.168.100.1/24")
    _, _, ns1 = vm_on(pool, 1, net, "192.168.100.2/24")
    assert received(ping(ns0, "192.168.100.2", count=5, check=False)) >= 4


def test_bond_on_the_master_is_copied_to_a_host_that_joins_later(pool):
    master = pool.start_host(0, found=True)
    e1, e2 = pool.prefix + "e1", pool.prefix + "e2"
    members = [master.xe("pif-list", f"device={d}", "--minimal").stdout.strip() for d in (e1, e2)]
    net = master.xe("network-create", "name-label=bonded").stdout.strip()
    master.xe("bond-create", f"network-uuid={net}", f"pif-uuids={','.join(members)}",
              "mode=active-backup")
    h2 = pool.start_host(2)
    pool.join(2)
    bonds = master.ok("Bond.get_all_records")
    assert len(bonds) == 2
    joiner_bond = [b for b in bonds.values()
                   if master.uuid("host", master.ok("PIF.get_host", b["master"])) == h2.host_uuid]
    assert joiner_bond and joiner_bond[0]["mode"] == "active-backup"
    slaves = {master.ok("PIF.get_device", s) for s in joiner_bond[0]["slaves"]}
    assert slaves == {e1, e2}
    # And the joiner runs it: its bond PIF is plugged on the bonded network.
    wait_until(lambda: pifs_of(h2, h2.host_uuid, device="bond0", currently_attached=True), 10,
               "bond0 on the joiner")


def test_join_refusals_carry_xapi_codes(pool):
    pool.start_host(0, found=True)
    h1 = pool.start_host(1)
    r = h1.xe("pool-join", f"master-address={pool.addrs[0]}", "master-username=root",
              "master-password=wrong", check=False)
    assert r.returncode != 0 and "POOL_JOINING_HOST_SERVICE_FAILED" in r.stderr, r.stderr
    r = h1.xe("pool-join", f"master-address={pool.subnet}.99", "master-username=root",
              "master-password=x", check=False)
    assert r.returncode != 0 and "POOL_JOINING_HOST_CONNECTION_FAILED" in r.stderr, r.stderr
    members = [h1.xe("pif-list", f"device={pool.prefix}{d}", "--minimal").stdout.strip() for d in ("e1", "e2")]
    net = h1.xe("network-create", "name-label=b").stdout.strip()
    h1.xe("bond-create", f"network-uuid={net}", f"pif-uuids={','.join(members)}")
    r = h1.xe("pool-join", f"master-address={pool.addrs[0]}", "master-username=root",
              f"master-password={h1.PASSWORD}", check=False)
    assert r.returncode != 0 and "POOL_JOINING_HOST_HAS_BONDS" in r.stderr, r.stderr
    assert len(pool.hosts_seen_by(1)) == 1  # still standalone


def test_master_killed_a_new_one_is_elected_and_writes_go_on(pool):
    master = pool.start_host(0, found=True)
    for i in (1, 2):
        pool.start_host(i)
        pool.join(i)
    h1 = pool.hosts[1]
    pool_uuid = h1.xe("pool-list", "--minimal").stdout.strip()
    get_master = lambda h: h.xe("pool-param-get", f"uuid={pool_uuid}", "param-name=master").stdout.strip()  # noqa: E731
    assert get_master(h1) == master.host_uuid
    # A session made on the master is the pool's: a client that fails over keeps it.
    session, err = master.rpc("session.login_with_password", "root", master.PASSWORD, session=False)
    assert err is None
    master.proc.send_signal(signal.SIGKILL)
    master.proc.wait()
    new = wait_until(lambda: get_master(h1) if get_master(h1) != master.host_uuid else None, 10,
                     "a new master")
    assert new in (pool.hosts[1].host_uuid, pool.hosts[2].host_uuid)
    net = pool.hosts[2].xe("network-create", "name-label=after").stdout.strip()
    wait_until(lambda: net in h1.xe("network-list", "--minimal").stdout, 10, "write seen by h1")
    hosts, err = pool.hosts[2].rpc("host.get_all", session, session=False)
    assert err is None and len(hosts) == 3, err


def test_writes_survive_one_etcd_member_and_are_refused_without_quorum(pool):
    master = pool.start_host(0, found=True)
    h1 = pool.start_host(1)
    pool.join(1)
    e0 = pifs_of(master, master.host_uuid, device=pool.prefix + "e0", VLAN=-1)[0]
    net = master.uuid("network", e0["network"])
    # Both hosts' eth0 plugged through the master's API: a member runs what is its own.
    for host in (master, h1):
        pif = pifs_of(master, host.host_uuid, device=pool.prefix + "e0", VLAN=-1)[0]["uuid"]
        master.xe("pif-plug", f"uuid={pif}")
    _, _, ns0 = vm_on(pool, 0, net, "192.168.50.1/24")
    _, _, ns1 = vm_on(pool, 1, net, "192.168.50.2/24")
    assert received(ping(ns0, "192.168.50.2", count=3, check=False)) >= 2
    acked = []
    pool.kill_etcd(2)
    acked.append(h1.xe("network-create", "name-label=one-down").stdout.strip())
    pool.kill_etcd(1)
    r = h1.xe("network-create", "name-label=no-quorum", check=False)
    assert r.returncode != 0 and "ETCD_UNAVAILABLE" in r.stderr, r.stderr
    # Reads are served from the host's last view, and the data plane does not need etcd.
    assert acked[0] in h1.xe("network-list", "--minimal").stdout
    assert received(ping(ns0, "192.168.50.2", count=3, check=False)) >= 2
    pool.start_etcd(1)
    pool.start_etcd(2)
    wait_until(pool.etcd_healthy, 30, "etcd back")

    def write():
        r = master.xe("network-create", "name-label=back", check=False)
        return r.stdout.strip() if r.returncode == 0 else None
    acked.append(wait_until(write, 20, "writes again"))
    for h in (master, h1):
        wait_until(lambda: all(n in h.xe("network-list", "--minimal").stdout for n in acked), 15,
                   "every acknowledged write on every host")


def test_two_hosts_add_500_keys_each_to_one_object_concurrently(pool):
    master = pool.start_host(0, found=True)
    h1 = pool.start_host(1)
    pool.join(1)
    net = master.xe("network-create", "name-label=shared").stdout.strip()
    wait_until(lambda: net in h1.xe("network-list", "--minimal").stdout, 10, "network on h1")
    failures = []

    def add(h, prefix):
        session, _ = h.rpc("session.login_with_password", "root", h.PASSWORD, session=False)
        ref, _ = h.rpc("network.get_by_uuid", net)
        for k in range(500):
            # STORE_CONFLICT is retryable by definition: a client tries again.
            for _ in range(20):
                _, err = h.rpc("network.add_to_other_config", session, ref, f"{prefix}{k}", "v",
                               session=False)
                if not err or err["message"] != "STORE_CONFLICT":
                    break
            if err:
                failures.append(err)

    threads = [threading.Thread(target=add, args=(h, p)) for h, p in ((master, "a"), (h1, "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures[:3]
    for h in (master, h1):
        def count():
            oc = h.ok("network.get_other_config", h.ok("network.get_by_uuid", net))
            return len([k for k in oc if k[0] in "ab" and k[1:].isdigit()]) == 1000
        wait_until(count, 15, "all 1,000 keys")


def test_eject_refused_with_a_plugged_vif_then_returns_the_host_to_standalone(pool):
    master = pool.start_host(0, found=True)
    h1 = pool.start_host(1)
    pool.join(1)
    r = master.xe("pool-eject", f"host-uuid={master.host_uuid}", check=False)
    assert r.returncode != 0 and "HOST_CANNOT_DESTROY_SELF" in r.stderr, r.stderr
    net = master.xe("network-create", "name-label=vms").stdout.strip()
    vm = h1.xe("vm-create", "name-label=busy").stdout.strip()
    vif = h1.xe("vif-create", f"vm-uuid={vm}", f"network-uuid={net}", "device=0").stdout.strip()
    h1.xe("vif-plug", f"uuid={vif}")
    r = master.xe("pool-eject", f"host-uuid={h1.host_uuid}", check=False)
    assert r.returncode != 0 and "OPERATION_NOT_ALLOWED" in r.stderr, r.stderr
    h1.xe("vif-unplug", f"uuid={vif}")
    master.xe("pool-eject", f"host-uuid={h1.host_uuid}")
    assert pool.hosts_seen_by(0) == {master.host_uuid}
    # The ejected host notices by itself: standalone, one host, its own NICs scanned anew.
    wait_until(lambda: len(pool.hosts_seen_by(1)) == 1 and pool.hosts_seen_by(1) != {h1.host_uuid}
               or pool.hosts_seen_by(1) == {h1.host_uuid} and False, 15, "h1 standalone")
    devices = set(h1.xe("pif-list", "params=device", "--minimal").stdout.strip().split(","))
    assert {pool.prefix + "e0", pool.prefix + "e1"} <= devices
    assert master.host_uuid not in pool.hosts_seen_by(1)


def test_a_member_that_was_down_catches_up_on_restart(pool):
    master = pool.start_host(0, found=True)
    h1 = pool.start_host(1)
    pool.join(1)
    h1.stop()
    net = master.xe("network-create", "name-label=while-down").stdout.strip()
    h1.start()
    assert net in h1.xe("network-list", "--minimal").stdout
    assert pool.hosts_seen_by(1) == {master.host_uuid, h1.host_uuid}
