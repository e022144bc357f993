"""Crash safety and restart: SIGKILL in the middle of a burst of API writes loses no acknowledged
change and leaves no half-made object; a restarted hvnetd re-creates its ports from the store."""
import signal
import threading
import time

from conftest import sh, wait_until


def test_sigkill_during_a_write_burst_keeps_every_acknowledged_change(host, lab):
    dev, peer = lab.name("e0"), lab.name("E0")
    lab.veth(dev, peer)
    host.ok("PIF.scan", host.ok("host.get_all")[0])
    pif = [p for p, r in host.ok("PIF.get_all_records").items() if r["device"] == dev][0]
    session = host.session()
    acked_networks, acked_vlans = [], []
    stop = threading.Event()

    def writer():
        tag = 1
        while not stop.is_set() and tag < 4000:
            try:
                r = host.jsonrpc("network.create", [session, {"name_label": f"burst{tag}"}])
                if r["error"]:
                    return
                acked_networks.append(r["result"])
                r = host.jsonrpc("VLAN.create", [session, pif, tag, r["result"]])
                if r["error"]:
                    return
                acked_vlans.append(r["result"])
                tag += 1
            except OSError:
                return  # the daemon died under us: this request was never acknowledged

    t = threading.Thread(target=writer)
    t.start()
    wait_until(lambda: len(acked_vlans) >= 40, 60, "40 acknowledged VLANs")
    host.stop(signal.SIGKILL)
    stop.set()
    t.join(30)
    host.start()

    networks = set(host.ok("network.get_all"))
    vlans = host.ok("VLAN.get_all_records")
    pifs = host.ok("PIF.get_all_records")
    missing = [n for n in acked_networks if n not in networks]
    assert not missing, f"{len(missing)} acknowledged networks lost"
    assert all(v in vlans for v in acked_vlans)
    # No half-made VLAN: each VLAN has its VLAN PIF and each VLAN PIF its VLAN.
    for ref, v in vlans.items():
        assert v["untagged_PIF"] in pifs and pifs[v["untagged_PIF"]]["VLAN_master_of"] == ref
    for ref, p in pifs.items():
        if p["VLAN"] != -1:
            assert p["VLAN_master_of"] in vlans
    assert len(acked_vlans) >= 40


def test_restart_recreates_ports_from_the_store(host, lab):
    dev, peer = lab.name("e1"), lab.name("E1")
    lab.veth(dev, peer)
    host.xe("pif-scan")
    pif = host.xe("pif-list", f"device={dev}", "--minimal").stdout.strip()
    host.xe("pif-plug", f"uuid={pif}")
    net = host.xe("network-create", "name-label=keep").stdout.strip()
    vm = host.xe("vm-create", "name-label=vm").stdout.strip()
    vif = host.xe("vif-create", f"vm-uuid={vm}", f"network-uuid={net}", "device=0",
                  "mac=00:16:3e:aa:bb:01").stdout.strip()
    host.xe("vif-plug", f"uuid={vif}")
    domid = host.xe("vm-param-get", f"uuid={vm}", "param-name=dom-id").stdout.strip()
    tap = f"vif{domid}.0"
    ifindex = sh("cat", f"/sys/class/net/{tap}/ifindex").stdout.strip()
    host.stop(signal.SIGKILL)
    # The VM's TAP outlives the switch (persistent) and the new hvnetd attaches to that device.
    assert sh("cat", f"/sys/class/net/{tap}/ifindex").stdout.strip() == ifindex
    host.start()
    assert sh("cat", f"/sys/class/net/{tap}/ifindex").stdout.strip() == ifindex
    assert sh("cat", f"/sys/class/net/{tap}/address").stdout.strip() == "00:16:3e:aa:bb:01"
    assert "promiscuity 1" in sh("ip", "-d", "link", "show", dev).stdout
    assert host.xe("network-list", "name-label=keep", "--minimal").stdout.strip() == net
