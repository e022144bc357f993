"""SR-IOV behind its seam: hvnetd reads NICs from a sysfs tree the test writes (--sysfs-root), as
a host with an SR-IOV NIC would show them. This machine has no such NIC (nor netdevsim): what
is tested here is everything above the hardware edge; tests/unit/hostnet/sriov_test.cc checks
the netlink requests byte by byte and the kernel's refusal on a veth."""
import os

from conftest import ManagedHost


def fake_nic(root, dev, mac, total_vfs):
    d = os.path.join(root, "class", "net", dev)
    os.makedirs(os.path.join(d, "device"))
    for name, value in (("type", "1"), ("address", mac), ("mtu", "1500")):
        with open(os.path.join(d, name), "w") as f:
            f.write(value + "\n")
    if total_vfs:
        for name, value in (("sriov_totalvfs", total_vfs), ("sriov_numvfs", 0)):
            with open(os.path.join(d, "device", name), "w") as f:
                f.write(f"{value}\n")


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
