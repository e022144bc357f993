#!/usr/bin/python3
"""Extracts the xe CLI's record layouts from xapi's ocaml/xapi-cli-server/records.ml: for each class,
its fields in order with the label xe prints after the name (( RO), ( RW), (SRO), (SRW), (MRO),
(MRW)) and whether the field is hidden from params=all. Field names are facts of the interface; the
output is data for tests/integration/test_records.py.

    tools/xapi-records.py RECORDS_ML COMMIT > tests/data/xapi-records.json

RECORDS_ML is that file at COMMIT of github.com/xapi-project/xen-api (`git show COMMIT:path`)."""
import json
import re
import sys

# xe class prefix -> the function in records.ml that builds its record
CLASSES = {"pool": "pool_record", "host": "host_record", "network": "net_record",
           "pif": "pif_record", "vif": "vif_record", "bond": "bond_record",
           "vlan": "vlan_record", "tunnel": "tunnel_record",
           "network-sriov": "network_sriov_record"}


def label(body):
    """The label xe's print_field gives a field built with these arguments."""
    if "~get_set:" in body:
        return "SRW" if "~add_to_set:" in body else "SRO"
    if "~get_map:" in body:
        return "MRW" if "~add_to_map:" in body else "MRO"
    return " RW" if re.search(r"~set:", body) else " RO"


def fields_of(src, fn):
    start = re.search(rf"^let {fn} rpc session_id \w+ =$", src, re.M)
    if not start:
        raise SystemExit(f"{fn} not found")
    end = re.search(r"^let ", src[start.end():], re.M)
    body = src[start.end():start.end() + (end.start() if end else len(src))]
    body = body[body.index("fields"):]
    parts = re.split(r"make_field\s+~name:", body)[1:]
    out = []
    for p in parts:
        name = re.match(r'"([^"]+)"', p).group(1)
        out.append({"name": name, "label": label(p),
                    "hidden": "~hidden:true" in p, "expensive": "~expensive:true" in p})
    return out


def main():
    src = open(sys.argv[1]).read()
    print(json.dumps({"source": "github.com/xapi-project/xen-api ocaml/xapi-cli-server/records.ml",
                      "commit": sys.argv[2],
                      "classes": {c: fields_of(src, fn) for c, fn in CLASSES.items()}},
                     indent=1))


if __name__ == "__main__":
    main()
