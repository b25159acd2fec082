//! Reassembly on synthetic segments: each test builds the exact sequence of segments a
//! misbehaving path produces (loss, duplicates, reordering, overlap, zero windows, SYN retries)
//! and checks what reaches the layer above and what is counted.

use super::*;
use crate::capture::TcpFlags;

const CLIENT_ISN: u32 = 1000;
const SERVER_ISN: u32 = 5000;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Out {
    Data(Vec<u8>),
    Gap(u64),
}

/// Feeds segments one frame at a time (1 ms apart) and records what each side delivers.
struct Harness {
    tcp: TcpReassembler,
    frame: u64,
    out: [Vec<Out>; 2],
}

#[derive(Clone, Copy)]
struct Seg<'a> {
    seq: u32,
    ack: Option<u32>,
    syn: bool,
    fin: bool,
    rst: bool,
    window: u16,
    payload: &'a [u8],
    wire_len: Option<u32>,
}

fn seg(seq: u32, payload: &[u8]) -> Seg<'_> {
    Seg {
        seq,
        ack: None,
        syn: false,
        fin: false,
        rst: false,
        window: 64240,
        payload,
        wire_len: None,
    }
}

impl Harness {
    fn new(max_buffer: usize) -> Self {
        Harness {
            tcp: TcpReassembler::new(max_buffer),
            frame: 0,
            out: [Vec::new(), Vec::new()],
        }
    }

    fn feed(&mut self, side: Side, s: Seg<'_>) -> SegmentVerdict {
        self.frame += 1;
        let segment = TcpSegment {
            src_port: if side == Side::Client { 50000 } else { 3389 },
            dst_port: if side == Side::Client { 3389 } else { 50000 },
            seq: s.seq,
            ack: s.ack.unwrap_or(0),
            flags: TcpFlags {
                syn: s.syn,
                ack: s.ack.is_some(),
                fin: s.fin,
                rst: s.rst,
                psh: !s.payload.is_empty(),
            },
            window: s.window,
            payload: s.payload,
            wire_len: s.wire_len.unwrap_or(s.payload.len() as u32),
        };
        let out = &mut self.out;
        let ts_ns = self.frame as i64 * 1_000_000;
        self.tcp
            .segment(side, &segment, self.frame, ts_ns, &mut |side, o| {
                out[side.index()].push(match o {
                    StreamOutput::Data(d) => Out::Data(d.to_vec()),
                    StreamOutput::Gap(n) => Out::Gap(n),
                })
            })
    }

    /// SYN, SYN/ACK, ACK with the ISNs above: data starts at ISN + 1 on both sides.
    fn handshake(&mut self) {
        self.feed(
            Side::Client,
            Seg {
                syn: true,
                ..seg(CLIENT_ISN, b"")
            },
        );
        self.feed(
            Side::Server,
            Seg {
                syn: true,
                ack: Some(CLIENT_ISN + 1),
                ..seg(SERVER_ISN, b"")
            },
        );
        self.feed(
            Side::Client,
            Seg {
                ack: Some(SERVER_ISN + 1),
                ..seg(CLIENT_ISN + 1, b"")
            },
        );
    }

    fn client_data(&mut self, offset: u32, payload: &[u8]) -> SegmentVerdict {
        self.feed(
            Side::Client,
            Seg {
                ack: Some(SERVER_ISN + 1),
                ..seg(CLIENT_ISN + 1 + offset, payload)
            },
        )
    }

    /// A pure ACK from the server for client stream offset `offset`.
    fn server_ack(&mut self, offset: u32) {
        self.feed(
            Side::Server,
            Seg {
                ack: Some(CLIENT_ISN + 1 + offset),
                ..seg(SERVER_ISN + 1, b"")
            },
        );
    }

    fn flush(&mut self) {
        self.frame += 1;
        let out = &mut self.out;
        self.tcp.flush(self.frame, 0, &mut |side, o| {
            out[side.index()].push(match o {
                StreamOutput::Data(d) => Out::Data(d.to_vec()),
                StreamOutput::Gap(n) => Out::Gap(n),
            })
        });
    }

    fn client_out(&self) -> &[Out] {
        &self.out[0]
    }
}

fn data(b: &[u8]) -> Out {
    Out::Data(b.to_vec())
}

#[test]
fn synthetic_handshake_and_in_order_data() {
    let mut h = Harness::new(1 << 20);
    h.handshake();
    let v = h.client_data(0, b"hello");
    assert_eq!(v, SegmentVerdict::default());
    h.client_data(5, b" world");
    assert_eq!(h.client_out(), [data(b"hello"), data(b" world")]);
    let s = &h.tcp.stats;
    assert!(s.syn_seen && s.syn_ack_seen);
    // SYN in frame 1, handshake ACK in frame 3: 2 ms.
    assert_eq!(s.handshake_rtt_ns(), Some(2_000_000));
    assert_eq!(s.payload_bytes, [11, 0]);
    assert_eq!(s.data_segments, [2, 0]);
    assert_eq!(s.retransmissions, [0, 0]);
    assert!(s.gaps.is_empty());
}

#[test]
fn synthetic_exact_retransmission_is_counted_not_delivered_twice() {
    let mut h = Harness::new(1 << 20);
    h.handshake();
    h.client_data(0, b"abcd");
    let v = h.client_data(0, b"abcd");
    assert!(v.retransmission && !v.out_of_order);
    assert_eq!(h.client_out(), [data(b"abcd")]);
    let s = &h.tcp.stats;
    assert_eq!(s.retransmissions, [1, 0]);
    assert_eq!(s.retransmitted_segments[0].len(), 1);
    assert_eq!(s.retransmitted_segments[0][0].0.frame, 5);
    assert_eq!(s.retransmitted_segments[0][0].1, 4);
    assert_eq!(s.payload_bytes[0], 4);
}

#[test]
fn synthetic_overlapping_segment_delivers_only_the_new_bytes() {
    let mut h = Harness::new(1 << 20);
    h.handshake();
    h.client_data(0, b"abcd");
    // Repacketised retransmission: two old bytes, two new ones.
    let v = h.client_data(2, b"cdef");
    assert!(v.retransmission);
    assert_eq!(h.client_out(), [data(b"abcd"), data(b"ef")]);
    assert_eq!(h.tcp.stats.payload_bytes[0], 6);
    h.client_data(6, b"gh");
    assert_eq!(h.client_out().last(), Some(&data(b"gh")));
}

#[test]
fn synthetic_reordered_segments_are_delivered_in_stream_order() {
    let mut h = Harness::new(1 << 20);
    h.handshake();
    let later = h.client_data(8, b"ijkl");
    assert!(later.out_of_order && !later.retransmission);
    let middle = h.client_data(4, b"efgh");
    assert!(middle.out_of_order);
    assert!(h.client_out().is_empty());
    let first = h.client_data(0, b"abcd");
    assert!(!first.out_of_order && !first.retransmission);
    assert_eq!(
        h.client_out(),
        [data(b"abcd"), data(b"efgh"), data(b"ijkl")]
    );
    let s = &h.tcp.stats;
    assert_eq!(s.retransmissions, [0, 0]);
    assert!(s.gaps.is_empty());
    assert_eq!(s.payload_bytes[0], 12);
}

#[test]
fn synthetic_bytes_acked_but_never_captured_become_a_gap() {
    let mut h = Harness::new(1 << 20);
    h.handshake();
    h.client_data(0, b"abcd");
    // The server acknowledges 4 bytes the capture never saw.
    h.server_ack(8);
    h.client_data(8, b"ijkl");
    assert_eq!(h.client_out(), [data(b"abcd"), Out::Gap(4), data(b"ijkl")]);
    let s = &h.tcp.stats;
    assert_eq!(s.gaps.len(), 1);
    assert_eq!(
        (s.gaps[0].side, s.gaps[0].bytes, s.gaps[0].frame),
        (Side::Client, 4, 5)
    );
}

#[test]
fn synthetic_full_reorder_buffer_gives_up_on_the_missing_bytes() {
    let mut h = Harness::new(8);
    h.handshake();
    h.client_data(0, b"abcd");
    // Offset 4..8 is lost; 12 bytes wait behind it, more than the 8-byte buffer.
    h.client_data(8, b"ijkl");
    assert_eq!(h.client_out(), [data(b"abcd")]);
    h.client_data(12, b"mnopqrst");
    assert_eq!(
        h.client_out(),
        [data(b"abcd"), Out::Gap(4), data(b"ijkl"), data(b"mnopqrst")]
    );
    assert_eq!(h.tcp.stats.gaps.len(), 1);
    // The lost bytes arriving late are old news now.
    let late = h.client_data(4, b"efgh");
    assert!(late.retransmission);
    assert_eq!(h.client_out().len(), 4);
}

#[test]
fn synthetic_segments_still_waiting_at_the_end_follow_a_gap() {
    let mut h = Harness::new(1 << 20);
    h.handshake();
    h.client_data(0, b"ab");
    h.client_data(6, b"gh");
    h.flush();
    assert_eq!(h.client_out(), [data(b"ab"), Out::Gap(4), data(b"gh")]);
}

#[test]
fn synthetic_snaplen_cut_payload_is_data_then_gap() {
    let mut h = Harness::new(1 << 20);
    h.handshake();
    h.feed(
        Side::Client,
        Seg {
            ack: Some(SERVER_ISN + 1),
            wire_len: Some(10),
            ..seg(CLIENT_ISN + 1, b"abc")
        },
    );
    h.client_data(10, b"k");
    assert_eq!(h.client_out(), [data(b"abc"), Out::Gap(7), data(b"k")]);
    assert_eq!(h.tcp.stats.payload_bytes[0], 11);
}

#[test]
fn synthetic_zero_window_is_counted_except_on_syn_and_rst() {
    let mut h = Harness::new(1 << 20);
    h.feed(
        Side::Client,
        Seg {
            syn: true,
            window: 0,
            ..seg(CLIENT_ISN, b"")
        },
    );
    h.feed(
        Side::Server,
        Seg {
            syn: true,
            ack: Some(CLIENT_ISN + 1),
            ..seg(SERVER_ISN, b"")
        },
    );
    h.client_data(0, b"abcd");
    let full = h.feed(
        Side::Server,
        Seg {
            ack: Some(CLIENT_ISN + 5),
            window: 0,
            ..seg(SERVER_ISN + 1, b"")
        },
    );
    assert!(full.zero_window);
    h.feed(
        Side::Server,
        Seg {
            ack: Some(CLIENT_ISN + 5),
            window: 0,
            ..seg(SERVER_ISN + 1, b"")
        },
    );
    let reset = h.feed(
        Side::Server,
        Seg {
            rst: true,
            window: 0,
            ..seg(SERVER_ISN + 1, b"")
        },
    );
    assert!(!reset.zero_window);
    let s = &h.tcp.stats;
    assert_eq!(s.zero_windows, [0, 2]);
    assert_eq!(s.reset_by(), Some(Side::Server));
}

#[test]
fn synthetic_syn_retries_and_duplicate_syn_ack() {
    let mut h = Harness::new(1 << 20);
    for _ in 0..3 {
        h.feed(
            Side::Client,
            Seg {
                syn: true,
                ..seg(CLIENT_ISN, b"")
            },
        );
    }
    for _ in 0..2 {
        h.feed(
            Side::Server,
            Seg {
                syn: true,
                ack: Some(CLIENT_ISN + 1),
                ..seg(SERVER_ISN, b"")
            },
        );
    }
    let s = &h.tcp.stats;
    assert_eq!(s.first_syn.as_ref().map(|f| f.frame), Some(1));
    let retries: Vec<u64> = s.syn_retries.iter().map(|f| f.frame).collect();
    assert_eq!(retries, [2, 3]);
    assert_eq!(s.first_syn_ack.as_ref().map(|f| f.frame), Some(4));
    assert_eq!(s.retransmissions, [0, 1]);
    assert_eq!(s.handshake_ack, None);
}

#[test]
fn synthetic_keepalive_is_not_a_retransmission() {
    let mut h = Harness::new(1 << 20);
    h.handshake();
    h.client_data(0, b"abcd");
    // One byte at delivery point - 1: the classic keepalive probe.
    let v = h.client_data(3, b"d");
    assert!(v.keepalive && !v.retransmission);
    assert_eq!(h.tcp.stats.keepalives, [1, 0]);
    assert_eq!(h.tcp.stats.retransmissions, [0, 0]);
}

#[test]
fn synthetic_sequence_numbers_wrapping_past_zero() {
    let mut h = Harness::new(1 << 20);
    let isn = u32::MAX - 2;
    h.feed(
        Side::Client,
        Seg {
            syn: true,
            ..seg(isn, b"")
        },
    );
    // Data starts at u32::MAX - 1 and the second segment's seq has wrapped to 2.
    h.feed(Side::Client, seg(isn.wrapping_add(1), b"abcd"));
    h.feed(Side::Client, seg(2, b"efgh"));
    assert_eq!(h.client_out(), [data(b"abcd"), data(b"efgh")]);
    assert_eq!(h.tcp.stats.retransmissions, [0, 0]);
}

#[test]
fn synthetic_ack_of_a_fin_is_not_a_gap() {
    let mut h = Harness::new(1 << 20);
    h.handshake();
    h.feed(
        Side::Client,
        Seg {
            fin: true,
            ack: Some(SERVER_ISN + 1),
            ..seg(CLIENT_ISN + 1, b"abcd")
        },
    );
    // The FIN takes sequence number 5: an ACK of 1006 covers it, not an unseen byte.
    h.server_ack(5);
    assert_eq!(h.client_out(), [data(b"abcd")]);
    assert!(h.tcp.stats.gaps.is_empty());
    assert_eq!(h.tcp.stats.closed_by(), Some(Side::Client));
}

#[test]
fn synthetic_empty_segment_ahead_of_the_data_shows_unseen_bytes() {
    let mut h = Harness::new(1 << 20);
    h.handshake();
    h.client_data(0, b"abcd");
    // A pure ACK from the client whose seq is 6 bytes past what was captured.
    h.feed(
        Side::Client,
        Seg {
            ack: Some(SERVER_ISN + 1),
            ..seg(CLIENT_ISN + 1 + 10, b"")
        },
    );
    let ahead = h.tcp.stats.unseen_ahead[0]
        .as_ref()
        .map(|(f, n)| (f.frame, *n));
    assert_eq!(ahead, Some((5, 6)));
}
