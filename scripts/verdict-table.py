#!/usr/bin/env python3
"""Verdicts and codes before and after, per connection, as a markdown table.

usage: scripts/verdict-table.py BEFORE_BIN AFTER_BIN [REASONS_TSV] > docs/verdicts-issue18.md

Runs `BIN analyze --json F` on every pcap/pcapng under fixtures/ and ../shared/captures/
(the repository-relative shared captures; absent ones are skipped). Reasons come from
docs/verdicts-issue18-reasons.tsv: capture<TAB>connection<TAB>why, where capture is the name
used in the table (fixtures_lab_x.pcap, shared_<dir>_<file>) and connection is the id as shown
(1, 2u for RDP-UDP) or * for every connection of the capture. A row whose verdict or codes
changed and has no reason is marked and listed on stderr."""
import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def captures():
    roots = [(os.path.join(REPO, "fixtures"), "fixtures_"),
             (os.path.join(REPO, "..", "shared", "captures"), "shared_")]
    for root, prefix in roots:
        if not os.path.isdir(root):
            print(f"skipped: {root} absent", file=sys.stderr)
            continue
        found = []
        for d, _, files in os.walk(root):
            for f in files:
                if f.endswith((".pcap", ".pcapng")):
                    p = os.path.join(d, f)
                    rel = os.path.relpath(p, root).replace(os.sep, "_")
                    found.append((prefix + rel, p))
        yield from sorted(found)


def verdicts(binary, path):
    """{connection id as shown: "verdict[codes]"}, or None when the run failed."""
    r = subprocess.run([binary, "analyze", "--json", path], capture_output=True, text=True,
                       timeout=600)
    out = {}
    for line in r.stdout.splitlines():
        try:
            j = json.loads(line)
        except ValueError:
            continue
        if j.get("kind") != "connection":
            continue
        cid = f"{j['id']}{'u' if j.get('transport') == 'udp' else ''}"
        codes = ",".join(f["code"] for f in j.get("findings", []))
        out[cid] = f"{j['verdict']}[{codes}]"
    if not out and r.returncode not in (0, 1):
        return None
    return out


def reasons(path):
    table = {}
    if not os.path.exists(path):
        return table
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        parts = line.split("\t", 2)
        if len(parts) == 3:
            table[(parts[0], parts[1])] = parts[2]
    return table


def key(cid):
    digits = "".join(c for c in cid if c.isdigit())
    return (int(digits) if digits else 0, cid)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    before_bin, after_bin = sys.argv[1], sys.argv[2]
    why = reasons(sys.argv[3] if len(sys.argv) > 3
                  else os.path.join(REPO, "docs", "verdicts-issue18-reasons.tsv"))
    print("| capture | # | before | after | why (checked against tshark) |")
    print("|---|---|---|---|---|")
    missing = []
    for name, path in captures():
        b, a = verdicts(before_bin, path), verdicts(after_bin, path)
        ids = sorted(set(b or {}) | set(a or {}), key=key)
        if not ids:
            print(f"| {name} | - | {'(no connection)' if b is not None else '(error)'} | "
                  f"{'(no connection)' if a is not None else '(error)'} | |")
            continue
        for cid in ids:
            bv = (b or {}).get(cid, "-")
            av = (a or {}).get(cid, "-")
            reason = why.get((name, cid)) or why.get((name, "*"), "")
            if bv != av and not reason:
                reason = "**changed, no reason recorded**"
                missing.append(f"{name} #{cid}: {bv} -> {av}")
            print(f"| {name} | {cid} | {bv} | {av} | {reason} |")
    for m in missing:
        print("no reason: " + m, file=sys.stderr)


if __name__ == "__main__":
    main()
