"""SR-IOV behind its seam: hvnetd reads NICs from a sysfs tree the test writes (--sysfs-root), as
a host with an SR-IOV NIC would show them, for NICs that are veths of the test's. This machine has
no SR-IOV NIC (nor netdevsim): the VF settings go either to a file (--vf-netlink record:FILE, the
bytes the kernel would get, decoded here) or to the kernel, which refuses them on a veth
(EOPNOTSUPP): that refusal must reach the caller named, with nothing left half-done."""
import json
import os
import signal
import struct

import pytest

from conftest import ManagedHost, sh, wait_until

REFERENCE = json.load(open(os.path.join(os.path.dirname(__file__), "..", "data",
                                        "xapi-records.json")))


def fake_nic(root, dev, mac, total_vfs, pci=("0x8086", "0x10ed")):
    d = os.path.join(root, "class", "net", dev)
    os.makedirs(os.path.join(d, "device"))
    for name, value in (("type", "1"), ("address", mac), ("mtu", "1500")):
        with open(os.path.join(d, name), "w") as f:
            f.write(value + "\n")
    for name, value in (("vendor", pci[0]), ("device", pci[1])):
        with open(os.path.join(d, "device", name), "w") as f:
            f.write(value + "\n")
    if total_vfs:
        for name, value in (("sriov_totalvfs", total_vfs), ("sriov_numvfs", 0)):
            with open(os.path.join(d, "device", name), "w") as f:
                f.write(f"{value}\n")


def numvfs(root, dev):
    """What hvnetd wrote to sriov_numvfs (None while a write is under way)."""
    with open(os.path.join(root, "class", "net", dev, "device", "sriov_numvfs")) as f:
        text = f.read()
    return int(text) if text.strip() else None


def attrs(data):
    """Netlink attributes: [(type, payload)]."""
    out, i = [], 0
    while i + 4 <= len(data):
        length, kind = struct.unpack_from("=HH", data, i)
        out.append((kind & 0x3fff, data[i + 4:i + length]))
        i += (length + 3) & ~3
    return out


IFLA_VFINFO_LIST, IFLA_VF_INFO = 22, 1
VF_ATTRS = {1: "mac", 2: "vlan", 4: "spoofchk", 6: "rate"}


def decode(line):
    """One recorded RTM_SETLINK request: (ifindex, setting, vf, value)."""
    raw = bytes.fromhex(line)
    length, kind = struct.unpack_from("=IH", raw, 0)
    assert kind == 19 and length == len(raw)  # RTM_SETLINK, whole
    ifindex = struct.unpack_from("=i", raw, 16 + 4)[0]
    [(t, vflist)] = attrs(raw[32:])
    assert t == IFLA_VFINFO_LIST
    [(t, info)] = attrs(vflist)
    assert t == IFLA_VF_INFO
    [(t, body)] = attrs(info)
    name = VF_ATTRS[t]
    vf = struct.unpack_from("=I", body, 0)[0]
    if name == "mac":
        value = ":".join(f"{b:02x}" for b in body[4:10])
    elif name == "vlan":
        value = struct.unpack_from("=II", body, 4)  # VLAN, priority
    elif name == "rate":
        value = struct.unpack_from("=II", body, 4)  # min, max Mbit/s
    else:
        value = struct.unpack_from("=I", body, 4)[0]
    return ifindex, name, vf, value


def requests(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [decode(line) for line in f.read().split()]


class SriovHost:
    """hvnetd whose NIC (a veth of the test's) shows `total` VFs in a fabricated sysfs tree, with
    an SR-IOV network on it. record: VF requests go to a file, else to the kernel."""

    def __init__(self, lab, total=2, record=True):
        self.root = os.path.join(str(lab.tmp_path), "sysfs")
        self.dev, peer = lab.name("sv0"), lab.name("SV0")
        lab.veth(self.dev, peer)
        self.ifindex = int(open(f"/sys/class/net/{self.dev}/ifindex").read())
        self.plain = lab.name("pl0")
        fake_nic(self.root, self.dev, "52:54:00:5a:10:01", total)
        fake_nic(self.root, self.plain, "52:54:00:5a:10:02", 0)
        self.log = os.path.join(str(lab.tmp_path), "vf-requests")
        args = ["--sysfs-root", self.root] + (["--vf-netlink", f"record:{self.log}"] if record else [])
        self.host = ManagedHost(lab, extra_args=args)
        host = self.host
        host.xe("pif-scan")
        self.pif = host.xe("pif-list", f"device={self.dev}", "physical=true", "--minimal").stdout.strip()
        self.net = host.xe("network-create", "name-label=sriov net").stdout.strip()
        self.sriov = host.xe("network-sriov-create", f"pif-uuid={self.pif}",
                             f"network-uuid={self.net}").stdout.strip()

    def capacity(self):
        return int(self.host.xe("network-sriov-param-get", f"uuid={self.sriov}",
                                "param-name=remaining-capacity").stdout)

    def halted_vm(self, name, macs):
        """A halted VM with a VIF per MAC on the SR-IOV network; returns (vm, [vifs])."""
        host = self.host
        vm = host.xe("vm-create", f"name-label={name}").stdout.strip()
        host.xe("vm-shutdown", f"uuid={vm}", "force=true")
        vifs = [host.xe("vif-create", f"vm-uuid={vm}", f"network-uuid={self.net}", f"device={i}",
                        f"mac={mac}").stdout.strip() for i, mac in enumerate(macs)]
        return vm, vifs

    def vf_of(self, vif):
        return int(self.host.xe("vif-param-get", f"uuid={vif}", "param-name=sriov-VF").stdout)


def test_pif_capabilities_say_sriov_where_sysfs_shows_vfs(lab):
    root = os.path.join(str(lab.tmp_path), "sysfs")
    capable, plain = lab.name("sr0"), lab.name("pl0")
    fake_nic(root, capable, "52:54:00:5a:00:01", 8)
    fake_nic(root, plain, "52:54:00:5a:00:02", 0)
    host = ManagedHost(lab, extra_args=["--sysfs-root", root])
    host.xe("pif-scan")
    caps = {r["device"]: r["capabilities"] for r in host.ok("PIF.get_all_records").values()}
    assert caps == {capable: ["sriov"], plain: []}
    shown = host.xe("pif-list", f"device={capable}", "params=capabilities", "--minimal").stdout
    assert shown.strip() == "sriov"
    # The driver's VFs are gone (another kernel, another firmware): a rescan says so.
    os.remove(os.path.join(root, "class", "net", capable, "device", "sriov_totalvfs"))
    host.xe("pif-scan")
    caps = {r["device"]: r["capabilities"] for r in host.ok("PIF.get_all_records").values()}
    assert caps[capable] == []


def test_network_sriov_enables_the_nics_vfs_behind_a_logical_pif(lab):
    sh_ = SriovHost(lab, total=4)
    host = sh_.host
    assert numvfs(sh_.root, sh_.dev) == 4  # XenServer's sysfs mode: every VF the NIC has
    rec = host.ok("network_sriov.get_record", host.ok("network_sriov.get_by_uuid", sh_.sriov))
    assert rec["configuration_mode"] == "sysfs" and rec["requires_reboot"] is False
    logical = host.ok("PIF.get_record", rec["logical_PIF"])
    assert (logical["device"], logical["MAC"], logical["physical"], logical["currently_attached"]) \
        == (sh_.dev, "fe:ff:ff:ff:ff:ff", False, True)
    assert logical["sriov_logical_PIF_of"] == [host.ok("network_sriov.get_by_uuid", sh_.sriov)]
    assert sh_.capacity() == 4
    # xe's record is XenServer's: uuid, physical-PIF, logical-PIF, requires-reboot and the
    # (expensive) remaining-capacity.
    out = host.xe("network-sriov-param-list", f"uuid={sh_.sriov}").stdout
    rows = [line.split(":", 1)[0].strip() for line in out.strip().splitlines()]
    ref = [f"{f['name']} ({f['label']})" for f in REFERENCE["classes"]["network-sriov"]
           if not f["hidden"]]
    assert rows == ref
    assert "remaining-capacity ( RO): 4" in out
    # What XenServer refuses, with its codes and the offending object.
    pif_ref = host.ok("PIF.get_by_uuid", sh_.pif)
    net2 = host.ok("network.create", {"name_label": "second"})
    plain = host.ok("PIF.get_by_uuid", host.xe("pif-list", f"device={sh_.plain}", "--minimal").stdout.strip())
    before = host.state()
    def refusal(pif):
        return host.call("network_sriov.create", pif, net2)[1]

    def uuid(ref):  # error parameters name objects by uuid
        return ref.removeprefix("OpaqueRef:")
    assert refusal(pif_ref) == ["NETWORK_SRIOV_ALREADY_ENABLED", uuid(pif_ref)]
    assert refusal(plain) == ["PIF_IS_NOT_SRIOV_CAPABLE", uuid(plain)]
    assert refusal(rec["logical_PIF"]) == ["PIF_IS_NOT_PHYSICAL", uuid(rec["logical_PIF"])]
    after = host.state()
    after["network"].pop(net2)
    before["network"].pop(net2)
    assert after == before
    # A NIC whose driver refuses the sysfs write: refused whole, nothing made.
    stubborn = lab.name("st0")
    lab.veth(stubborn, lab.name("ST0"))
    fake_nic(sh_.root, stubborn, "52:54:00:5a:10:03", 4)
    numvfs_file = os.path.join(sh_.root, "class", "net", stubborn, "device", "sriov_numvfs")
    os.remove(numvfs_file)
    os.mkdir(numvfs_file)  # unwritable, even for root
    host.xe("pif-scan")
    nic = host.ok("PIF.get_by_uuid", host.xe("pif-list", f"device={stubborn}", "--minimal").stdout.strip())
    before = host.state()
    error = refusal(nic)
    assert error[:2] == ["NETWORK_SRIOV_ENABLE_FAILED", stubborn], error
    assert host.state() == before
    # Destroyed: the logical PIF goes and the NIC's VFs are disabled.
    host.xe("network-sriov-destroy", f"uuid={sh_.sriov}")
    assert numvfs(sh_.root, sh_.dev) == 0
    assert host.xe("pif-list", f"device={sh_.dev}", "--minimal").stdout.strip() == sh_.pif


def test_vms_take_vfs_until_none_is_left_and_give_them_back(lab):
    sh_ = SriovHost(lab, total=2)
    host = sh_.host
    vm1, [vif1] = sh_.halted_vm("vf vm", ["00:16:3e:5a:00:01"])
    host.xe("vif-param-set", f"uuid={vif1}", "qos_algorithm_type=ratelimit",
            "qos_algorithm_params:kbps=2500")
    host.xe("vif-param-set", f"uuid={vif1}", "locking-mode=locked")
    host.xe("vm-start", f"uuid={vm1}")
    assert sh_.vf_of(vif1) == 0 and sh_.capacity() == 1
    # The exact requests the kernel would get, for the PF's interface index and VF 0.
    assert requests(sh_.log) == [(sh_.ifindex, "mac", 0, "00:16:3e:5a:00:01"),
                                 (sh_.ifindex, "vlan", 0, (0, 0)),
                                 (sh_.ifindex, "rate", 0, (0, 20)),  # 2500 kB/s = 20 Mbit/s
                                 (sh_.ifindex, "spoofchk", 0, 1)]
    # A VF needs no TAP, and neither hot-plugs nor migrates.
    domid = host.xe("vm-param-get", f"uuid={vm1}", "param-name=dom-id").stdout.strip()
    assert sh("ip", "link", "show", f"vif{domid}.0", check=False).returncode != 0
    r = host.xe("vif-unplug", f"uuid={vif1}", check=False)
    assert r.returncode == 1 and "OPERATION_NOT_ALLOWED" in r.stderr
    ops = host.xe("vm-param-get", f"uuid={vm1}", "param-name=allowed-operations").stdout
    assert "hard_shutdown" in ops and "migrate" not in ops
    # Two more VFs asked, one left: refused whole, the VM halted and holding nothing.
    vm2, vifs2 = sh_.halted_vm("two vfs", ["00:16:3e:5a:00:02", "00:16:3e:5a:00:03"])
    r = host.xe("vm-start", f"uuid={vm2}", check=False)
    assert r.returncode == 1 and "NETWORK_SRIOV_INSUFFICIENT_CAPACITY" in r.stderr, r.stderr
    assert [sh_.vf_of(v) for v in vifs2] == [-1, -1]
    assert host.xe("vm-param-get", f"uuid={vm2}", "param-name=power-state").stdout.strip() == "Halted"
    assert sh_.capacity() == 1
    # hvnetd killed and restarted: the store still says VF 0 is vif1's; nothing leaks, nothing is
    # handed out twice.
    host.stop(signal.SIGKILL)
    host.start()
    assert sh_.vf_of(vif1) == 0 and sh_.capacity() == 1
    vm3, [vif3] = sh_.halted_vm("after restart", ["00:16:3e:5a:00:04"])
    host.xe("vm-start", f"uuid={vm3}")
    assert sh_.vf_of(vif3) == 1 and sh_.capacity() == 0
    # Shut down: its VF is reset and free again; SR-IOV stays until no VF is held.
    sent = len(requests(sh_.log))
    host.xe("vm-shutdown", f"uuid={vm1}")
    assert sh_.vf_of(vif1) == -1 and sh_.capacity() == 1
    assert requests(sh_.log)[sent:] == [(sh_.ifindex, "mac", 0, "00:00:00:00:00:00"),
                                        (sh_.ifindex, "rate", 0, (0, 0))]
    r = host.xe("network-sriov-destroy", f"uuid={sh_.sriov}", check=False)
    assert r.returncode == 1 and "OPERATION_NOT_ALLOWED" in r.stderr
    host.xe("vm-shutdown", f"uuid={vm3}")
    host.xe("network-sriov-destroy", f"uuid={sh_.sriov}")
    assert numvfs(sh_.root, sh_.dev) == 0


def test_vfs_on_a_vlan_of_the_logical_pif_are_tagged_by_the_nic(lab):
    sh_ = SriovHost(lab, total=2)
    host = sh_.host
    logical = host.xe("network-sriov-param-get", f"uuid={sh_.sriov}",
                      "param-name=logical-PIF").stdout.strip()
    net10 = host.xe("network-create", "name-label=sriov vlan 10").stdout.strip()
    host.xe("vlan-create", f"pif-uuid={logical}", "vlan=10", f"network-uuid={net10}")
    sh_.net = net10  # the VM's VIF goes on the VLAN network
    vm, [vif] = sh_.halted_vm("tagged", ["00:16:3e:5a:03:01"])
    host.xe("vm-start", f"uuid={vm}")
    assert sh_.vf_of(vif) == 0 and sh_.capacity() == 1  # the NIC's VFs, shared with its VLANs
    assert (sh_.ifindex, "vlan", 0, (10, 0)) in requests(sh_.log)
    # The VLAN stays while SR-IOV does: destroying SR-IOV under it is refused.
    host.xe("vm-shutdown", f"uuid={vm}")
    r = host.xe("network-sriov-destroy", f"uuid={sh_.sriov}", check=False)
    assert r.returncode == 1 and "PIF_VLAN_STILL_EXISTS" in r.stderr


def test_the_kernels_refusal_reaches_the_caller_and_nothing_is_half_done(lab):
    """The real rtnetlink path: a veth has no VFs, the kernel answers EOPNOTSUPP."""
    sh_ = SriovHost(lab, total=2, record=False)
    host = sh_.host
    vm, [vif] = sh_.halted_vm("kernel", ["00:16:3e:5a:01:01"])
    before = host.state()
    vm_ref = host.ok("VM.get_by_uuid", vm)
    result, error = host.call("VM.start", vm_ref, False, False)
    assert error == ["NETWORK_SRIOV_ENABLE_FAILED", sh_.dev, "VF 0: mac refused: Operation not supported"]
    assert host.state() == before
    assert sh_.vf_of(vif) == -1 and sh_.capacity() == 2
    # The write was undone, not wedged: the next one goes through.
    host.xe("network-param-set", f"uuid={sh_.net}", "name-label=still writable")


def test_an_sriov_network_spans_the_pool_with_each_hosts_own_vfs(lab):
    """Two hosts on etcd (pool_lab.py), each with its own sysfs tree: the master creates SR-IOV
    on both hosts' NICs for one network; each host enables its own NIC's VFs, counts its own
    capacity and gives its VMs its own VFs."""
    from pool_lab import PoolLab
    for tool in ("/usr/bin/etcd", "/usr/bin/etcdctl"):
        if not os.path.exists(tool):
            pytest.skip(f"{tool} missing: run tools/install-deps.sh")
    pool = PoolLab(lab, hosts=2, etcd_members=1)
    dev = pool.prefix + "e0"
    roots, logs = [], []
    for i, total in enumerate((2, 3)):
        root = os.path.join(str(lab.tmp_path), f"sysfs{i}")
        fake_nic(root, dev, f"52:54:00:5a:2{i}:01", total)
        roots.append(root)
        logs.append(os.path.join(str(lab.tmp_path), f"vf-requests{i}"))
    extra = [["--sysfs-root", roots[i], "--vf-netlink", f"record:{logs[i]}"] for i in (0, 1)]
    master = pool.start_host(0, found=True, extra=extra[0])
    h1 = pool.start_host(1, extra=extra[1])
    pool.join(1)
    master.xe("pif-scan", f"host-uuid={master.host_uuid}")
    h1.xe("pif-scan", f"host-uuid={h1.host_uuid}")
    net = master.xe("network-create", "name-label=pool sriov").stdout.strip()
    made = []
    for h in (master, pool.hosts[1]):
        pif = master.xe("pif-list", f"device={dev}", f"host-uuid={h.host_uuid}", "physical=true",
                        "--minimal").stdout.strip()
        made.append(master.xe("network-sriov-create", f"pif-uuid={pif}",
                              f"network-uuid={net}").stdout.strip())
    # Each host's hvnetd enables its own NIC's VFs (the second from the pool's store).
    wait_until(lambda: numvfs(roots[1], dev) == 3, 15, "VFs on the second host")
    assert numvfs(roots[0], dev) == 2

    def capacity(s):
        return int(master.xe("network-sriov-param-get", f"uuid={s}",
                             "param-name=remaining-capacity").stdout)
    assert [capacity(s) for s in made] == [2, 3]
    # A VM started on the second host takes a VF of that host's NIC only.
    vm = h1.xe("vm-create", "name-label=on host 1").stdout.strip()
    h1.xe("vm-shutdown", f"uuid={vm}", "force=true")
    h1.xe("vif-create", f"vm-uuid={vm}", f"network-uuid={net}", "device=0",
          "mac=00:16:3e:5a:20:01")
    h1.xe("vm-start", f"uuid={vm}")
    assert [capacity(s) for s in made] == [2, 2]
    sent = requests(logs[1])
    assert ("mac", 0, "00:16:3e:5a:20:01") in [r[1:] for r in sent]
    assert requests(logs[0]) == []
