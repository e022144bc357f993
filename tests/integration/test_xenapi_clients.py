"""Third-party XenAPI clients against a real hvnetd: a connector that follows the web console's
sequence (JSON-RPC, then the same over XML-RPC), its cache kept by event.from while other sessions
write; tokens across a restart; Async calls and tasks; and Xen Orchestra's own npm `xen-api`."""
import json
import os
import random
import shutil
import subprocess
import threading

import pytest

from conftest import sh, wait_until
from xenapi_connector import Connector, XenApiError

def base(host):
    return f"http://127.0.0.1:{host.port}"


def assert_cache_matches(conn):
    """Through the connector's own transport (XML-RPC sends ints as strings)."""
    def equal():
        with conn.lock:
            for cls in conn.classes:
                want = conn.call(f"{cls}.get_all_records")
                have = conn.cache.get(cls.lower(), {})
                if want != have:
                    return False
            return True
    wait_until(equal, 10, "the connector's cache to equal get_all_records")


@pytest.mark.parametrize("transport", ["json", "xml"])
def test_connector_cache_follows_writes_of_other_sessions(host, transport):
    conn = Connector(base(host), "root", host.PASSWORD, prefer=transport)
    conn.connect()
    try:
        assert {"pool", "host", "network", "PIF", "VIF", "VLAN", "VM", "task"} <= set(conn.classes)
        assert len(conn.cache["pool"]) == 1 and len(conn.cache["host"]) == 1
        h = next(iter(conn.cache["host"].values()))
        assert h["API_version_major"] in (2, "2") and "network_backend" in h["software_version"]
        # Another session's writes reach the cache as add, mod, del.
        net = host.ok("network.create", {"name_label": "seen"})
        conn.wait_for(lambda: ("network", "add", net) in conn.seen, 5, "add event")
        host.ok("network.set_name_label", net, "renamed")
        conn.wait_for(lambda: conn.cache["network"].get(net, {}).get("name_label") == "renamed", 5,
                      "mod event")
        assert ("network", "mod", net) in conn.seen
        host.ok("network.destroy", net)
        conn.wait_for(lambda: ("network", "del", net) in conn.seen, 5, "del event")
        assert net not in conn.cache["network"]
        # 200 random writes from two other sessions; then the cache is the server's state.
        def writer(seed):
            rnd = random.Random(seed)
            mine = []
            vm = host.ok("VM.create", {"name_label": f"vm{seed}"})
            for i in range(100):
                op = rnd.random()
                if op < 0.35 or not mine:
                    mine.append(host.ok("network.create", {"name_label": f"w{seed}-{i}"}))
                elif op < 0.6:
                    host.ok("network.set_name_description", rnd.choice(mine), f"d{i}")
                elif op < 0.75:
                    host.ok("network.add_tags", rnd.choice(mine), f"t{i}")
                elif op < 0.9:
                    host.ok("VIF.create", {"VM": vm, "network": rnd.choice(mine), "device": str(i)})
                else:
                    victim = mine.pop(rnd.randrange(len(mine)))
                    for vif in host.ok("network.get_VIFs", victim):
                        host.ok("VIF.destroy", vif)
                    host.ok("network.destroy", victim)
        threads = [threading.Thread(target=writer, args=(s,)) for s in (1, 2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert_cache_matches(conn)
        assert not conn.errors
        # Writes through Async.*: the task's result, and a failure's error_info.
        net2 = conn.call_async("network.create", {"name_label": "async"})
        assert host.ok("network.get_name_label", net2) == "async"
        with pytest.raises(XenApiError) as e:
            conn.call_async("network.set_MTU", net2, 20)
        assert e.value.description[0] == "MTU_INVALID"
        assert host.ok("task.get_all") == []  # every task destroyed after use
    finally:
        conn.close()


def test_async_vlan_create_task_result_and_error_info(host, lab):
    pif, dev = host.pif_on_veth(lab, "e3")
    net = host.ok("network.create", {"name_label": "v"})
    s = host.session()
    x = host.xmlrpc()
    task = x.Async.VLAN.create(s, pif, "10", net)["Value"]
    wait_until(lambda: x.task.get_status(s, task)["Value"] != "pending", 5, "task end")
    rec = x.task.get_record(s, task)["Value"]
    assert rec["status"] == "success", rec
    vlan = rec["result"].replace("<value>", "").replace("</value>", "")
    assert x.VLAN.get_tag(s, vlan)["Value"] == "10"
    bad = x.Async.VLAN.create(s, pif, "4096", host.ok("network.create", {"name_label": "w"}))["Value"]
    wait_until(lambda: x.task.get_status(s, bad)["Value"] != "pending", 5, "task end")
    assert x.task.get_error_info(s, bad)["Value"][:2] == ["VLAN_TAG_INVALID", "4096"]
    for t in (task, bad):
        assert x.task.destroy(s, t)["Status"] == "Success"
    assert x.task.get_all(s)["Value"] == []
    assert x.task.get_record(s, task)["ErrorDescription"][0] == "HANDLE_INVALID"
    # <nil/> for an omitted optional parameter, and the trailing one left out entirely.
    assert x.Bond.create(s, net, [], None, None, None)["ErrorDescription"][0] != "INTERNAL_ERROR"


def test_token_survives_a_restart_or_says_events_lost(host):
    conn = Connector(base(host), "root", host.PASSWORD)
    conn.connect()
    conn.stop = True
    net = host.ok("network.create", {"name_label": "before"})
    conn.wait_for(lambda: ("network", "add", net) in conn.seen, 5, "add event")
    token = conn.token
    # Changes the client has not seen yet, then a restart.
    host.ok("network.set_name_label", net, "changed-while-away")
    gone = host.ok("network.create", {"name_label": "short-lived"})
    host.ok("network.destroy", gone)
    host.stop()
    host.start()
    with pytest.raises(XenApiError) as e:  # sessions live in memory
        conn.call("network.get_all")
    assert e.value.description[0] == "SESSION_INVALID"
    conn.login()
    try:
        r = conn.call("event.from", ["network"], token, 5.0)
    except XenApiError as lost:  # documented: resync
        assert lost.description[0] == "EVENTS_LOST"
        return
    ops = {(ev["ref"], ev["operation"]) for ev in r["events"]}
    assert (net, "mod") in ops and (gone, "del") in ops
    snap = [ev["snapshot"] for ev in r["events"] if ev["ref"] == net][0]
    assert snap["name_label"] == "changed-while-away"


def test_two_hundred_long_polls_leave_the_api_responsive(host):
    s = host.session()
    tok = host.ok("event.inject", "pool", host.ok("pool.get_all")[0])
    results = []

    def poll():
        try:
            r = host.jsonrpc("event.from", [s, ["network"], tok, 30.0])
            results.append(r)
        except Exception as e:  # noqa: BLE001 - recorded and asserted below
            results.append(e)
    threads = [threading.Thread(target=poll, daemon=True) for _ in range(200)]
    for t in threads:
        t.start()
    wait_until(lambda: host.ctl_request({"cmd": "stats"}) is not None, 5, "ctl")
    # While 200 calls wait, other calls answer (the handler pool has 4 threads).
    for _ in range(20):
        assert isinstance(host.ok("network.get_all"), list)
    net = host.ok("network.create", {"name_label": "wakes-everyone"})
    for t in threads:
        t.join(15)
    assert len(results) == 200
    for r in results:
        assert isinstance(r, dict) and r["error"] is None, r
        assert [e["ref"] for e in r["result"]["events"]] == [net]


XO_DIR = "/var/cache/hvnet-test/xen-api"


def xen_api_module():
    """npm's xen-api (Xen Orchestra's connector), installed by tools/install-deps.sh."""
    assert shutil.which("node"), "node missing: run tools/install-deps.sh"
    assert os.path.exists(os.path.join(XO_DIR, "node_modules", "xen-api")), \
        f"xen-api missing in {XO_DIR}: run tools/install-deps.sh"
    return XO_DIR


def test_xen_orchestra_xen_api_connects_and_sees_its_writes(host):
    d = xen_api_module()
    # ES modules resolve packages next to the script: run a copy from where xen-api is installed.
    script = os.path.join(d, f"xo_connect-{os.getpid()}.mjs")
    shutil.copy(os.path.join(os.path.dirname(__file__), "xo_connect.mjs"), script)
    try:
        r = subprocess.run(["node", script, base(host), "root", host.PASSWORD],
                           cwd=d, capture_output=True, text=True, timeout=90)
    finally:
        os.unlink(script)
    assert r.returncode == 0, r.stdout + r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["pools"] == 1 and out["hosts"] == 1
    assert host.ok("network.get_by_name_label", "from-xo") == [out["network"]]
