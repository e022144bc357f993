"""The xe CLI as an admin types it: XenServer syntax, record layout, --minimal, filters, errors on
stderr with a non-zero exit, and end-to-end networking built with xe alone."""
import os
import re
import subprocess

import pytest

from conftest import physical_vlan_switch, ping, received, sh, wait_until, XE


def test_network_commands_and_output_layout(host):
    uuid = host.xe("network-create", "name-label=storage", "name-description=iSCSI").stdout.strip()
    assert re.fullmatch(r"[0-9a-f-]{36}", uuid)
    out = host.xe("network-list", f"uuid={uuid}").stdout
    lines = out.splitlines()
    assert lines[0] == f"uuid ( RO)                : {uuid}"
    assert lines[1] == "          name-label ( RW): storage"
    assert lines[2] == "    name-description ( RW): iSCSI"
    assert re.fullmatch(r"              bridge \( RO\): xapi\d+", lines[3])
    assert lines[4].strip() == "mode ( RW): bridge"  # hvnet: classic Xen network mode
    assert host.xe("network-list", "name-label=storage", "--minimal").stdout.strip() == uuid
    assert host.xe("network-list", "name-label=nothing-like-this", "--minimal").stdout.strip() == ""
    assert host.xe("network-list", "name-label=storage", "params=bridge", "--minimal").stdout.startswith("xapi")
    assert host.xe("network-param-get", f"uuid={uuid}", "param-name=MTU").stdout.strip() == "1500"
    host.xe("network-param-set", f"uuid={uuid}", "name-label=san", "MTU=9000", "other-config:owner=ops")
    assert host.xe("network-param-get", f"uuid={uuid}", "param-name=name-label").stdout.strip() == "san"
    assert host.xe("network-param-get", f"uuid={uuid}", "param-name=other-config",
                   "param-key=owner").stdout.strip() == "ops"
    host.xe("network-param-add", f"uuid={uuid}", "param-name=other-config", "rack=r1")
    host.xe("network-param-remove", f"uuid={uuid}", "param-name=other-config", "param-key=owner")
    assert host.xe("network-param-get", f"uuid={uuid}", "param-name=other-config").stdout.strip() == "rack: r1"
    host.xe("network-param-add", f"uuid={uuid}", "param-name=purpose", "param-key=nbd")
    listing = host.xe("network-param-list", f"uuid={uuid}").stdout
    assert "                 purpose (SRW): nbd" in listing
    assert "                     MTU ( RW): 9000" in listing
    assert "            other-config (MRW): rack: r1" in listing
    host.xe("network-param-add", f"uuid={uuid}", "param-name=tags", "param-key=blue")
    host.xe("network-param-clear", f"uuid={uuid}", "param-name=tags")
    assert host.xe("network-param-get", f"uuid={uuid}", "param-name=tags").stdout.strip() == ""
    assert "hostname ( RO)" in host.xe("host-list", "params=all").stdout
    host.xe("network-destroy", f"uuid={uuid}")
    assert host.xe("network-list", "--minimal").stdout.strip() == ""


def test_bad_input_exits_non_zero_with_the_error_and_changes_nothing(host, lab):
    before = host.xe("network-list", "params=all").stdout
    r = host.xe("network-create", "name-label=x", "MTU=99999", check=False)
    assert r.returncode == 1 and "MTU_INVALID" in r.stderr and r.stdout == ""
    r = host.xe("network-create", "name-label=x", "bridge=eth7", check=False)
    assert r.returncode == 1 and "INVALID_VALUE" in r.stderr
    r = host.xe("network-param-set", "uuid=00000000-0000-0000-0000-000000000000", "name-label=y",
                check=False)
    assert r.returncode == 1 and "UUID_INVALID" in r.stderr
    r = host.xe("network-frobnicate", check=False)
    assert r.returncode == 1 and "Unknown command" in r.stderr
    r = host.xe("network-create", check=False)
    assert r.returncode == 1 and "name-label" in r.stderr
    assert host.xe("network-list", "params=all").stdout == before

    dev, peer = lab.name("e0"), lab.name("E0")
    lab.veth(dev, peer)
    host.xe("pif-scan")
    pif = host.xe("pif-list", f"device={dev}", "--minimal").stdout.strip()
    assert re.fullmatch(r"[0-9a-f-]{36}", pif)
    assert host.xe("pif-param-get", f"uuid={pif}", "param-name=currently-attached").stdout.strip() == "false"
    net = host.xe("network-create", "name-label=v").stdout.strip()
    before = host.xe("pif-list", "params=all").stdout
    r = host.xe("vlan-create", f"network-uuid={net}", f"pif-uuid={pif}", "vlan=5000", check=False)
    assert r.returncode == 1 and "VLAN_TAG_INVALID" in r.stderr and "5000" in r.stderr
    assert host.xe("pif-list", "params=all").stdout == before
    vm = host.xe("vm-create", "name-label=vm").stdout.strip()
    r = host.xe("vif-create", f"vm-uuid={vm}", f"network-uuid={net}", "device=0", "mac=nonsense",
                check=False)
    assert r.returncode == 1 and "MAC_INVALID" in r.stderr
    assert host.xe("vif-list", "--minimal").stdout.strip() == ""


@pytest.mark.parametrize("tls", [True, False])
def test_xe_over_tcp_with_credentials(host, tmp_path, tls):
    """-s speaks TLS (the HTTPS port; trust on first use); --nossl plain HTTP (the HTTP port)."""
    base = [XE, "-s", "127.0.0.1", "-u", "root"] + (
        ["-p", str(host.tls_port)] if tls else ["--nossl", "-p", str(host.port)])
    env = dict(os.environ, HVNET_XE_KNOWN_HOSTS=str(tmp_path / "known"))
    ok = subprocess.run(base + ["-pw", host.PASSWORD, "host-list", "--minimal"],
                        capture_output=True, text=True, timeout=30, env=env)
    assert ok.returncode == 0 and re.fullmatch(r"[0-9a-f-]{36}", ok.stdout.strip()), ok.stderr
    bad = subprocess.run(base + ["-pw", "wrong", "host-list"], capture_output=True, text=True,
                         timeout=30, env=env)
    assert bad.returncode == 1 and "SESSION_AUTHENTICATION_FAILED" in bad.stderr
    # Each speaks only its own: TLS to the HTTP port fails cleanly, and the reverse too.
    crossed = [XE, "-s", "127.0.0.1", "-u", "root", "-pw", host.PASSWORD] + (
        ["-p", str(host.port)] if tls else ["--nossl", "-p", str(host.tls_port)])
    r = subprocess.run(crossed + ["host-list"], capture_output=True, text=True, timeout=30, env=env)
    assert r.returncode == 1 and r.stderr


def test_end_to_end_two_vms_ping_over_an_xe_made_network(host, lab):
    net = host.xe("network-create", "name-label=tenant").stdout.strip()
    vms = [host.vm_on(net, f"a{i}", f"10.80.0.{i}/24", mac=f"00:16:3e:00:0{i}:01") for i in (1, 2)]
    for vm, vif, ns, tap in vms:
        assert host.xe("vif-param-get", f"uuid={vif}", "param-name=currently-attached").stdout.strip() == "true"
    ns1, tap1 = vms[0][2], vms[0][3]
    assert sh("cat", f"/sys/class/net/{tap1}/address", ns=ns1).stdout.strip() == "00:16:3e:00:01:01"
    assert received(ping(ns1, "10.80.0.2", count=3)) == 3


def test_xl_vif_specs_make_vifs_that_carry_frames(host, lab):
    net = host.xe("network-create", "name-label=xl").stdout.strip()
    bridge = host.xe("network-param-get", f"uuid={net}", "param-name=bridge").stdout.strip()
    _, _, ns1, _ = host.vm_on(net, "x1", "10.81.0.1/24")
    vm = host.xe("vm-create", "name-label=from-xl").stdout.strip()
    name = lab.name("web")
    line = (f"vif = [ 'mac=00:16:3e:00:07:01, bridge={bridge}, vifname={name}, rate=1MB/s@20ms', "
            f"\"bridge={bridge}\" ]")
    vifs = host.xe("vif-create-xl", f"vm-uuid={vm}", f"spec={line}").stdout.strip().split(",")
    assert len(vifs) == 2
    first = vifs[0]
    assert host.xe("vif-param-get", f"uuid={first}", "param-name=MAC").stdout.strip() == "00:16:3e:00:07:01"
    assert host.xe("vif-param-get", f"uuid={first}", "param-name=qos_algorithm_params").stdout.strip() \
        == "kbps: 1000; timeslice_us: 20000"
    assert host.xe("vif-param-get", f"uuid={vifs[1]}", "param-name=device").stdout.strip() == "1"
    host.xe("vif-plug", f"uuid={first}")
    ns2 = lab.netns("x2")
    lab.vm(name, ns2, "10.81.0.2/24")  # the TAP has the vifname
    assert received(ping(ns1, "10.81.0.2", count=3)) == 3
    r = host.xe("vif-create-xl", f"vm-uuid={vm}", "spec=bridge=xenbr0, colour=blue", check=False)
    assert r.returncode == 1 and "INVALID_VALUE" in r.stderr and "colour" in r.stderr
    assert len(host.xe("vif-list", f"vm-uuid={vm}", "--minimal").stdout.strip().split(",")) == 2


def test_end_to_end_xe_vlan_reaches_the_physical_namespace(host, lab):
    pif_dev = lab.name("p")
    phys, phost, ovs, nics = physical_vlan_switch(lab, pif_dev, {5: "10.81.0.2/24"})
    host.xe("pif-scan")
    pif = host.xe("pif-list", f"device={pif_dev}", "--minimal").stdout.strip()
    net = host.xe("network-create", "name-label=vlan5").stdout.strip()
    vlan_pif = host.xe("vlan-create", f"network-uuid={net}", f"pif-uuid={pif}", "vlan=5").stdout.strip()
    assert host.xe("pif-param-get", f"uuid={vlan_pif}", "param-name=VLAN").stdout.strip() == "5"
    assert host.xe("pif-param-get", f"uuid={pif}", "param-name=currently-attached").stdout.strip() == "true"
    vm, vif, ns, tap = host.vm_on(net, "v", "10.81.0.1/24")
    wait_until(lambda: received(ping(ns, "10.81.0.2", count=1, check=False)) == 1, 20,
               "VLAN 5 through the physical switch")
    assert received(ping(ns, "10.81.0.2", count=3)) == 3
    host.xe("vlan-destroy", f"uuid={vlan_pif}")
    assert received(ping(ns, "10.81.0.2", count=2, check=False)) == 0


def test_pool_and_task_commands(host):
    pool = host.xe("pool-list", "--minimal").stdout.strip()
    assert len(pool) == 36
    listing = host.xe("pool-list").stdout
    assert "master" in listing and "name-label" in listing
    master = host.xe("pool-param-get", f"uuid={pool}", "param-name=master").stdout.strip()
    assert master == host.xe("host-list", "--minimal").stdout.strip()
    host.xe("pool-param-set", f"uuid={pool}", "name-label=lab pool", "other-config:k=v")
    assert host.xe("pool-param-get", f"uuid={pool}", "param-name=name-label").stdout.strip() == "lab pool"
    assert host.xe("pool-param-get", f"uuid={pool}", "param-name=other-config",
                   "param-key=k").stdout.strip() == "v"
    h = host.xe("host-param-list", f"uuid={master}").stdout
    assert "API-version-major" in h and "network_backend: hvnet" in h
    assert host.xe("task-list", "--minimal").stdout.strip() == ""
    task = host.ok("Async.network.create", {"name_label": "by-task"})
    wait_until(lambda: host.xe("task-list", "status=success", "--minimal").stdout.strip(), 5,
               "the task listed as done")
    assert host.xe("task-list", "--minimal").stdout.strip() == task.replace("OpaqueRef:", "")


def test_event_wait_returns_when_an_object_matches(host):
    # Already true: returns at once.
    host.xe("network-create", "name-label=present")
    host.xe("event-wait", "class=network", "name-label=present")
    # Not yet true: blocks until another client makes it so.
    waiter = subprocess.Popen([XE, "event-wait", "class=network", "name-label=later", "MTU=9000"],
                              env=dict(os.environ, HVNET_XAPI_SOCKET=host.sock))
    try:
        net = host.xe("network-create", "name-label=later").stdout.strip()
        with pytest.raises(subprocess.TimeoutExpired):
            waiter.wait(0.5)  # MTU still 1500: still waiting
        host.xe("network-param-set", f"uuid={net}", "MTU=9000")
        assert waiter.wait(10) == 0
    finally:
        waiter.kill()
    # Not-equal conditions.
    host.xe("event-wait", "class=network", "name-label=later", "MTU=/=1500")


COMPLETION = os.path.join(os.path.dirname(__file__), "..", "..", "tools", "xe-completion.bash")
INSTALLED_COMPLETION = "/usr/share/bash-completion/completions/xe"


def complete(host, tmp_path, line, wordbreaks=" \t\n"):
    """What bash offers for `line` (the cursor at its end) with xe's completion script loaded;
    by default '=' does not break words, so a value comes back with its "name=" in front."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    if not (bindir / "xe").exists():
        (bindir / "xe").symlink_to(os.path.abspath(XE))
    script = (f"source {INSTALLED_COMPLETION}\n"
              + "COMP_WORDBREAKS=$'" + wordbreaks.encode("unicode_escape").decode().replace("'", "\\'") + "'\n"
              + 'COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}\n'
              "_xe\n"
              'printf "%s\\n" "${COMPREPLY[@]}"\n')
    env = dict(os.environ, HVNET_XAPI_SOCKET=host.sock, PATH=f"{bindir}:{os.environ['PATH']}")
    r = subprocess.run(["bash", "-c", script, "complete", line], capture_output=True, text=True,
                       env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    return sorted(w for w in r.stdout.splitlines() if w)


def test_bash_completion_offers_commands_parameters_and_uuids_of_the_right_class(host, lab, tmp_path):
    # The install script put the repository's completion where bash-completion loads it.
    assert open(INSTALLED_COMPLETION).read() == open(COMPLETION).read()
    # bash-completion finds it by the command's name, as it does on the first <Tab> after "xe".
    r = subprocess.run(["bash", "-c", "source /usr/share/bash-completion/bash_completion; "
                        "__load_completion xe && complete -p xe"],
                       capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "complete -F _xe xe", r.stdout + r.stderr
    assert complete(host, tmp_path, "xe vif-param-l") == ["vif-param-list"]
    assert "network-create" in complete(host, tmp_path, "xe network-")
    assert complete(host, tmp_path, "xe vlan-create p") == ["pif-uuid="]
    # Parameters already given are not offered again.
    assert complete(host, tmp_path, "xe vlan-create pif-uuid=x vlan=5 ") == ["network-uuid="]
    dev, peer = lab.name("c0"), lab.name("C0")
    lab.veth(dev, peer)
    host.xe("pif-scan")
    pifs = host.xe("pif-list", "--minimal").stdout.strip().split(",")
    net = host.xe("network-create", "name-label=c").stdout.strip()
    nets = host.xe("network-list", "--minimal").stdout.strip().split(",")
    # uuid values: of the class the parameter names, never another class's.
    assert complete(host, tmp_path, "xe vlan-create pif-uuid=") == sorted(f"pif-uuid={p}" for p in pifs)
    assert complete(host, tmp_path, "xe network-param-list uuid=") == sorted(f"uuid={n}" for n in nets)
    assert complete(host, tmp_path, f"xe vlan-create network-uuid={net[:4]}") == [f"network-uuid={net}"]
    # With bash's default word breaks the word after '=' is completed alone.
    assert complete(host, tmp_path, f"xe network-param-list uuid={net[:6]}",
                    wordbreaks=" \t\n\"'><=;|&(:") == [net]
    # Field names for param-name, values with fixed choices.
    assert complete(host, tmp_path, f"xe network-param-get uuid={net} param-name=default-l") == \
        ["param-name=default-locking-mode"]
    assert complete(host, tmp_path, "xe bond-create mode=") == \
        ["mode=active-backup", "mode=balance-slb", "mode=lacp"]


def test_help_lists_every_command_from_the_command_table(host):
    names = subprocess.run([XE, "help", "--minimal"], capture_output=True, text=True,
                           timeout=60).stdout.strip().split(",")
    for cmd in ("network-create", "vif-param-list", "bond-param-set", "event-wait", "task-list"):
        assert cmd in names
    assert len(names) == len(set(names))
    out = subprocess.run([XE, "help", "vlan-create"], capture_output=True, text=True, timeout=60).stdout
    assert "reqd params     : pif-uuid, vlan, network-uuid" in out
    r = subprocess.run([XE, "help", "no-such-command"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "Unknown command" in r.stderr
