"""Adding and removing ports and networks while traffic flows does not disturb other ports."""
import copy

from conftest import ping, received


def test_reconfiguration_keeps_unrelated_traffic_flowing(lab):
    v1, v2, v3 = lab.name("a"), lab.name("b"), lab.name("c")
    base = {"networks": [{"name": "n"}],
            "ports": [{"name": v1, "network": "n"}, {"name": v2, "network": "n"}]}
    d = lab.hvnetd(base)
    ns1, ns2 = lab.netns("x"), lab.netns("y")
    lab.vm(v1, ns1, "10.79.0.1/24")
    lab.vm(v2, ns2, "10.79.0.2/24")
    assert received(ping(ns1, "10.79.0.2", count=1)) == 1

    bigger = copy.deepcopy(base)
    bigger["networks"].append({"name": "extra", "mtu": 9000})
    bigger["ports"].append({"name": v3, "network": "n"})
    pinger = lab.spawn("ping", "-n", "-c", "400", "-i", "0.01", "-W", "1", "10.79.0.2", ns=ns1)
    applied = 0
    while pinger.poll() is None and applied < 30:
        assert d.apply(bigger if applied % 2 == 0 else base)["status"] == "ok"
        applied += 1
    out, _ = pinger.communicate(timeout=60)
    assert applied >= 10
    assert " 400 received" in out, out
    # A bad change is refused as a whole and leaves the running configuration alone.
    bad = copy.deepcopy(base)
    bad["ports"].append({"name": v3, "network": "nowhere"})
    r = d.apply(bad)
    assert r["status"] == "error" and r["error"][0] == "HANDLE_INVALID"
    assert [p["name"] for p in d.request({"cmd": "topology"})["value"]["ports"]] == [v1, v2]
    assert received(ping(ns1, "10.79.0.2", count=2)) == 2
