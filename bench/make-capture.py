#!/usr/bin/env python3
"""Builds a large benchmark capture from the lab fixtures (stdlib only).

Every fixture in fixtures/lab/ (healthy connections and every failure scenario) is replayed
many times with rewritten IPv4 addresses and client ports and shifted timestamps. The healthy
connections (tls12_ok, tls13_ok, nla_ok, rdp_security_ok) also get a long data phase inserted
before their close: server bulk data (TLS application_data records of 16 KiB spanning
segments, or fast-path PDUs for Standard RDP Security) acknowledged by the client every two
segments, with later sequence/acknowledgement numbers shifted to match. A few non-RDP bulk TCP
flows (port 8080) are mixed in so the "not RDP" path is exercised too.

Connections start at a fixed spacing, so the number of concurrent connections (and so the
analyser's memory) does not depend on the file size. Outer IPv4 header checksums are
recomputed; TCP checksums are left as they were (neither rdpscope nor tshark checks them).

`--shape dense` builds the opposite, a logon storm: the fixtures as they are (no data phase),
the short ones (30 packets or fewer: refusals, resets, black holes, aborted handshakes)
weighted so most connections are short, a new connection every few milliseconds with a
random offset within the spacing, so thousands are open at once (failed ones that never
close stay open in the analyser up to its idle timeout). Every client is a fresh address.

The output is a function of the arguments and the fixtures only (fixed seed).

    python3 bench/make-capture.py --size 1G  -o bench/out/big.pcap
    python3 bench/make-capture.py --size 100M -o bench/out/medium.pcap
    python3 bench/make-capture.py --shape dense --size 100M -o bench/out/dense.pcap
"""

import argparse
import glob
import heapq
import os
import random
import struct
import sys

MSS = 1448
HEALTHY = ("tls12_ok", "tls13_ok", "nla_ok", "rdp_security_ok")
# Dense shape: a fixture of at most this many packets is a "short" one, weighted DENSE_WEIGHT.
SHORT_PACKETS = 30
DENSE_WEIGHT = 4


def parse_size(s):
    s = s.strip().upper()
    mult = 1
    for suffix, m in (("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30)):
        if s.endswith(suffix) or s.endswith(suffix + "B"):
            mult = m
            s = s.rstrip("B")[:-1]
            break
    return int(float(s) * mult)


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic == b"\xd4\xc3\xb2\xa1":
        endian, nano = "<", False
    elif magic == b"\x4d\x3c\xb2\xa1":
        endian, nano = "<", True
    elif magic == b"\xa1\xb2\xc3\xd4":
        endian, nano = ">", False
    elif magic == b"\xa1\xb2\x3c\x4d":
        endian, nano = ">", True
    else:
        raise SystemExit(f"{path}: not a pcap file")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    if linktype != 1:
        print(f"{path}: link type {linktype} left out (only Ethernet is replayed)", file=sys.stderr)
        return None
    pkts = []
    pos = 24
    hdr = struct.Struct(endian + "IIII")
    while pos + 16 <= len(data):
        sec, frac, incl, _orig = hdr.unpack_from(data, pos)
        pos += 16
        ts = sec * 1_000_000_000 + (frac if nano else frac * 1000)
        pkts.append((ts, bytes(data[pos:pos + incl])))
        pos += incl
    return pkts


def ip_checksum(hdr):
    if len(hdr) % 2:
        hdr = hdr + b"\0"
    s = sum(struct.unpack("!%dH" % (len(hdr) // 2), hdr))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


class Frame:
    """One Ethernet/IPv4 frame with the offsets that get rewritten per instance."""

    __slots__ = ("ts", "data", "ihl", "proto", "tcp", "inner")

    def __init__(self, ts, data):
        self.ts = ts
        self.data = bytearray(data)
        self.ihl = 0
        self.proto = None
        self.tcp = None  # offset of the TCP header
        self.inner = None  # offset of the IPv4 header an ICMP error quotes
        if len(data) < 34 or data[12:14] != b"\x08\x00" or data[14] >> 4 != 4:
            return
        self.ihl = (data[14] & 0x0F) * 4
        self.proto = data[23]
        l4 = 14 + self.ihl
        if self.proto == 6:
            self.tcp = l4
        elif self.proto == 1 and len(data) >= l4 + 8 + 20 and data[l4] == 3:
            self.inner = l4 + 8

    # TCP accessors (only valid when self.tcp is set)
    def ports(self):
        return struct.unpack_from("!HH", self.data, self.tcp)

    def seq_ack(self):
        return struct.unpack_from("!II", self.data, self.tcp + 4)

    def set_seq_ack(self, seq, ack):
        struct.pack_into("!II", self.data, self.tcp + 4, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF)

    def flags(self):
        return self.data[self.tcp + 13]

    def payload_off(self):
        return self.tcp + (self.data[self.tcp + 12] >> 4) * 4

    def payload_len(self):
        total = struct.unpack_from("!H", self.data, 16)[0]
        return 14 + total - self.payload_off()

    def with_payload(self, payload, flags):
        f = Frame(self.ts, bytes(self.data[: self.payload_off()]) + payload)
        struct.pack_into("!H", f.data, 16, len(f.data) - 14)
        f.data[f.tcp + 13] = flags
        return f


FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def bulk_stream(kind, nbytes, rng):
    """Server bulk bytes: TLS application_data records or encrypted fast-path PDUs."""
    out = bytearray()
    body = bytes(rng.getrandbits(8) for _ in range(16384 + 64))
    while len(out) < nbytes:
        if kind == "tls":
            n = 16384 + 24  # 16 KiB of plaintext plus AEAD overhead
            out += b"\x17\x03\x03" + struct.pack("!H", n) + body[:n]
        else:
            n = MSS  # one fast-path output PDU per segment: 0x80 = encrypted, 2-byte length
            out += bytes([0x80, 0x80 | (n >> 8), n & 0xFF]) + body[: n - 3]
    return bytes(out[:nbytes])


def extend_data_phase(frames, server_port, segments, kind, rng):
    """Inserts `segments` server data segments (client ACK every two) before the close."""
    tcp = [f for f in frames if f.tcp is not None]
    close = next((i for i, f in enumerate(frames) if f.tcp is not None and f.flags() & (FIN | RST)), len(frames))
    before = [f for f in frames[:close] if f.tcp is not None]
    srv = [f for f in before if f.ports()[0] == server_port]
    cli = [f for f in before if f.ports()[1] == server_port]
    srv_data = [f for f in srv if f.payload_len() > 0] or srv
    cli_ack = [f for f in cli if f.payload_len() == 0] or cli
    if not tcp or not srv_data or not cli_ack:
        return frames
    srv_next = max((f.seq_ack()[0] + f.payload_len()) & 0xFFFFFFFF for f in srv)
    cli_next = max((f.seq_ack()[0] + f.payload_len()) & 0xFFFFFFFF for f in cli)
    stream = bulk_stream(kind, segments * MSS, rng)
    t = frames[close - 1].ts if close > 0 else frames[0].ts
    inserted = []
    step = 100_000  # 100 us between segments: about 115 Mbit/s
    for k in range(segments):
        t += step
        seg = srv_data[-1].with_payload(stream[k * MSS:(k + 1) * MSS], PSH | ACK)
        seg.ts = t
        seg.set_seq_ack(srv_next + k * MSS, cli_next)
        inserted.append(seg)
        if k % 2 == 1 or k == segments - 1:
            a = cli_ack[-1].with_payload(b"", ACK)
            a.ts = t + 20_000
            a.set_seq_ack(cli_next, srv_next + (k + 1) * MSS)
            inserted.append(a)
    shift_bytes = segments * MSS
    shift_ts = t + 50_000 - (frames[close].ts if close < len(frames) else t)
    tail = []
    for f in frames[close:]:
        g = Frame(f.ts + max(shift_ts, 0), bytes(f.data))
        if g.tcp is not None:
            sp, dp = g.ports()
            seq, ack = g.seq_ack()
            if sp == server_port:
                seq += shift_bytes
            elif dp == server_port and g.flags() & ACK:
                ack += shift_bytes
            g.set_seq_ack(seq, ack)
        tail.append(g)
    return frames[:close] + inserted + tail


def other_flow(rng, segments):
    """A non-RDP bulk TCP flow (port 8080) in Ethernet/IPv4 frames, addresses 0.0.0.0."""
    eth = b"\x02\0\0\0\0\x01" + b"\x02\0\0\0\0\x02" + b"\x08\x00"

    def frame(ts, c2s, seq, ack, flags, payload=b""):
        ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 20 + len(payload), 0, 0x4000, 64, 6, 0, b"\0" * 4, b"\0" * 4))
        sp, dp = (40000, 8080) if c2s else (8080, 40000)
        tcp = struct.pack("!HHIIBBHHH", sp, dp, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags, 65535, 0, 0)
        f = Frame(ts, eth + bytes(ip) + tcp + payload)
        f.data[14 + 12:14 + 16] = b"\x0a\x63\x00\x02" if c2s else b"\x0a\x63\x00\x01"
        f.data[14 + 16:14 + 20] = b"\x0a\x63\x00\x01" if c2s else b"\x0a\x63\x00\x02"
        return f

    c, s = 1000, 5000
    out = [frame(0, True, c, 0, SYN), frame(200_000, False, s, c + 1, SYN | ACK), frame(400_000, True, c + 1, s + 1, ACK)]
    c += 1
    s += 1
    out.append(frame(500_000, True, c, s, PSH | ACK, b"GET /bulk HTTP/1.1\r\nHost: x\r\n\r\n"))
    c += 31
    body = bytes(rng.getrandbits(8) for _ in range(MSS))
    t = 600_000
    for k in range(segments):
        t += 100_000
        out.append(frame(t, False, s, c, ACK, body))
        s += MSS
        if k % 2 == 1:
            out.append(frame(t + 20_000, True, c, s, ACK))
    out.append(frame(t + 100_000, False, s, c, FIN | ACK))
    out.append(frame(t + 200_000, True, c, s + 1, FIN | ACK))
    out.append(frame(t + 300_000, False, s + 1, c + 1, ACK))
    return out


class Template:
    def __init__(self, name, frames, server_port=3389):
        self.name = name
        t0 = frames[0].ts
        for f in frames:
            if f.tcp is not None:
                sp, dp = f.ports()
                if dp == server_port or sp == server_port:
                    cli_off, srv_off = (26, 30) if dp == server_port else (30, 26)
                    self.client_ip = bytes(f.data[cli_off:cli_off + 4])
                    self.server_ip = bytes(f.data[srv_off:srv_off + 4])
                    self.client_port = sp if dp == server_port else dp
                    break
        else:
            # No connection to the port (a DNS-only failure): the first IPv4 packet's source is
            # the client; addresses are rewritten, ports kept.
            first = next((f for f in frames if f.proto is not None), None)
            if first is None:
                raise SystemExit(f"{name}: no IPv4 packet")
            self.client_ip = bytes(first.data[26:30])
            self.server_ip = bytes(first.data[30:34])
            self.client_port = None
        # Per frame: relative time, bytes, and the (offset, kind) slots to patch.
        self.frames = []
        cport = struct.pack("!H", self.client_port) if self.client_port is not None else None
        for f in frames:
            patches = []
            if f.proto is not None:
                for off in (26, 30):
                    patches.append((off, "ip"))
                if f.tcp is not None and cport is not None:
                    for off in (f.tcp, f.tcp + 2):
                        if f.data[off:off + 2] == cport:
                            patches.append((off, "port"))
                if f.inner is not None:
                    ihl = (f.data[f.inner] & 0x0F) * 4
                    for off in (f.inner + 12, f.inner + 16):
                        patches.append((off, "ip"))
                    for off in (f.inner + ihl, f.inner + ihl + 2):
                        if cport is not None and f.data[off:off + 2] == cport:
                            patches.append((off, "port"))
            self.frames.append((f.ts - t0, bytes(f.data), tuple(patches), f.ihl))
        self.duration = self.frames[-1][0]
        self.bytes = sum(len(d) + 16 for _, d, _, _ in self.frames)

    def instance(self, start_ns, client_ip, server_ip, client_port):
        ipmap = {self.client_ip: client_ip, self.server_ip: server_ip}
        port = struct.pack("!H", client_port)
        for rel, data, patches, ihl in self.frames:
            if not patches:
                yield start_ns + rel, data
                continue
            b = bytearray(data)
            for off, kind in patches:
                if kind == "ip":
                    old = bytes(b[off:off + 4])
                    new = ipmap.get(old)
                    if new is not None:
                        b[off:off + 4] = new
                else:
                    b[off:off + 2] = port
            b[24:26] = b"\0\0"
            struct.pack_into("!H", b, 24, ip_checksum(bytes(b[14:14 + ihl])))
            yield start_ns + rel, bytes(b)


def write_pcap(path, frames):
    """Writes (ts_ns, frame) pairs as a nanosecond Ethernet pcap (snaplen 262144); returns the
    number of packets written."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    pkt_hdr = struct.Struct("<IIII")
    packets = 0
    with open(path, "wb", buffering=1 << 22) as out:
        out.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, 1))
        for ts, data in frames:
            out.write(pkt_hdr.pack(ts // 1_000_000_000, ts % 1_000_000_000, len(data), len(data)))
            out.write(data)
            packets += 1
    return packets


def merged(schedule):
    """Every instance's packets in time order (ties: earlier schedule entry first), with only
    the instances under way held open, so memory follows concurrency, not file size."""
    pending = sorted(range(len(schedule)), key=lambda k: (schedule[k][0], k))
    heap = []
    nxt = 0
    while heap or nxt < len(pending):
        # Open every instance that starts no later than the earliest packet pending.
        while nxt < len(pending) and (not heap or schedule[pending[nxt]][0] <= heap[0][0]):
            k = pending[nxt]
            nxt += 1
            start, t, cip, sip, cport = schedule[k]
            it = t.instance(start, cip, sip, cport)
            first = next(it, None)
            if first is not None:
                heapq.heappush(heap, (first[0], k, first[1], it))
        ts, k, data, it = heapq.heappop(heap)
        yield ts, data
        following = next(it, None)
        if following is not None:
            heapq.heappush(heap, (following[0], k, following[1], it))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="1G", help="target file size (e.g. 100M, 1G)")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--fixtures", default=os.path.join(here, "..", "fixtures", "lab"))
    ap.add_argument("--data-segments", type=int, default=400, help="server segments in each healthy data phase")
    ap.add_argument("--spacing-ms", type=float, default=600.0, help="time between connection starts")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--shape", choices=("bulk", "dense"), default="bulk")
    args = ap.parse_args()
    if args.shape == "dense" and args.spacing_ms == ap.get_default("spacing_ms"):
        args.spacing_ms = 4.0
    target = parse_size(args.size)
    rng = random.Random(args.seed)

    templates = []
    first_ts = 1 << 62
    for path in sorted(glob.glob(os.path.join(args.fixtures, "*.pcap"))):
        name = os.path.splitext(os.path.basename(path))[0]
        pkts = read_pcap(path)
        if pkts is None:
            continue
        frames = [Frame(ts, d) for ts, d in pkts]
        templates.append(Template(name, frames))
        first_ts = min(first_ts, frames[0].ts) if frames else first_ts
        if args.shape == "dense":
            if len(frames) <= SHORT_PACKETS:
                templates.extend([templates[-1]] * (DENSE_WEIGHT - 1))
            continue
        if name in HEALTHY:
            kind = "fastpath" if name == "rdp_security_ok" else "tls"
            ext = extend_data_phase([Frame(ts, d) for ts, d in read_pcap(path)], 3389, args.data_segments, kind, rng)
            templates.append(Template(name + "+data", ext))
    if args.shape == "bulk":
        templates.append(Template("other_tcp_8080", other_flow(rng, args.data_segments), 8080))
    else:
        rng.shuffle(templates)
    # One round: every fixture once, each healthy one also with a data phase, one non-RDP flow.
    rnd = list(templates)
    round_bytes = sum(t.bytes for t in rnd)

    schedule = []
    i = 0
    total = 24
    # Start where the lab recorded: certificate validity is judged against capture time.
    base = first_ts
    spacing = int(args.spacing_ms * 1e6)
    while total < target:
        t = rnd[i % len(rnd)] if (i // len(rnd)) % 2 == 0 else rnd[len(rnd) - 1 - i % len(rnd)]
        n = i + 1
        client_ip = bytes([10, 64 + (n >> 16) % 64, (n >> 8) & 0xFF, n & 0xFF])
        server_ip = bytes([10, 200, (n % 50) // 256, 1 + n % 50])
        client_port = 1024 + (n * 7919) % 64000
        start = base + i * spacing
        if args.shape == "dense":
            start += rng.randrange(spacing)
        schedule.append((start, t, client_ip, server_ip, client_port))
        total += t.bytes
        i += 1

    packets = write_pcap(args.output, merged(schedule))
    size = os.path.getsize(args.output)
    print(
        f"{args.output}: {size} bytes, {packets} packets, {len(schedule)} connections "
        f"({round_bytes} bytes per round of {len(rnd)}), "
        f"{(schedule[-1][0] - schedule[0][0]) / 1e9:.0f} s of connection starts",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
