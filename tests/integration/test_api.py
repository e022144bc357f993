"""The XenAPI, driven with Python's own xmlrpc.client and json/urllib: every network call has a
success case and a bad-input case that checks the error code and that nothing changed."""
import json
import urllib.error
import urllib.request

import pytest

from conftest import sh


def refused(host, expected_code, method, *params):
    """Calls `method`, expects `expected_code`, and checks that no object changed."""
    before = host.state()
    result, error = host.call(method, *params)
    assert error is not None and error[0] == expected_code, (method, params, result, error)
    assert host.state() == before, f"{method} failed but changed the model"
    return error


def test_xmlrpc_envelope_sessions_and_types(host):
    x = host.xmlrpc()
    bad = x.session.login_with_password("root", "wrong")
    assert bad["Status"] == "Failure"
    assert bad["ErrorDescription"][0] == "SESSION_AUTHENTICATION_FAILED"
    s = x.session.login_with_password("root", host.PASSWORD, "1.1", "test")
    assert s["Status"] == "Success" and s["Value"].startswith("OpaqueRef:")
    sid = s["Value"]
    r = x.network.create(sid, {"name_label": "xml", "MTU": 9000, "other_config": {}})
    assert r["Status"] == "Success", r
    net = r["Value"]
    rec = x.network.get_record(sid, net)["Value"]
    assert rec["MTU"] == "9000"  # xapi sends ints as strings
    assert rec["name_label"] == "xml"
    assert x.network.get_by_name_label(sid, "xml")["Value"] == [net]
    assert x.network.frob(sid)["ErrorDescription"] == ["MESSAGE_METHOD_UNKNOWN", "network.frob"]
    assert x.network.get_record("OpaqueRef:bogus", net)["ErrorDescription"][0] == "SESSION_INVALID"
    assert x.network.get_record(sid)["ErrorDescription"][0] == "MESSAGE_PARAMETER_COUNT_MISMATCH"
    assert x.network.get_by_uuid(sid, "no-such-uuid")["ErrorDescription"] == \
        ["UUID_INVALID", "network", "no-such-uuid"]
    assert x.session.logout(sid)["Status"] == "Success"
    assert x.network.get_all(sid)["ErrorDescription"][0] == "SESSION_INVALID"


def test_jsonrpc_v1_v2_and_malformed_requests(host):
    s = host.session()
    v1 = host.jsonrpc("network.get_all", [s])
    assert v1["error"] is None and isinstance(v1["result"], list) and v1["id"] == 1
    v2 = host.jsonrpc("VLAN.create", [s, "OpaqueRef:x", 5, "OpaqueRef:y"], v2=True)
    assert v2["jsonrpc"] == "2.0" and v2["error"]["message"] == "HANDLE_INVALID"
    for raw in ("{not json", '{"method":"network.get_all","params":[],"id":null}'):
        with pytest.raises(urllib.error.HTTPError) as e:
            host.jsonrpc(None, None, raw=raw)
        assert e.value.code == 400
        assert json.loads(e.value.read())["error"][0] == "MALFORMED_REQUEST"
    req = urllib.request.Request(f"http://127.0.0.1:{host.port}/", data=b"<methodCall><oops",
                                 headers={"Content-Type": "text/xml"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == 400
    assert b"MALFORMED_REQUEST" in e.value.read()


def test_network_create_destroy_and_purposes(host):
    net = host.ok("network.create", {"name_label": "n1", "MTU": "1400"})
    assert host.ok("network.get_MTU", net) == 1400
    assert host.ok("network.get_bridge", net).startswith("xapi")
    refused(host, "MTU_INVALID", "network.create", {"name_label": "n2", "MTU": 65000})
    refused(host, "INVALID_VALUE", "network.create", {"name_label": "n2", "bridge": "xenbr77"})
    host.ok("network.create", {"name_label": "n3", "bridge": "hvtest3"})
    refused(host, "BRIDGE_NAME_EXISTS", "network.create", {"name_label": "n4", "bridge": "hvtest3"})
    host.ok("network.add_purpose", net, "nbd")
    err = refused(host, "NETWORK_INCOMPATIBLE_PURPOSES", "network.add_purpose", net, "insecure_nbd")
    assert err[1:] == ["insecure_nbd", "nbd"]
    refused(host, "INVALID_VALUE", "network.add_purpose", net, "fastest")
    host.ok("network.remove_purpose", net, "nbd")
    assert host.ok("network.get_purpose", net) == []
    refused(host, "HANDLE_INVALID", "network.destroy", "OpaqueRef:nothing")
    host.ok("network.destroy", net)
    assert net not in host.ok("network.get_all")


def test_pif_scan_plug_unplug_forget(host, lab):
    dev, peer = lab.name("e0"), lab.name("E0")
    lab.veth(dev, peer)
    host_ref = host.ok("host.get_all")[0]
    refused(host, "HANDLE_INVALID", "PIF.scan", "OpaqueRef:no-host")
    host.ok("PIF.scan", host_ref)
    pifs = [p for p, r in host.ok("PIF.get_all_records").items() if r["device"] == dev]
    assert len(pifs) == 1
    pif = pifs[0]
    rec = host.ok("PIF.get_record", pif)
    assert rec["currently_attached"] is False and rec["physical"] is True and rec["VLAN"] == -1
    assert host.ok("network.get_bridge", rec["network"]).startswith("xenbr")
    host.ok("PIF.plug", pif)
    assert host.ok("PIF.get_currently_attached", pif) is True
    assert "promiscuity 1" in sh("ip", "-d", "link", "show", dev).stdout  # the switch holds it
    refused(host, "PIF_IS_VLAN", "VLAN.create",
            host.ok("VLAN.get_untagged_PIF",
                    host.ok("VLAN.create", pif, 3, host.ok("network.create", {"name_label": "v3"}))),
            4, host.ok("network.create", {"name_label": "v4"}))
    refused(host, "PIF_VLAN_STILL_EXISTS", "PIF.forget", pif)
    for vlan in host.ok("VLAN.get_all"):
        host.ok("VLAN.destroy", vlan)
    host.ok("PIF.unplug", pif)
    assert host.ok("PIF.get_currently_attached", pif) is False
    refused(host, "HANDLE_INVALID", "PIF.unplug", "OpaqueRef:nope")
    host.ok("PIF.set_disallow_unplug", pif, True)
    refused(host, "PIF_DOES_NOT_ALLOW_UNPLUG", "PIF.unplug", pif)
    host.ok("PIF.set_disallow_unplug", pif, False)
    host.ok("PIF.forget", pif)
    assert pif not in host.ok("PIF.get_all")


def test_pif_plug_of_a_vanished_nic_fails_and_changes_nothing(host, lab):
    dev, peer = lab.name("e1"), lab.name("E1")
    lab.veth(dev, peer)
    host.ok("PIF.scan", host.ok("host.get_all")[0])
    pif = [p for p, r in host.ok("PIF.get_all_records").items() if r["device"] == dev][0]
    sh("ip", "link", "del", dev)
    err = refused(host, "PORT_OPEN_FAILED", "PIF.plug", pif)
    assert err[1] == dev


def test_vlan_create_destroy_and_pool_create_vlan(host, lab):
    pif, dev = host.pif_on_veth(lab, "e2")
    net = host.ok("network.create", {"name_label": "vlan10"})
    err = refused(host, "VLAN_TAG_INVALID", "VLAN.create", pif, 4096, net)
    assert err[1] == "4096"
    refused(host, "HANDLE_INVALID", "VLAN.create", pif, 10, "OpaqueRef:nonet")
    vlan = host.ok("VLAN.create", pif, "10", net)
    untagged = host.ok("VLAN.get_untagged_PIF", vlan)
    rec = host.ok("PIF.get_record", untagged)
    assert rec["VLAN"] == 10 and rec["device"] == dev and rec["currently_attached"] is True
    assert rec["MAC"] == "fe:ff:ff:ff:ff:ff"
    other = host.ok("network.create", {"name_label": "vlan10b"})
    err = refused(host, "PIF_VLAN_EXISTS", "VLAN.create", pif, 10, other)
    assert err[1] == dev
    refused(host, "NETWORK_ALREADY_CONNECTED", "VLAN.create", pif, 11, net)
    pifs = host.ok("pool.create_VLAN", dev, other, "11")
    assert len(pifs) == 1 and host.ok("PIF.get_VLAN", pifs[0]) == 11
    refused(host, "VLAN_TAG_INVALID", "pool.create_VLAN", dev,
            host.ok("network.create", {"name_label": "vlanbad"}), "-3")
    host.ok("VLAN.destroy", vlan)
    assert untagged not in host.ok("PIF.get_all")
    refused(host, "HANDLE_INVALID", "VLAN.destroy", vlan)


def test_vm_and_vif_calls_make_a_tap_with_the_vif_mac(host):
    net = host.ok("network.create", {"name_label": "vms"})
    vm = host.ok("VM.create", {"name_label": "vm1"})
    domid = host.ok("VM.get_domid", vm)
    refused(host, "MAC_INVALID", "VIF.create",
            {"VM": vm, "network": net, "device": "0", "MAC": "00:16:3e:zz:00:01"})
    refused(host, "INVALID_DEVICE", "VIF.create", {"VM": vm, "network": net, "device": "eth0"})
    refused(host, "HANDLE_INVALID", "VIF.create", {"VM": "OpaqueRef:novm", "network": net, "device": "0"})
    vif = host.ok("VIF.create", {"VM": vm, "network": net, "device": "0", "MAC": "00:16:3e:12:34:56"})
    refused(host, "DEVICE_ALREADY_EXISTS", "VIF.create", {"VM": vm, "network": net, "device": "0"})
    host.ok("VIF.plug", vif)
    tap = f"vif{domid}.0"
    assert sh("cat", f"/sys/class/net/{tap}/address").stdout.strip() == "00:16:3e:12:34:56"
    refused(host, "DEVICE_ALREADY_ATTACHED", "VIF.plug", vif)
    refused(host, "NETWORK_CONTAINS_VIF", "network.destroy", net)
    refused(host, "OPERATION_NOT_ALLOWED", "VIF.destroy", vif)
    host.ok("VIF.unplug", vif)
    assert sh("ip", "link", "show", tap, check=False).returncode != 0  # the TAP is gone
    refused(host, "DEVICE_ALREADY_DETACHED", "VIF.unplug", vif)
    auto = host.ok("VIF.create", {"VM": vm, "network": net, "device": "1"})
    assert host.ok("VIF.get_MAC", auto).startswith("00:16:3e:")
    host.ok("VIF.destroy", vif)
    host.ok("VM.destroy", vm)
    assert host.ok("VIF.get_all") == []
