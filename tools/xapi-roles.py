#!/usr/bin/python3
"""Extracts xapi's role-based access rules from its datamodel (ocaml/idl/datamodel*.ml): for each
class, the role its messages need by default, the role of each explicit message, the writer role of
each settable field and the roles of guarded map keys. Roles are facts of the interface; the output
is data for tests/integration/test_rbac.py, which checks hvnet's permissions against it.

    tools/xapi-roles.py REPO COMMIT > tests/data/xapi-roles.json

REPO is a clone of github.com/xapi-project/xen-api (files are read with `git show COMMIT:path`).

A permission's role is the least privileged role that holds it (roles are totally ordered:
pool-admin > pool-operator > vm-power-admin > vm-admin > vm-operator > read-only). The rules, as
xapi's datamodel_utils.ml applies them:
  - explicit messages: their ~allowed_roles, else the class's ~messages_default_allowed_roles;
  - generated create/destroy: the class default;
  - generated getters (get_record, get_all, get_by_uuid, get_<field>...): read-only;
  - a field's setters (set_f, add_to_f/remove_from_f for maps, add_f/remove_f for sets): the
    field's ~writer_roles, else the class default."""
import json
import re
import subprocess
import sys

ROLES = ["pool-admin", "pool-operator", "vm-power-admin", "vm-admin", "vm-operator", "read-only"]
SHORT = {"_R_POOL_ADMIN": "pool-admin", "_R_POOL_OP": "pool-operator",
         "_R_VM_POWER_ADMIN": "vm-power-admin", "_R_VM_ADMIN": "vm-admin",
         "_R_VM_OP": "vm-operator", "_R_READ_ONLY": "read-only", "_R_ALL": "read-only",
         "_R_LOCAL_ROOT_ONLY": "local-root-only"}

# datamodel file -> {module name in it ("" = the whole file): XenAPI class}
FILES = {
    "ocaml/idl/datamodel.ml": {"Network": "network", "PIF": "PIF", "PIF_metrics": "PIF_metrics",
                               "Bond": "Bond", "VLAN": "VLAN", "Tunnel": "tunnel",
                               "VIF": "VIF", "Session": "session", "Subject": "subject",
                               "Role": "role", "Task": "task", "Event": "event",
                               "Network_sriov": "network_sriov", "Auth": "auth"},
    "ocaml/idl/datamodel_host.ml": {"": "host"},
    "ocaml/idl/datamodel_pool.ml": {"": "pool"},
    "ocaml/idl/datamodel_vm.ml": {"": "VM"},
}


def role_of(expr):
    """The least privileged role of a roles expression (`_R_VM_OP`, `_R_POOL_OP ++ _R_CLIENT_CERT`)."""
    names = [SHORT[r] for r in re.findall(r"_R_[A-Z_]+", expr) if r in SHORT]
    if not names:
        return None
    if "local-root-only" in names:
        return "local-root-only"
    return max(names, key=ROLES.index)


def balanced(text, i):
    """The index just past the bracketed group that opens at text[i] ('(' or '[')."""
    pairs = {"(": ")", "[": "]"}
    stack = []
    j = i
    while j < len(text):
        c = text[j]
        if c == '"':
            j = text.index('"', j + 1) if text.find('"', j + 1) >= 0 else len(text)
            while text[j - 1] == "\\":
                j = text.index('"', j + 1)
        elif c in pairs:
            stack.append(pairs[c])
        elif c in ")]":
            stack.pop()
            if not stack:
                return j + 1
        j += 1
    return len(text)


def strip_groups(text):
    """`text` with every bracketed group and comment removed (what is left: labels and names)."""
    text = re.sub(r"\(\*.*?\*\)", " ", text, flags=re.S)
    out, i = [], 0
    while i < len(text):
        if text[i] in "([":
            i = balanced(text, i)
            out.append(" ")
        elif text[i] == '"':
            j = text.index('"', i + 1)
            out.append(text[i:j + 1])
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def split_top(text, sep=";"):
    """Splits a list's contents at separators outside brackets and strings."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        c = text[i]
        if c == '"':
            i = text.index('"', i + 1)
        elif c == "(" and text.startswith("(*", i):
            i = text.index("*)", i) + 1
        elif c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif c == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return parts


def calls_in(module):
    """let-bound messages of a module: binding -> (message name, role or None)."""
    out = {}
    for m in re.finditer(r"^\s*let (\w+)\s*=\s*\n?\s*call\b", module, re.M):
        rest = module[m.end():]
        end = re.search(r"\n\s*let \w+", rest)
        body = rest[:end.start()] if end else rest
        name = re.search(r'~name:"(\w+)"', body)
        roles = re.search(r"~allowed_roles:\(?([_A-Z+ ]+)", body)
        if name:
            out[m.group(1)] = (name.group(1), role_of(roles.group(1)) if roles else None)
    return out


def list_items(text):
    """Every item of every list in an expression, at any depth: the text between a list's '[' or
    ';' and the next ';' or ']' at the same depth."""
    items, stack, starts = [], [], []
    i = 0
    while i < len(text):
        c = text[i]
        if c == '"':
            i = text.index('"', i + 1)
            while text[i - 1] == "\\":
                i = text.index('"', i + 1)
        elif text.startswith("(*", i):
            i = text.index("*)", i) + 1
        elif c in "([":
            stack.append(c)
            starts.append(i + 1)
        elif c in ")]":
            if stack.pop() == "[":
                items.append(text[starts[-1]:i])
            starts.pop()
        elif c == ";" and stack and stack[-1] == "[":
            items.append(text[starts[-1]:i])
            starts[-1] = i + 1
        i += 1
    return [it.strip() for it in items]


def fields_in(contents, default):
    """Settable fields of a ~contents expression: name -> {type, qualifier, writer, map_keys}."""
    out = {}
    for item in list_items(contents):
        if item.startswith("namespace"):
            prefix = re.search(r'~name:"(\w+)"', item).group(1)
            writer = re.search(r"~writer_roles:(_R_\w+)", item)
            w = role_of(writer.group(1)) if writer else default
            if prefix == "name":  # names: name_label, name_description
                q = re.search(r"\b(RW|StaticRO|DynamicRO)\b", item)
                for f in ("name_label", "name_description"):
                    out[f] = {"type": "string", "writer": w, "qualifier": q.group(1) if q else "RW"}
            elif re.search(r"\(qos\b", item):  # qos: algorithm_type, algorithm_params
                out[prefix + "_algorithm_type"] = {"type": "string", "writer": w, "qualifier": "RW"}
                out[prefix + "_algorithm_params"] = {"type": "map", "writer": w, "qualifier": "RW"}
            continue
        if not re.match(r"field\b", item):
            continue
        names = re.findall(r'"([^"]*)"', strip_groups(item))
        if not names:
            continue
        qual = re.search(r"~qualifier:(\w+)", item)
        ty = re.search(r"~ty:(\(?\s*(\w+))", item)
        writer = re.search(r"~writer_roles:(_R_\w+)", item)
        keys = {}
        mk = re.search(r"~map_keys_roles:\s*\[", item)
        if mk:
            group = item[mk.end() - 1:balanced(item, mk.end() - 1)]
            for k, r in re.findall(r'\(\s*"([^"]+)"\s*,\s*(_R_\w+)\s*\)', group):
                keys[k] = role_of(r)
        out[names[0]] = {"type": ty.group(2).lower() if ty else "string",
                         "qualifier": qual.group(1) if qual else "RW",
                         "writer": role_of(writer.group(1)) if writer else default,
                         **({"map_keys": keys} if keys else {})}
    return out


def classes_in(src, modules):
    out = {}
    for module, cls in modules.items():
        if module:
            m = re.search(rf"^module {module} = struct\n(.*?)^end", src, re.M | re.S)
            if not m:
                raise SystemExit(f"module {module} not found")
            body = m.group(1)
        else:
            body = src
        calls = calls_in(body)
        # Classes are built with create_obj; event is a record literal whose messages all say
        # their roles.
        obj = re.search(r"create_obj\b", body) or re.search(r"let t =\s*\{", body)
        if not obj:
            raise SystemExit(f"create_obj not found for {cls}")
        spec = body[obj.end():]
        dm = re.search(r"~messages_default_allowed_roles:\(?([_A-Z+ ]+)", spec)
        default = role_of(dm.group(1)) if dm else None
        ctor = re.search(r"~?gen_constructor_destructor[:=]\s*(\w+)", spec)
        msgs = re.search(r"~?messages[:=]\s*\[", spec)
        messages = {}
        if msgs:
            group = spec[msgs.end() - 1:balanced(spec, msgs.end() - 1)]
            for ident in re.findall(r"\b\w+\b", strip_groups(group[1:-1])):
                if ident in calls:
                    name, role = calls[ident]
                    messages[name] = role or default
        cont = re.search(r"~contents:\s*", spec) if dm else None
        contents = ""
        if cont:
            at = cont.end()
            contents = spec[at:balanced(spec, at)] if spec[at] in "([" else ""
        fields = fields_in(contents, default) if contents else {}
        out[cls] = {"default": default,
                    "constructor": bool(ctor and ctor.group(1) == "true"),
                    "messages": messages, "fields": fields}
    return out


def main():
    repo, commit = sys.argv[1], sys.argv[2]
    classes = {}
    for path, modules in FILES.items():
        src = subprocess.run(["git", "-C", repo, "show", f"{commit}:{path}"], check=True,
                             capture_output=True, text=True).stdout
        classes.update(classes_in(src, modules))
    print(json.dumps({"source": "github.com/xapi-project/xen-api ocaml/idl/datamodel*.ml",
                      "commit": commit, "roles": ROLES, "classes": classes}, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
