"""Users and roles: system accounts made by the test log in with their system passwords (PAM),
become subjects with `xe subject-add`, and get exactly the calls their roles allow, as xapi's
datamodel assigns them (checked for every hvnet method against tests/data/xapi-roles.json, which
tools/xapi-roles.py extracts from xapi). Role changes apply from the subject's next call; a removed
subject cannot log in; writes and refusals reach the audit log with the subject's name."""
import json
import os
import secrets
import shutil
import subprocess

import pytest

from conftest import sh

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "xapi-roles.json")
ROLES = ["pool-admin", "pool-operator", "vm-power-admin", "vm-admin", "vm-operator", "read-only"]
# hvnet's own calls, with the role hvnet gives them (xapi has no such message).
HVNET_ONLY = {"host.management_confirm": "pool-operator", "pool.audit_log_get": "pool-admin",
              "pool.join_credentials": "pool-admin",
              "role.get_all": "read-only", "role.get_all_records": "read-only",
              # the switch's counters, drop ring, MAC tables and packet traces (the console)
              "host.get_network_stats": "read-only", "host.get_drop_trace": "read-only",
              "network.get_mac_table": "read-only", "host.trace_packet": "read-only",
              # network.external_VTEPs: VTEPs outside the pool reached by the network's tunnels
              "network.get_external_VTEPs": "read-only",
              "network.set_external_VTEPs": "pool-operator",
              "network.add_external_VTEPs": "pool-operator",
              "network.remove_external_VTEPs": "pool-operator",
              # guest VLAN tagging and the security policy of a network's VIFs
              **{f"network.{verb}_{field}": role
                 for field in ("trunk_VLANs", "native_VLAN", "promiscuous_mode", "MAC_changes",
                               "forged_transmits", "shaping_average", "shaping_peak",
                               "shaping_burst", "failover_order", "roles", "VM_network",
                               "required", "label", "label_VLAN", "mode", "subnet",
                               "port_forwards")
                 for verb, role in (("get", "read-only"), ("set", "pool-operator"),
                                    ("add", "pool-operator"), ("remove", "pool-operator"))},
              # host interfaces' services and NIC labels; the host's required-network state
              **{f"PIF.{verb}_{field}": role
                 for field in ("services", "labels")
                 for verb, role in (("get", "read-only"), ("set", "pool-operator"),
                                    ("add", "pool-operator"), ("remove", "pool-operator"))},
              "host.get_network_state": "read-only", "host.get_missing_networks": "read-only",
              # xl vif specifications, and the host-side device name they may give
              "VIF.create_from_xl_spec": "vm-admin", "VIF.get_vifname": "read-only",
              # SR-IOV: a NIC's VF count and PCI ids from the scan, the VF a VIF holds
              "PIF.get_sriov_totalvfs": "read-only", "PIF.get_PCI_id": "read-only",
              "VIF.get_sriov_VF": "read-only",
              # port mirroring sessions: hvnet's class, pool-operator's to write
              **{f"port_mirror.{m}": "pool-operator"
                 for m in ("create", "destroy", "set_name_label", "set_name_description",
                           "set_ingress_sources", "add_ingress_sources",
                           "remove_ingress_sources", "set_egress_sources", "add_egress_sources",
                           "remove_egress_sources", "set_other_config", "add_to_other_config",
                           "remove_from_other_config")},
              **{f"port_mirror.{m}": "read-only"
                 for m in ("get_all", "get_all_records", "get_record", "get_by_uuid",
                           "get_by_name_label", "get_uuid", "get_name_label",
                           "get_name_description", "get_ingress_sources", "get_egress_sources",
                           "get_destination_VIF", "get_destination_PIF", "get_destination_VLAN",
                           "get_status", "get_other_config")}}


def denied(permission, role):
    holders = ", ".join(ROLES[:ROLES.index(role) + 1])
    return ["RBAC_PERMISSION_DENIED", permission,
            f"No permission in user session. (Roles with this permission: {holders})"]


class Account:
    """A system account created for the test (removed after it), with a random password."""

    def __init__(self, lab, role, group=None):
        short = {"read-only": "ro", "vm-operator": "vmop", "vm-admin": "vmad",
                 "pool-operator": "poop", "pool-admin": "poad"}
        self.name = lab.name(short.get(role, role))
        self.password = secrets.token_urlsafe(12)
        sh("useradd", "-M", "-N", "-s", "/usr/sbin/nologin", *(["-G", group] if group else []),
           self.name)
        lab._undo.append(lambda: sh("userdel", "-f", self.name, check=False))
        subprocess.run(["chpasswd"], input=f"{self.name}:{self.password}\n", text=True, check=True)


def login(host, user, password):
    """(session, error) of a login over TCP."""
    r = host.jsonrpc("session.login_with_password", [user, password, "1.0", "test"])
    return r["result"], r["error"]


def call(host, session, method, *params):
    r = host.jsonrpc(method, [session, *params])
    return r["result"], r["error"]


def need(host, session, method, *params):
    result, error = call(host, session, method, *params)
    assert error is None, f"{method}{params}: {error}"
    return result


def subject_for(host, account, *roles):
    """xe subject-add and subject-role-add: the subject's uuid."""
    uuid = host.xe("subject-add", f"subject-name={account.name}").stdout.strip()
    for r in roles:
        host.xe("subject-role-add", f"uuid={uuid}", f"role-name={r}")
    return uuid


@pytest.fixture
def accounts_ok(lab):
    for tool in ("useradd", "userdel", "chpasswd"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed")


def test_every_hvnet_call_needs_the_role_xapi_gives_it(host):
    xapi = json.load(open(DATA))["classes"]
    methods = [m for m in host.ok("system.listMethods")
               if not m.startswith("Async.") and m != "system.listMethods"]
    root = host.session()
    held = {}
    for ref, rec in need(host, root, "role.get_all_records").items():
        held[rec["name_label"]] = set(need(host, root, "role.get_permissions_name_label", ref))
    assert sorted(held) == sorted(ROLES)

    def hvnet_role(permission):
        holders = [r for r in ROLES if permission in held[r]]
        assert holders == ROLES[:len(holders)], (permission, holders)  # roles nest
        return holders[-1] if holders else None

    def xapi_role(method):
        cls, msg = method.split(".", 1)
        c = xapi.get(cls)
        if c is None:
            return None
        if msg in c["messages"]:
            return c["messages"][msg]
        if msg.startswith("get_"):
            return "read-only"
        if msg in ("create", "destroy") and c["constructor"]:
            return c["default"]
        for verb in ("set_", "add_to_", "remove_from_", "add_", "remove_"):
            if msg.startswith(verb) and msg[len(verb):] in c["fields"]:
                return c["fields"][msg[len(verb):]]["writer"]
        return None

    checked, wrong = 0, []
    for m in methods:
        want = xapi_role(m) or HVNET_ONLY.get(m)
        assert want, f"{m}: neither in xapi's datamodel nor one of hvnet's own calls"
        got = hvnet_role(m.lower())
        if got != want:
            wrong.append((m, got, want))
        checked += 1
        # Guarded map keys (other_config:folder for vm-operators) as xapi guards them.
        cls, msg = m.split(".", 1)
        if msg.startswith(("add_to_", "remove_from_")) and cls in xapi:
            field = xapi[cls]["fields"].get(msg.split("_", 2)[-1] if msg.startswith("add_to_")
                                            else msg[len("remove_from_"):], {})
            for key, role in field.get("map_keys", {}).items():
                perm = f"{m.lower()}/key:{key.lower()}"
                if hvnet_role(perm) != role:
                    wrong.append((perm, hvnet_role(perm), role))
    assert not wrong, wrong
    assert checked > 150


def test_each_role_gets_exactly_its_calls(host, lab, accounts_ok):
    # What the calls act on, made by root.
    pif, _ = host.pif_on_veth(lab, "p")
    net = host.ok("network.create", {"name_label": "rbac", "name_description": "", "MTU": 1500,
                                     "other_config": {}})
    vm = host.ok("VM.create", {"name_label": "vm"})
    vif = host.ok("VIF.create", {"VM": vm, "network": net, "device": "0", "MAC": "",
                                 "other_config": {}})
    sessions = {}
    for role in ("read-only", "vm-operator", "vm-admin", "pool-operator", "pool-admin"):
        acct = Account(lab, role)
        subject_for(host, acct, role)
        s, err = login(host, acct.name, acct.password)
        assert err is None, (role, err)
        sessions[role] = s
        _, err = login(host, acct.name, acct.password + "x")
        assert err[0] == "SESSION_AUTHENTICATION_FAILED", err

    ro = sessions["read-only"]
    assert net in need(host, ro, "network.get_all")
    assert call(host, ro, "network.create", {"name_label": "no"})[1] == denied("network.create",
                                                                              "vm-admin")
    op = sessions["vm-operator"]
    need(host, op, "network.add_tags", net, "blue")
    assert "blue" in host.ok("network.get_tags", net)
    assert call(host, op, "VIF.plug", vif)[1] == denied("vif.plug", "vm-admin")
    # A guarded key of a field vm-operators may not otherwise write.
    need(host, op, "network.add_to_other_config", net, "folder", "/lab")
    assert call(host, op, "network.add_to_other_config", net, "mtu-hint", "1")[1] == denied(
        "network.add_to_other_config", "pool-operator")
    va = sessions["vm-admin"]
    need(host, va, "VIF.plug", vif)
    assert host.ok("VIF.get_currently_attached", vif) is True
    assert call(host, va, "VLAN.create", pif, 10, net)[1] == denied("vlan.create",
                                                                    "pool-operator")
    po = sessions["pool-operator"]
    vnet = need(host, po, "network.create", {"name_label": "v20", "name_description": "",
                                             "MTU": 1500, "other_config": {}})
    vlan = need(host, po, "VLAN.create", pif, 20, vnet)
    assert host.ok("VLAN.get_tag", vlan) == 20
    assert call(host, po, "network.add_purpose", net, "nbd")[1] == denied("network.add_purpose",
                                                                         "pool-admin")
    pa = sessions["pool-admin"]
    need(host, pa, "network.add_purpose", net, "nbd")
    assert host.ok("network.get_purpose", net) == ["nbd"]
    # The session says what it may do.
    perms = need(host, ro, "session.get_rbac_permissions", ro)
    assert "network.get_all" in perms and "network.create" not in perms
    assert need(host, ro, "session.get_is_local_superuser", ro) is False


def test_role_changes_apply_at_the_next_call_and_a_removed_subject_cannot_log_in(host, lab,
                                                                                  accounts_ok):
    net = host.ok("network.create", {"name_label": "n", "name_description": "", "MTU": 1500,
                                     "other_config": {}})
    acct = Account(lab, "op")
    uuid = subject_for(host, acct, "vm-operator", "read-only")
    listed = host.xe("subject-list", f"uuid={uuid}", "params=roles", "--minimal").stdout.strip()
    assert sorted(listed.split("; ")) == ["read-only", "vm-operator"], listed
    s, err = login(host, acct.name, acct.password)
    assert err is None, err
    need(host, s, "network.add_tags", net, "a")
    host.xe("subject-role-remove", f"uuid={uuid}", "role-name=vm-operator")
    assert call(host, s, "network.add_tags", net, "b")[1] == denied("network.add_tags",
                                                                    "vm-operator")
    assert net in need(host, s, "network.get_all")  # still read-only
    sid = host.ok("subject.get_subject_identifier", host.ok("subject.get_by_uuid", uuid))
    assert sid in host.ok("session.get_all_subject_identifiers")
    host.xe("subject-role-remove", f"uuid={uuid}", "role-name=read-only")
    _, err = login(host, acct.name, acct.password)
    assert err[0] == "RBAC_PERMISSION_DENIED" and "has no roles" in err[2], err
    host.xe("subject-role-add", f"uuid={uuid}", "role-name=read-only")
    s2, err = login(host, acct.name, acct.password)
    assert err is None, err
    # Logging a subject out ends its sessions; removing it refuses its next login.
    host.ok("session.logout_subject_identifier", sid)
    assert call(host, s2, "network.get_all")[1][0] == "SESSION_INVALID"
    s3, _ = login(host, acct.name, acct.password)
    host.xe("subject-remove", f"subject-uuid={uuid}")
    assert call(host, s3, "network.get_all")[1][0] == "SESSION_INVALID"
    _, err = login(host, acct.name, acct.password)
    assert err[0] == "SESSION_AUTHORIZATION_FAILED", err
    # An account that is no subject never could.
    other = Account(lab, "x")
    _, err = login(host, other.name, other.password)
    assert err[0] == "SESSION_AUTHORIZATION_FAILED", err


def test_a_group_subject_gives_its_members_its_role(host, lab, accounts_ok):
    group = lab.name("grp")
    sh("groupadd", group)
    lab._undo.append(lambda: sh("groupdel", group, check=False))
    member = Account(lab, "m", group=group)
    uuid = subject_for(host, type("G", (), {"name": group}), "read-only")
    assert host.xe("subject-param-get", f"uuid={uuid}", "param-name=other-config",
                   "param-key=subject-is-group").stdout.strip() == "true"
    s, err = login(host, member.name, member.password)
    assert err is None, err
    assert call(host, s, "network.create", {"name_label": "no"})[1] == denied("network.create",
                                                                             "vm-admin")


def test_role_list_and_the_audit_log_name_the_subject(host, lab, accounts_ok):
    rows = host.xe("role-list", "params=name", "--minimal").stdout.strip().split(",")
    assert sorted(rows) == sorted(ROLES)
    assert host.xe("role-list", "name=pool-admin", "params=uuid", "--minimal").stdout.strip() == \
        "0165f154-ba3e-034e-6b27-5d271af109ba"  # xapi's fixed uuid
    acct = Account(lab, "aud")
    subject_for(host, acct, "vm-admin")
    s, _ = login(host, acct.name, acct.password)
    ok = need(host, s, "network.create", {"name_label": "audited", "name_description": "",
                                          "MTU": 1500, "other_config": {}})
    assert call(host, s, "network.add_purpose", ok, "nbd")[1][0] == "RBAC_PERMISSION_DENIED"
    lines = [json.loads(x) for x in host.xe("audit-log-get").stdout.splitlines()]
    mine = [e for e in lines if e["subject"] == acct.name]
    create = [e for e in mine if e["call"] == "network.create"]
    assert create and create[-1]["result"] == "success", mine
    refused = [e for e in mine if e["call"] == "network.add_purpose"]
    assert refused and refused[-1]["result"] == "failure", mine
    assert refused[-1]["error"][0] == "RBAC_PERMISSION_DENIED"
    assert refused[-1]["origin"] == "127.0.0.1"
    login_lines = [e for e in mine if e["call"] == "session.login_with_password"]
    assert login_lines and all("(secret)" in json.dumps(e["args"]) for e in login_lines)
