"""xe's records against XenServer's: the fields `xe <class>-list params=all` prints, their order
and their labels, compared with tests/data/xapi-records.json (extracted from xapi's records.ml at
the commit it names by tools/xapi-records.py). network, PIF, VIF, Bond and VLAN show XenServer's
layout in full; host and pool show the part of it that hvnet has, in its order."""
import json
import os
import re

import pytest

from conftest import sh, wait_until

REFERENCE = json.load(open(os.path.join(os.path.dirname(__file__), "..", "data", "xapi-records.json")))
LINE = re.compile(r"^\s*(\S+) \((SRO|SRW|MRO|MRW| RO| RW)\)\s*: ?(.*)$")


def records(text):
    """[(name, label, value)] per record block of xe output."""
    out = []
    for block in text.strip().split("\n\n"):
        rows = []
        for line in block.splitlines():
            m = LINE.match(line)
            assert m, f"not an xe record line: {line!r}"
            rows.append((m.group(1), m.group(2), m.group(3)))
        out.append(rows)
    return out


def reference(cls):
    return [(f["name"], f["label"]) for f in REFERENCE["classes"][cls] if not f["hidden"]]


@pytest.fixture
def objects(host, lab):
    """A VM with a VIF on a network, a VLAN on one PIF and a bond of two others."""
    devs = []
    for i in range(3):
        dev, peer = lab.name(f"r{i}"), lab.name(f"R{i}")
        lab.veth(dev, peer)
        devs.append(dev)
    host.xe("pif-scan")
    pifs = [host.xe("pif-list", f"device={d}", "--minimal").stdout.strip() for d in devs]
    net = host.xe("network-create", "name-label=records net").stdout.strip()
    vlan_net = host.xe("network-create", "name-label=records vlan").stdout.strip()
    host.xe("vlan-create", f"network-uuid={vlan_net}", f"pif-uuid={pifs[0]}", "vlan=7")
    bond_net = host.xe("network-create", "name-label=records bond").stdout.strip()
    host.xe("bond-create", f"network-uuid={bond_net}", f"pif-uuids={pifs[1]},{pifs[2]}",
            "mode=active-backup")
    vm = host.xe("vm-create", "name-label=records vm").stdout.strip()
    vif = host.xe("vif-create", f"vm-uuid={vm}", f"network-uuid={net}", "device=0").stdout.strip()
    return {"vm": vm, "vif": vif, "net": net, "pifs": pifs, "devs": devs}


@pytest.mark.parametrize("cls", ["network", "pif", "vif", "bond", "vlan"])
def test_list_params_all_is_xenservers_layout(host, objects, cls):
    out = host.xe(f"{cls}-list", "params=all").stdout
    blocks = records(out)
    assert blocks, out
    for rows in blocks:
        assert [(n, l) for n, l, _ in rows] == reference(cls)


@pytest.mark.parametrize("cls", ["host", "pool"])
def test_host_and_pool_show_xenservers_fields_in_its_order(host, objects, cls):
    ref = reference(cls)
    for rows in records(host.xe(f"{cls}-list", "params=all").stdout):
        shown = [(n, l) for n, l, _ in rows]
        assert all(f in ref for f in shown), [f for f in shown if f not in ref]
        assert sorted(shown, key=ref.index) == shown


def test_the_vif_record_has_xenservers_27_fields_with_real_values(host, objects):
    vif = objects["vif"]
    assert len(reference("vif")) == 27
    rows = records(host.xe("vif-param-list", f"uuid={vif}").stdout)[0]
    assert [(n, l) for n, l, _ in rows] == reference("vif")
    values = {n: v for n, _, v in rows}
    assert values["vm-uuid"] == objects["vm"]
    assert values["vm-name-label"] == "records vm"
    assert values["network-uuid"] == objects["net"]
    assert values["network-name-label"] == "records net"
    assert values["allowed-operations"] == "plug"
    assert values["current-operations"] == ""
    assert values["locking-mode"] == "network_default"
    assert values["ipv4-configuration-mode"] == "None"
    assert values["ipv6-configuration-mode"] == "None"
    assert re.fullmatch(r"00:16:3e:[0-7][0-9a-f]:[0-9a-f]{2}:[0-9a-f]{2}", values["MAC"])
    # A rate from the data plane once the VIF is plugged; lists leave it out as xe does.
    host.xe("vif-plug", f"uuid={vif}")
    assert host.xe("vif-param-get", f"uuid={vif}", "param-name=allowed-operations").stdout.strip() == "unplug"
    assert re.fullmatch(r"\d+\.\d{3}", host.xe("vif-param-get", f"uuid={vif}",
                                               "param-name=io_read_kbs").stdout.strip())
    listed = {n: v for n, _, v in records(host.xe("vif-list", f"uuid={vif}", "params=all").stdout)[0]}
    assert listed["io_read_kbs"] == "<expensive field>"
    # RW and SRW fields are settable through param-set, as their labels say.
    host.xe("vif-param-set", f"uuid={vif}", "locking-mode=locked", "ipv4-allowed=10.0.0.5")
    assert host.xe("vif-param-get", f"uuid={vif}", "param-name=locking-mode").stdout.strip() == "locked"
    assert host.xe("vif-param-get", f"uuid={vif}", "param-name=ipv4-allowed").stdout.strip() == "10.0.0.5"


def test_pif_metrics_come_from_the_kernel(host, objects):
    pif = objects["pifs"][0]
    values = {n: v for n, _, v in records(host.xe("pif-param-list", f"uuid={pif}").stdout)[0]}
    assert values["network-name-label"] != "<not in database>"
    assert values["host-name-label"] == host.xe("host-list", "params=name-label", "--minimal").stdout.strip()
    dev = objects["devs"][0]
    carrier = sh("cat", f"/sys/class/net/{dev}/carrier", check=False).stdout.strip() == "1"
    assert values["carrier"] == ("true" if carrier else "false")
    speed = sh("cat", f"/sys/class/net/{dev}/speed", check=False).stdout.strip()
    assert values["speed"] == f"{speed if speed.isdigit() and int(speed) > 0 else 0} Mbit/s"
    assert values["duplex"] in ("full", "half", "unknown")
    assert values["igmp-snooping-status"] == "disabled"
    assert values["vlan-slave-of"] != ""  # the VLAN on it
    assert re.fullmatch(r"\d+\.\d{3}", values["io_read_kbs"])
    bonded = {n: v for n, _, v in records(host.xe("pif-param-list", f"uuid={objects['pifs'][1]}").stdout)[0]}
    assert bonded["bond-slave-of"] != "<not in database>"
