"""Private networks across a pool's hosts: tunnel-create on each host's transport PIF and hvnet,
its own controller, gives the network one VNI and a full mesh of VXLAN tunnels between the
hosts' transport addresses. VMs on different hosts ping and run TCP with default offloads, two
networks with the same inner addresses stay apart, and a host that leaves takes its tunnels
with it. See pool_lab.py for the hosts."""
import os

import pytest

from conftest import ping, received, sh, wait_until
from pool_lab import PoolLab
from test_pif_backend import iperf_bytes


@pytest.fixture
def pool(lab):
    for tool in ("/usr/bin/etcd", "/usr/bin/etcdctl", "/usr/bin/openssl"):
        if not os.path.exists(tool):
            pytest.skip(f"{tool} missing: run tools/install-deps.sh")
    return PoolLab(lab)


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
    """A VM on host i with one VIF on `network`, its TAP moved into namespace `role`."""
    h = pool.hosts[i]
    uuid = h.xe("vm-create", f"name-label={role}").stdout.strip()
    vif = h.xe("vif-create", f"vm-uuid={uuid}", f"network-uuid={network}", "device=0").stdout.strip()
    h.xe("vif-plug", f"uuid={vif}")
    domid = h.xe("vm-param-get", f"uuid={uuid}", "param-name=dom-id").stdout.strip()
    tap = f"vif{domid}.0"
    wait_until(lambda: sh("ip", "link", "show", tap, ns=pool.ns[i], check=False).returncode == 0,
               10, f"{tap} on host {i}")
    ns = pool.lab.netns(role)
    sh("ip", "link", "set", tap, "netns", ns, ns=pool.ns[i])
    sh("ip", "link", "set", tap, "mtu", str(mtu), ns=ns)
    sh("ip", "addr", "add", cidr, "dev", tap, ns=ns)
    sh("ip", "link", "set", tap, "up", ns=ns)
    return vif, ns, tap


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

    _, a0, _ = vm(pool, 0, nets["a"], "192.168.77.1/24", "a0")
    _, a1, _ = vm(pool, 1, nets["a"], "192.168.77.2/24", "a1")
    vif2, a2, tap2 = vm(pool, 2, nets["a"], "192.168.77.3/24", "a2")
    _, b0, _ = vm(pool, 0, nets["b"], "192.168.77.1/24", "b0")
    _, b1, tap_b1 = vm(pool, 1, nets["b"], "192.168.77.2/24", "b1")
    assert received(ping(a0, "192.168.77.2", count=3)) == 3
    assert received(ping(a0, "192.168.77.3", count=3)) == 3
    assert received(ping(a2, "192.168.77.2", count=3)) == 3
    # Same addresses on network b: b0 reaches b1, whose MAC it learns, not a1's.
    assert received(ping(b0, "192.168.77.2", count=3)) == 3
    b1_mac = sh("cat", f"/sys/class/net/{tap_b1}/address", ns=b1).stdout.strip()
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
    _, c0, _ = vm(pool, 0, net_c, "192.168.77.1/24", "c0", mtu=1458)
    _, c1, _ = vm(pool, 1, net_c, "192.168.77.2/24", "c1", mtu=1458)
    assert received(ping(c0, "192.168.77.2", count=3, size=1430, extra=("-M", "do"))) == 3
    got = iperf_bytes(pool.lab, c1, c0, "192.168.77.2")
    assert got > 20_000_000, f"GRE: only {got} bytes"

    # Host 2 leaves the pool: its tunnels go, and the others stop sending to it.
    pool.hosts[2].xe("vif-unplug", f"uuid={vif2}")
    master.xe("pool-eject", f"host-uuid={pool.hosts[2].host_uuid}")
    for i in (0, 1):
        want = [transport_ip(pool, 1 - i)]
        wait_until(lambda: remotes(pool.hosts[i], vni_a) == want, 15, f"host {i}'s remotes")
    assert len(master.ok("tunnel.get_all_records")) == 6
    assert received(ping(a0, "192.168.77.2", count=3)) == 3
    assert received(ping(a0, "192.168.77.3", count=2, check=False)) == 0
