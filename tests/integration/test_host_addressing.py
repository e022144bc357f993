"""Host addressing: management and storage interfaces, DHCP from dnsmasq, the management move,
the automatic rollback of a management change that loses its gateway, and the bad-input errors.
hvnetd runs in a host namespace of its own (and UTS namespace) so routes and host name are its."""
import os
import re

import pytest

from conftest import host_with_physical_peers, ping, received, sh, wait_until


@pytest.fixture
def site(lab):
    """hvnetd in a namespace of its own, PIFs e0/e1 towards 10.95.0.254 and 10.96.0.254."""
    return host_with_physical_peers(lab, confirm_timeout=3)


def bridge_of(host, pif):
    net = host.xe("pif-param-get", f"uuid={pif}", "param-name=network-uuid").stdout.strip()
    return host.xe("network-param-get", f"uuid={net}", "param-name=bridge").stdout.strip()


def static(host, pif, ip, gw="", dns="", check=True):
    args = [f"uuid={pif}", "mode=static", f"IP={ip}", "netmask=255.255.255.0"]
    args += [f"gateway={gw}"] if gw else []
    args += [f"DNS={dns}"] if dns else []
    return host.xe("pif-reconfigure-ip", *args, check=check)


def test_static_management_interface_is_reachable_with_route_and_dns(site):
    host, hostns, phys, pifs = site
    static(host, pifs[0], "10.95.0.1", gw="10.95.0.254", dns="10.95.0.53,10.95.0.54")
    host.xe("host-management-reconfigure", f"pif-uuid={pifs[0]}")
    assert received(ping(phys, "10.95.0.1", count=3)) == 3
    br = bridge_of(host, pifs[0])
    assert re.search(rf"default via 10\.95\.0\.254 dev {br}", sh("ip", "route", ns=hostns).stdout)
    with open(host.resolv_conf) as f:
        assert f.read().splitlines()[1:] == ["nameserver 10.95.0.53", "nameserver 10.95.0.54"]
    assert host.xe("pif-param-get", f"uuid={pifs[0]}", "param-name=management").stdout.strip() == "true"
    # A storage interface on its own subnet: reachable, no default route of its own.
    static(host, pifs[1], "10.96.0.1")
    host.xe("pif-param-set", f"uuid={pifs[1]}", "disallow-unplug=true",
            "other-config:management_purpose=Storage")
    assert received(ping(phys, "10.96.0.1", count=2)) == 2
    assert sh("ip", "route", ns=hostns).stdout.count("default") == 1
    r = host.xe("pif-unplug", f"uuid={pifs[1]}", check=False)
    assert r.returncode == 1 and "PIF_DOES_NOT_ALLOW_UNPLUG" in r.stderr


def test_dhcp_lease_from_dnsmasq(site, lab):
    host, hostns, phys, pifs = site
    lease_dir = os.path.join(str(lab.tmp_path), "dnsmasq")
    os.makedirs(lease_dir)
    lab.spawn("dnsmasq", "--no-daemon", "--port=0", f"--interface={lab.name('P1')}",
              "--bind-interfaces", "--dhcp-range=10.96.0.50,10.96.0.50,255.255.255.0,1h",
              f"--dhcp-leasefile={lease_dir}/leases", "--dhcp-option=3,10.96.0.254",
              f"--pid-file={lease_dir}/pid", ns=phys)
    host.xe("pif-reconfigure-ip", f"uuid={pifs[1]}", "mode=dhcp")
    assert host.xe("pif-param-get", f"uuid={pifs[1]}", "param-name=IP-configuration-mode").stdout.strip() == "DHCP"
    wait_until(lambda: received(ping(phys, "10.96.0.50", count=1, check=False)) == 1, 30,
               "the DHCP lease on the host")
    # Not the management interface: no default route from its lease.
    assert "default" not in sh("ip", "route", ns=hostns).stdout


def test_moving_management_moves_the_default_route(site):
    host, hostns, phys, pifs = site
    static(host, pifs[0], "10.95.0.1", gw="10.95.0.254")
    host.xe("host-management-reconfigure", f"pif-uuid={pifs[0]}")
    static(host, pifs[1], "10.96.0.1", gw="10.96.0.254")
    assert f"dev {bridge_of(host, pifs[0])}" in sh("ip", "route", "show", "default", ns=hostns).stdout
    host.xe("host-management-reconfigure", f"pif-uuid={pifs[1]}")
    route = sh("ip", "route", "show", "default", ns=hostns).stdout
    assert f"via 10.96.0.254 dev {bridge_of(host, pifs[1])}" in route
    assert host.xe("pif-param-get", f"uuid={pifs[0]}", "param-name=management").stdout.strip() == "false"
    assert host.xe("pif-param-get", f"uuid={pifs[1]}", "param-name=management").stdout.strip() == "true"
    net1 = host.xe("pif-param-get", f"uuid={pifs[0]}", "param-name=network-uuid").stdout.strip()
    host.xe("pool-management-reconfigure", f"network-uuid={net1}")
    assert f"dev {bridge_of(host, pifs[0])}" in sh("ip", "route", "show", "default", ns=hostns).stdout
    host.xe("host-management-disable")
    assert host.xe("pif-list", "management=true", "--minimal").stdout.strip() == ""


def test_management_change_that_loses_the_gateway_rolls_back_by_itself(site):
    host, hostns, phys, pifs = site
    static(host, pifs[0], "10.95.0.1", gw="10.95.0.254")
    host.xe("host-management-reconfigure", f"pif-uuid={pifs[0]}")
    assert received(ping(phys, "10.95.0.1", count=1)) == 1
    # A typo: the new gateway does not exist. Accepted, then undone after the 3 s deadline.
    static(host, pifs[0], "10.95.0.2", gw="10.95.0.201")
    assert host.xe("pif-param-get", f"uuid={pifs[0]}", "param-name=IP").stdout.strip() == "10.95.0.2"
    wait_until(lambda: host.xe("pif-param-get", f"uuid={pifs[0]}", "param-name=IP").stdout.strip()
               == "10.95.0.1", 15, "automatic rollback")
    assert host.xe("pif-param-get", f"uuid={pifs[0]}", "param-name=gateway").stdout.strip() == "10.95.0.254"
    wait_until(lambda: received(ping(phys, "10.95.0.1", count=1, check=False)) == 1, 10,
               "old address back")
    # The same change confirmed by the administrator stays.
    static(host, pifs[0], "10.95.0.3", gw="10.95.0.202")
    host.xe("host-management-confirm")
    import time
    time.sleep(4)  # past the deadline: nothing may be undone (this waits for an absence)
    assert host.xe("pif-param-get", f"uuid={pifs[0]}", "param-name=IP").stdout.strip() == "10.95.0.3"
    # A change whose gateway answers needs no confirmation.
    static(host, pifs[0], "10.95.0.4", gw="10.95.0.254")
    time.sleep(4)
    assert host.xe("pif-param-get", f"uuid={pifs[0]}", "param-name=IP").stdout.strip() == "10.95.0.4"


def test_bad_input_is_refused_and_changes_nothing(site, lab):
    host, hostns, phys, pifs = site
    static(host, pifs[0], "10.95.0.1", gw="10.95.0.254")
    host.xe("host-management-reconfigure", f"pif-uuid={pifs[0]}")
    before = host.xe("pif-list", "params=all").stdout, host.xe("host-list", "params=all").stdout
    cases = [
        (["pif-reconfigure-ip", f"uuid={pifs[1]}", "mode=static", "IP=10.96.0.300", "netmask=255.255.255.0"], "INVALID_IP_ADDRESS_SPECIFIED"),
        (["pif-reconfigure-ip", f"uuid={pifs[1]}", "mode=static", "IP=10.96.0.1", "netmask=255.0.255.0"], "INVALID_IP_ADDRESS_SPECIFIED"),
        (["pif-reconfigure-ip", f"uuid={pifs[1]}", "mode=static", "IP=10.96.0.1", "netmask=255.255.255.0", "gateway=10.97.0.1"], "INVALID_IP_ADDRESS_SPECIFIED"),
        (["pif-reconfigure-ip", f"uuid={pifs[1]}", "mode=static", "IP=10.96.0.1", "netmask=255.255.255.0", "DNS=dns.example"], "INVALID_IP_ADDRESS_SPECIFIED"),
        (["pif-reconfigure-ip", f"uuid={pifs[1]}", "mode=static", "IP=10.95.0.9", "netmask=255.255.255.0"], "PIF_SUBNET_OVERLAPS"),
        (["pif-reconfigure-ip", f"uuid={pifs[1]}", "mode=sometimes"], "INVALID_VALUE"),
        (["pif-reconfigure-ip", f"uuid={pifs[0]}", "mode=none"], "PIF_IS_MANAGEMENT_INTERFACE"),
        (["host-management-reconfigure", f"pif-uuid={pifs[1]}"], "PIF_HAS_NO_NETWORK_CONFIGURATION"),
        (["host-set-hostname-live", "host-uuid=" + host.xe("host-list", "--minimal").stdout.strip(), "host-name=-bad-"], "HOST_NAME_INVALID"),
        (["host-set-hostname-live", "host-uuid=" + host.xe("host-list", "--minimal").stdout.strip(), "host-name=a b"], "HOST_NAME_INVALID"),
        (["pool-management-reconfigure", "network-uuid=" + host.xe("network-create", "name-label=empty").stdout.strip()], "PIF_NOT_PRESENT"),
    ]
    for args, code in cases:
        r = host.xe(*args, check=False)
        assert r.returncode == 1 and code in r.stderr, (args, r.stderr)
    host.xe("pif-unplug", f"uuid={pifs[1]}")
    r = host.xe("pif-reconfigure-ip", f"uuid={pifs[1]}", "mode=dhcp", check=False)
    assert r.returncode == 1 and "REQUIRED_PIF_IS_UNPLUGGED" in r.stderr
    host.xe("pif-plug", f"uuid={pifs[1]}")
    after = host.xe("pif-list", "params=all").stdout, host.xe("host-list", "params=all").stdout
    assert after == before


def test_hostname_live(site):
    host, hostns, phys, pifs = site
    h = host.xe("host-list", "--minimal").stdout.strip()
    host.xe("host-set-hostname-live", f"host-uuid={h}", "host-name=hv-test-01")
    assert host.xe("host-param-get", f"uuid={h}", "param-name=hostname").stdout.strip() == "hv-test-01"
    # (ip netns exec and unshare exec into hvnetd: host.proc.pid is hvnetd in its UTS namespace)
    assert sh("nsenter", "--uts", "-t", str(host.proc.pid), "hostname").stdout.strip() == "hv-test-01"
    assert sh("hostname").stdout.strip() != "hv-test-01"  # the machine's own name is untouched


def test_static_ipv6_and_its_errors(site):
    host, hostns, phys, pifs = site
    sh("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=0", ns=phys)
    peer = [d for d in sh("ls", "/sys/class/net", ns=phys).stdout.split() if d.endswith("P0")][0]
    sh("sysctl", "-qw", f"net/ipv6/conf/{peer}/disable_ipv6=0", ns=phys)
    sh("ip", "-6", "addr", "add", "fd95::254/64", "dev", peer, "nodad", ns=phys)
    host.xe("pif-reconfigure-ipv6", f"uuid={pifs[0]}", "mode=static", "IPv6=fd95::1/64",
            "gateway=fd95::254")
    assert host.xe("pif-param-get", f"uuid={pifs[0]}", "param-name=IPv6").stdout.strip() == "fd95::1/64"
    wait_until(lambda: received(ping(phys, "fd95::1", count=1, check=False)) == 1, 10, "IPv6 address")
    before = host.xe("pif-list", "params=all").stdout
    for args, code in ((["mode=static", "IPv6=fd95::1"], "INVALID_CIDR_ADDRESS_SPECIFIED"),
                       (["mode=static", "IPv6=fd95::zz/64"], "INVALID_CIDR_ADDRESS_SPECIFIED"),
                       (["mode=static", "IPv6=fd95::1/64", "gateway=10.0.0.1"], "INVALID_IP_ADDRESS_SPECIFIED"),
                       (["mode=sometimes"], "INVALID_VALUE")):
        r = host.xe("pif-reconfigure-ipv6", f"uuid={pifs[0]}", *args, check=False)
        assert r.returncode == 1 and code in r.stderr, (args, r.stderr)
    assert host.xe("pif-list", "params=all").stdout == before
    host.xe("pif-reconfigure-ipv6", f"uuid={pifs[0]}", "mode=none")
    wait_until(lambda: received(ping(phys, "fd95::1", count=1, check=False)) == 0, 10, "IPv6 removed")
