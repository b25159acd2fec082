//! Test harness: every TLS connection of a capture, naively reassembled (in order, overlaps
//! trimmed), framed into records (RDP's cleartext TPKTs skipped) and decrypted with
//! rdpscope's `TlsDecryptor`; and tshark's "Decrypted TLS" bytes of the same capture.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::Path;
use std::process::Command;

use rdpscope::capture::{decode_packet, FileSet, Transport, SECRETS_TYPE_TLS};
use rdpscope::flow::Side;
use rdpscope::keys::{KeySource, KeyStore};
use rdpscope::proto::tls::{find_record_size, TlsConversation, TlsEvent};
use rdpscope::proto::Framing;
use rdpscope::tls::{
    CipherSuiteId, DecryptionStatus, KeyedDecryptor, ProtocolVersion, RecordIn, ServerHelloInfo,
};

type Endpoint = (IpAddr, u16);

/// One decrypted record: (frame, side, content type, plaintext).
pub type Opened = (u64, Side, u8, Vec<u8>);

#[derive(Default)]
struct Half {
    next_seq: Option<u32>,
    buf: Vec<u8>,
    dead: bool,
}

struct Conn {
    client: (IpAddr, u16),
    halves: [Half; 2],
    tls: TlsConversation,
    dec: KeyedDecryptor,
    saw_hello: bool,
}

pub struct ConnectionResult {
    pub client: (IpAddr, u16),
    pub status: DecryptionStatus,
    pub suite: Option<u16>,
    pub version: Option<u16>,
}

pub struct Decrypted {
    pub opened: Vec<Opened>,
    pub connections: Vec<ConnectionResult>,
}

/// Reads the capture's DSBs into `store` (when `use_dsb`) and decrypts every TLS connection.
pub fn decrypt_capture(path: &Path, store: &KeyStore, use_dsb: bool) -> Decrypted {
    let mut files = FileSet::open(&[path.to_string_lossy().into_owned()], None).expect("open");
    let mut conns: HashMap<(Endpoint, Endpoint), Conn> = HashMap::new();
    let mut opened = Vec::new();
    let store_for_dsb = store.clone();
    let mut suites: HashMap<(IpAddr, u16), (u16, u16)> = HashMap::new();
    files
        .for_each_with_secrets(
            u64::MAX,
            |raw| {
                let Some(d) = decode_packet(raw.linktype, raw.data, raw.orig_len) else {
                    return;
                };
                let Transport::Tcp(t) = d.transport else {
                    return;
                };
                let a = (d.src, t.src_port);
                let b = (d.dst, t.dst_port);
                let key = if a < b { (a, b) } else { (b, a) };
                let conn = conns.entry(key).or_insert_with(|| Conn {
                    // The SYN's sender, or else the side talking to the well-known port.
                    client: if t.flags.syn && !t.flags.ack || b.1 == 3389 || b.1 == 443 {
                        a
                    } else {
                        b
                    },
                    halves: Default::default(),
                    tls: TlsConversation::new(),
                    dec: KeyedDecryptor::new(store.clone()),
                    saw_hello: false,
                });
                let side = if a == conn.client {
                    Side::Client
                } else {
                    Side::Server
                };
                let half = &mut conn.halves[side.index()];
                if t.flags.syn {
                    half.next_seq = Some(t.seq.wrapping_add(1));
                    return;
                }
                if t.payload.is_empty() || half.dead {
                    return;
                }
                let next = *half.next_seq.get_or_insert(t.seq);
                let skip = next.wrapping_sub(t.seq) as usize;
                if skip >= t.payload.len() && (skip as u32) < (1 << 30) {
                    return; // a retransmission of bytes already taken
                }
                let fresh = if (skip as u32) < (1 << 30) {
                    &t.payload[skip..]
                } else {
                    t.payload // a gap: take it anyway
                };
                half.next_seq = Some(t.seq.wrapping_add(t.payload.len() as u32));
                half.buf.extend_from_slice(fresh);
                frame_records(conn, side, raw.frame, &mut opened, &mut suites);
            },
            |s| {
                if use_dsb && s.secrets_type == SECRETS_TYPE_TLS {
                    store_for_dsb.add_text(s.data, KeySource::Pcapng);
                }
            },
            |_| {},
        )
        .expect("read");
    let mut connections = Vec::new();
    for conn in conns.values_mut() {
        if !conn.saw_hello {
            continue;
        }
        conn.dec
            .poll(&mut |p| opened.push((0, p.side, p.content_type, p.data.to_vec())));
        let info = suites.get(&conn.client).copied();
        connections.push(ConnectionResult {
            client: conn.client,
            status: conn.dec.decryptor.status(),
            suite: info.map(|i| i.1),
            version: info.map(|i| i.0),
        });
    }
    opened.sort_by_key(|o| o.0);
    Decrypted {
        opened,
        connections,
    }
}

fn frame_records(
    conn: &mut Conn,
    side: Side,
    frame: u64,
    opened: &mut Vec<Opened>,
    suites: &mut HashMap<(IpAddr, u16), (u16, u16)>,
) {
    loop {
        let half = &mut conn.halves[side.index()];
        let buf = &half.buf;
        let len = match buf.first() {
            None => return,
            // RDP's X.224 before TLS: a TPKT (T.123 8), skipped.
            Some(3) if buf.len() >= 4 => {
                let n = usize::from(u16::from_be_bytes([buf[2], buf[3]]));
                if n < 4 {
                    half.dead = true;
                    return;
                }
                if buf.len() < n {
                    return;
                }
                half.buf.drain(..n);
                continue;
            }
            Some(3) => return,
            Some(_) => match find_record_size(buf) {
                Framing::Complete(n) => n,
                Framing::NeedMore(_) => return,
                Framing::Invalid => {
                    half.dead = true;
                    return;
                }
            },
        };
        let record: Vec<u8> = half.buf.drain(..len).collect();
        for ev in conn.tls.feed_record(side == Side::Client, &record) {
            match ev {
                TlsEvent::ClientHello(ch) => {
                    conn.saw_hello = true;
                    conn.dec.client_hello(ch.random);
                }
                TlsEvent::ServerHello(sh) => {
                    suites.insert(conn.client, (sh.selected_version, sh.cipher_suite));
                    conn.dec.server_hello(
                        ServerHelloInfo {
                            random: sh.random,
                            version: ProtocolVersion(sh.selected_version),
                            cipher_suite: CipherSuiteId(sh.cipher_suite),
                            encrypt_then_mac: sh.encrypt_then_mac,
                        },
                        &mut |p| opened.push((frame, p.side, p.content_type, p.data.to_vec())),
                    );
                }
                _ => {}
            }
        }
        let rec = RecordIn {
            side,
            content_type: record[0],
            version: u16::from_be_bytes([record[1], record[2]]),
            fragment: &record[5..],
            frame,
        };
        conn.dec.record(rec, &mut |p| {
            opened.push((p.frame, p.side, p.content_type, p.data.to_vec()))
        });
    }
}

/// tshark's decrypted TLS records, by frame, in order (`extra`: more tshark options).
pub fn tshark_decrypted(path: &Path, extra: &[&str]) -> Option<BTreeMap<u64, Vec<Vec<u8>>>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r")
        .arg(path)
        .args(["-d", "tcp.port==3389,tls", "-P", "-x"]);
    // tshark 4.0 aborts in its EGFX dissector on some of these captures: the RDP layers
    // above TLS are not needed to show the decrypted bytes.
    cmd.args(["--disable-protocol", "rdp", "--disable-protocol", "egfx"]);
    cmd.args(extra);
    let out = cmd.output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut by_frame: BTreeMap<u64, Vec<Vec<u8>>> = BTreeMap::new();
    let mut frame = 0u64;
    let mut current: Option<Vec<u8>> = None;
    for line in text.lines() {
        let is_hex = line.len() > 6
            && line.as_bytes()[..4].iter().all(u8::is_ascii_hexdigit)
            && &line[4..6] == "  ";
        if is_hex {
            if let Some(cur) = current.as_mut() {
                let hex = &line[6..line.len().min(6 + 48)];
                cur.extend(
                    hex.split_whitespace()
                        .filter_map(|h| u8::from_str_radix(h, 16).ok()),
                );
            }
            continue;
        }
        if let Some(done) = current.take() {
            by_frame.entry(frame).or_default().push(done);
        }
        if line.starts_with("Decrypted TLS (") {
            current = Some(Vec::new());
        } else if let Some(n) = line
            .split_whitespace()
            .next()
            .filter(|_| line.starts_with(' '))
            .and_then(|w| w.parse::<u64>().ok())
        {
            frame = n;
        }
    }
    if let Some(done) = current.take() {
        by_frame.entry(frame).or_default().push(done);
    }
    Some(by_frame)
}

/// Our records by frame, in order.
pub fn by_frame(opened: &[Opened]) -> BTreeMap<u64, Vec<Vec<u8>>> {
    let mut out: BTreeMap<u64, Vec<Vec<u8>>> = BTreeMap::new();
    for (frame, _, _, data) in opened {
        out.entry(*frame).or_default().push(data.clone());
    }
    out
}

pub fn tshark_available() -> bool {
    Command::new("tshark")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success())
}
