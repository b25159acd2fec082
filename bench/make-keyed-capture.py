#!/usr/bin/env python3
"""Builds a keyed benchmark capture: decryptable RDP sessions and the key log that opens them.

Templates: every lab fixture recorded with its keys (fixtures/lab/keys_*.pcap with the
keys_*.keys key log beside it) and the real Windows captures with embedded Decryption Secrets
Blocks (/work/shared/captures/awakecoding_wireshark-rdp/*.pcapng: NLA with Kerberos/NTLM,
Standard RDP with a smart card, RD Gateway over WebSocket with TLS inside TLS). Each is
replayed many times with rewritten client/server IPv4 addresses, client port and shifted
timestamps (bench/make-capture.py's Template does the rewriting), a new connection every
--spacing-ms so copies overlap.

TLS secrets are keyed by the client random, which the copies keep, so one key log written
beside the capture (OUTPUT.keys, every template's secrets once) opens every copy:

    rdpscope analyze --json --keylog OUT.keys OUT       # decrypted
    rdpscope analyze --json --no-keys OUT               # same capture, keyless

The output is a function of the arguments and the inputs only (fixed seed).

    python3 bench/make-keyed-capture.py --size 200M -o /work/bench-captures/keyed-200M.pcap
"""

import argparse
import glob
import importlib.util
import os
import random
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("make_capture", os.path.join(HERE, "make-capture.py"))
mc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mc)

DEFAULT_SHARED = os.path.join(HERE, "..", "..", "shared", "captures", "awakecoding_wireshark-rdp")
SECRETS_TLS_KEY_LOG = 0x544C534B


def read_pcapng(path):
    """(packets [(ts_ns, frame)], key log text) of an Ethernet pcapng; None for another link."""
    with open(path, "rb") as f:
        data = f.read()
    pkts, secrets = [], []
    interfaces = []  # (linktype, ns per tick)
    endian = "<"
    pos = 0
    while pos + 12 <= len(data):
        btype = struct.unpack_from(endian + "I", data, pos)[0]
        if btype == 0x0A0D0D0A:
            endian = "<" if data[pos + 8:pos + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            interfaces = []
        blen = struct.unpack_from(endian + "I", data, pos + 4)[0]
        if blen < 12 or pos + blen > len(data):
            break
        body = data[pos + 8:pos + blen - 4]
        if btype == 1:
            linktype = struct.unpack_from(endian + "H", body, 0)[0]
            tick = 1000  # default resolution: microseconds
            opt = 8
            while opt + 4 <= len(body):
                code, olen = struct.unpack_from(endian + "HH", body, opt)
                if code == 0:
                    break
                if code == 9 and olen >= 1:
                    r = body[opt + 4]
                    tick = 1e9 / (2 ** (r & 0x7F) if r & 0x80 else 10 ** r)
                opt += 4 + (olen + 3) // 4 * 4
            interfaces.append((linktype, tick))
        elif btype == 6:
            ifid, hi, lo, caplen = struct.unpack_from(endian + "IIII", body, 0)
            linktype, tick = interfaces[ifid]
            if linktype != 1:
                print(f"{path}: link type {linktype} left out (only Ethernet is replayed)", file=sys.stderr)
                return None
            pkts.append((int(((hi << 32) | lo) * tick), bytes(body[20:20 + caplen])))
        elif btype == 10:
            stype, slen = struct.unpack_from(endian + "II", body, 0)
            if stype == SECRETS_TLS_KEY_LOG:
                secrets.append(body[8:8 + slen].decode("ascii", "replace"))
        pos += blen
    return pkts, "\n".join(secrets)


def server_port(frames):
    """The destination port of the first SYN (the session's server side)."""
    for f in frames:
        if f.tcp is not None and f.flags() & mc.SYN and not f.flags() & mc.ACK:
            return f.ports()[1]
    return 3389


def templates(fixtures, shared):
    out, keys = [], []
    for path in sorted(glob.glob(os.path.join(fixtures, "keys_*.pcap"))):
        keylog = os.path.splitext(path)[0] + ".keys"
        if not os.path.exists(keylog):
            continue
        pkts = mc.read_pcap(path)
        if pkts:
            out.append((os.path.basename(path), [mc.Frame(ts, d) for ts, d in pkts]))
            with open(keylog) as f:
                keys.append(f.read())
    for path in sorted(glob.glob(os.path.join(shared, "*.pcapng"))):
        got = read_pcapng(path)
        if got and got[0] and got[1]:
            out.append((os.path.basename(path), [mc.Frame(ts, d) for ts, d in got[0]]))
            keys.append(got[1])
    # Start where the first template was recorded: certificate validity is judged against it.
    first_ts = min(frames[0].ts for _, frames in out if frames) if out else 0
    return [mc.Template(name, frames, server_port(frames)) for name, frames in out if frames], keys, first_ts


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default=os.environ.get("KEYED_SIZE", "200M"), help="target file size (e.g. 200M)")
    ap.add_argument("-o", "--output", required=True, help="the capture; its key log goes to OUTPUT.keys")
    ap.add_argument("--fixtures", default=os.path.join(HERE, "..", "fixtures", "lab"))
    ap.add_argument("--shared", default=DEFAULT_SHARED, help="pcapng captures with embedded secrets")
    ap.add_argument("--spacing-ms", type=float, default=100.0, help="time between connection starts")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    target = mc.parse_size(args.size)
    rng = random.Random(args.seed)
    tpl, keys, base = templates(args.fixtures, args.shared)
    if not tpl:
        raise SystemExit("no keyed template found")

    # The key log: every line once, in first-seen order.
    seen, lines = set(), []
    for text in keys:
        for line in text.splitlines():
            line = line.strip()
            if line and not line.startswith("#") and line not in seen:
                seen.add(line)
                lines.append(line)

    spacing = int(args.spacing_ms * 1e6)
    schedule, total, i = [], 24, 0
    while total < target:
        t = tpl[i % len(tpl)] if (i // len(tpl)) % 2 == 0 else tpl[len(tpl) - 1 - i % len(tpl)]
        n = i + 1
        client_ip = bytes([10, 64 + (n >> 16) % 64, (n >> 8) & 0xFF, n & 0xFF])
        server_ip = bytes([10, 200, 0, 1 + n % 50])
        client_port = 1024 + (n * 7919) % 64000
        start = base + i * spacing + rng.randrange(spacing)
        schedule.append((start, t, client_ip, server_ip, client_port))
        total += t.bytes
        i += 1

    packets = mc.write_pcap(args.output, mc.merged(schedule))
    with open(args.output + ".keys", "w") as f:
        f.write("\n".join(lines) + "\n")
    print(
        f"{args.output}: {os.path.getsize(args.output)} bytes, {packets} packets, {len(schedule)} sessions "
        f"from {len(tpl)} templates; {args.output}.keys: {len(lines)} secrets",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
