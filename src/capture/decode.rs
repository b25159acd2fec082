//! Link, network and transport decoding with etherparse: from raw frame bytes to a
//! TCP segment, UDP datagram or ICMP unreachable, borrowing from the capture buffer.

use std::net::{IpAddr, Ipv4Addr};

use etherparse::{
    EtherType, Ipv4HeaderSlice, Ipv6HeaderSlice, LaxNetSlice, LaxSlicedPacket, TransportSlice,
};
use nom::number::complete::be_u16;

use super::source::{
    LINKTYPE_ETHERNET, LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2,
    LINKTYPE_LOOP, LINKTYPE_NULL, LINKTYPE_RAW, LINKTYPE_RAW_ALT, LINKTYPE_RAW_OPENBSD,
};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpFlags {
    pub syn: bool,
    pub ack: bool,
    pub fin: bool,
    pub rst: bool,
    pub psh: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct TcpSegment<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    pub window: u16,
    /// The captured payload bytes.
    pub payload: &'a [u8],
    /// Payload length on the wire; larger than `payload.len()` when the snaplen cut it.
    pub wire_len: u32,
}

#[derive(Debug, Clone, Copy)]
pub struct UdpDatagram<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub payload: &'a [u8],
    pub wire_len: u32,
}

/// An ICMP destination-unreachable message and the ports of the packet it quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IcmpUnreachable {
    pub v6: bool,
    pub icmp_type: u8,
    pub code: u8,
    pub inner_src: IpAddr,
    pub inner_dst: IpAddr,
    pub inner_proto: u8,
    pub inner_src_port: u16,
    pub inner_dst_port: u16,
}

#[derive(Debug, Clone, Copy)]
pub enum Transport<'a> {
    Tcp(TcpSegment<'a>),
    Udp(UdpDatagram<'a>),
    Unreachable(IcmpUnreachable),
}

#[derive(Debug, Clone, Copy)]
pub struct Decoded<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub ttl: u8,
    /// IPv4 identification (0 for IPv6): tells a duplicated capture from a retransmission.
    pub ip_id: u16,
    pub transport: Transport<'a>,
}

/// Decodes one frame; `None` for anything that is not TCP, UDP or ICMP unreachable over IP
/// (ARP, non-first IP fragments, broken headers).
pub fn decode_packet(linktype: i32, data: &[u8], orig_len: u32) -> Option<Decoded<'_>> {
    if linktype == LINKTYPE_ETHERNET {
        if let Some(d) = ethernet_ipv4_tcp(data, orig_len) {
            return Some(d);
        }
    }
    decode_general(linktype, data, orig_len)
}

/// Fast path for the common frame, Ethernet II / IPv4 / TCP without fragmentation: reads the
/// fields straight from the bytes, with exactly etherparse's lax rules (IPv4 total length
/// bounds the payload unless it is shorter than the header or longer than what was captured).
/// `None` means "not this simple case": the general decoder then decides.
#[inline]
fn ethernet_ipv4_tcp(data: &[u8], orig_len: u32) -> Option<Decoded<'_>> {
    if data.get(12..14)? != [0x08, 0x00] {
        return None;
    }
    let ip = data.get(14..)?;
    let &[vihl, _, tl_hi, tl_lo, id_hi, id_lo, fl_hi, fl_lo, ttl, proto, _, _, s0, s1, s2, s3, d0, d1, d2, d3, ..] =
        ip
    else {
        return None;
    };
    let ihl = usize::from(vihl & 0x0f) * 4;
    // Version 4, a whole header, TCP, no MF flag and no fragment offset.
    if vihl >> 4 != 4
        || ihl < 20
        || ip.len() < ihl
        || proto != 6
        || (fl_hi & 0x3f) != 0
        || fl_lo != 0
    {
        return None;
    }
    let total = usize::from(u16::from_be_bytes([tl_hi, tl_lo]));
    let end = if total < ihl || total > ip.len() {
        ip.len()
    } else {
        total
    };
    let tcp = ip.get(ihl..end)?;
    let &[sp_hi, sp_lo, dp_hi, dp_lo, q0, q1, q2, q3, a0, a1, a2, a3, off, flags, w_hi, w_lo, ..] =
        tcp
    else {
        return None;
    };
    let header_len = usize::from(off >> 4) * 4;
    if header_len < 20 {
        return None;
    }
    let payload = tcp.get(header_len..)?;
    let missing = orig_len.saturating_sub(len_u32(data));
    Some(Decoded {
        src: IpAddr::V4(Ipv4Addr::new(s0, s1, s2, s3)),
        dst: IpAddr::V4(Ipv4Addr::new(d0, d1, d2, d3)),
        ttl,
        ip_id: u16::from_be_bytes([id_hi, id_lo]),
        transport: Transport::Tcp(TcpSegment {
            src_port: u16::from_be_bytes([sp_hi, sp_lo]),
            dst_port: u16::from_be_bytes([dp_hi, dp_lo]),
            seq: u32::from_be_bytes([q0, q1, q2, q3]),
            ack: u32::from_be_bytes([a0, a1, a2, a3]),
            flags: TcpFlags {
                syn: flags & 0x02 != 0,
                ack: flags & 0x10 != 0,
                fin: flags & 0x01 != 0,
                rst: flags & 0x04 != 0,
                psh: flags & 0x08 != 0,
            },
            window: u16::from_be_bytes([w_hi, w_lo]),
            payload,
            wire_len: len_u32(payload).saturating_add(missing),
        }),
    })
}

fn decode_general(linktype: i32, data: &[u8], orig_len: u32) -> Option<Decoded<'_>> {
    let sliced = match linktype {
        LINKTYPE_ETHERNET => LaxSlicedPacket::from_ethernet(data).ok()?,
        LINKTYPE_LINUX_SLL => {
            // SLL: 16-byte header, protocol type in the last two bytes.
            let proto = u16::from_be_bytes([*data.get(14)?, *data.get(15)?]);
            LaxSlicedPacket::from_ether_type(EtherType(proto), data.get(16..)?)
        }
        LINKTYPE_LINUX_SLL2 => {
            // SLL2: 20-byte header, protocol type in the first two bytes.
            let proto = u16::from_be_bytes([*data.first()?, *data.get(1)?]);
            LaxSlicedPacket::from_ether_type(EtherType(proto), data.get(20..)?)
        }
        LINKTYPE_NULL | LINKTYPE_LOOP => LaxSlicedPacket::from_ip(data.get(4..)?).ok()?,
        LINKTYPE_RAW | LINKTYPE_RAW_ALT | LINKTYPE_RAW_OPENBSD | LINKTYPE_IPV4 | LINKTYPE_IPV6 => {
            LaxSlicedPacket::from_ip(data).ok()?
        }
        _ => return None,
    };
    let (src, dst, ttl, ip_id, fragmented) = match sliced.net.as_ref()? {
        LaxNetSlice::Ipv4(v4) => {
            let h = v4.header();
            (
                IpAddr::V4(h.source_addr()),
                IpAddr::V4(h.destination_addr()),
                h.ttl(),
                h.identification(),
                v4.payload().fragmented,
            )
        }
        LaxNetSlice::Ipv6(v6) => {
            let h = v6.header();
            (
                IpAddr::V6(h.source_addr()),
                IpAddr::V6(h.destination_addr()),
                h.hop_limit(),
                0,
                v6.payload().fragmented,
            )
        }
    };
    if fragmented {
        return None;
    }
    let missing = orig_len.saturating_sub(len_u32(data));
    let transport = match sliced.transport? {
        TransportSlice::Tcp(tcp) => {
            let payload = tcp.payload();
            Transport::Tcp(TcpSegment {
                src_port: tcp.source_port(),
                dst_port: tcp.destination_port(),
                seq: tcp.sequence_number(),
                ack: tcp.acknowledgment_number(),
                flags: TcpFlags {
                    syn: tcp.syn(),
                    ack: tcp.ack(),
                    fin: tcp.fin(),
                    rst: tcp.rst(),
                    psh: tcp.psh(),
                },
                window: tcp.window_size(),
                payload,
                wire_len: len_u32(payload).saturating_add(missing),
            })
        }
        TransportSlice::Udp(udp) => {
            let payload = udp.payload();
            Transport::Udp(UdpDatagram {
                src_port: udp.source_port(),
                dst_port: udp.destination_port(),
                payload,
                wire_len: len_u32(payload).saturating_add(missing),
            })
        }
        TransportSlice::Icmpv4(icmp) if icmp.type_u8() == 3 => {
            Transport::Unreachable(quoted_ipv4(icmp.type_u8(), icmp.code_u8(), icmp.payload())?)
        }
        TransportSlice::Icmpv6(icmp) if icmp.type_u8() == 1 => {
            Transport::Unreachable(quoted_ipv6(icmp.type_u8(), icmp.code_u8(), icmp.payload())?)
        }
        _ => return None,
    };
    Some(Decoded {
        src,
        dst,
        ttl,
        ip_id,
        transport,
    })
}

/// The source and destination ports at the front of a quoted TCP or UDP header.
fn quoted_ports(transport: &[u8]) -> Option<(u16, u16)> {
    let ports: nom::IResult<&[u8], (u16, u16)> = nom::sequence::pair(be_u16, be_u16)(transport);
    ports.ok().map(|(_, p)| p)
}

/// ICMP quotes the offending IP header plus at least 8 bytes: enough for the ports
/// (RFC 792, RFC 1812 4.3.2.3).
fn quoted_ipv4(icmp_type: u8, code: u8, quoted: &[u8]) -> Option<IcmpUnreachable> {
    let ip = Ipv4HeaderSlice::from_slice(quoted).ok()?;
    let (inner_src_port, inner_dst_port) = quoted_ports(quoted.get(ip.slice().len()..)?)?;
    Some(IcmpUnreachable {
        v6: false,
        icmp_type,
        code,
        inner_src: IpAddr::V4(ip.source_addr()),
        inner_dst: IpAddr::V4(ip.destination_addr()),
        inner_proto: ip.protocol().0,
        inner_src_port,
        inner_dst_port,
    })
}

/// ICMPv6 quotes as much of the offending packet as fits (RFC 4443 3.1); the ports follow the
/// fixed IPv6 header (extension headers are not walked, as before).
fn quoted_ipv6(icmp_type: u8, code: u8, quoted: &[u8]) -> Option<IcmpUnreachable> {
    let ip = Ipv6HeaderSlice::from_slice(quoted).ok()?;
    let (inner_src_port, inner_dst_port) = quoted_ports(quoted.get(ip.slice().len()..)?)?;
    Some(IcmpUnreachable {
        v6: true,
        icmp_type,
        code,
        inner_src: IpAddr::V6(ip.source_addr()),
        inner_dst: IpAddr::V6(ip.destination_addr()),
        inner_proto: ip.next_header().0,
        inner_src_port,
        inner_dst_port,
    })
}

/// A captured length as the wire's 32-bit field (captures cap frames far below 4 GiB; a
/// longer slice saturates instead of wrapping).
pub(crate) fn len_u32(bytes: &[u8]) -> u32 {
    u32::try_from(bytes.len()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: Option<Decoded>, b: Option<Decoded>) -> bool {
        format!("{a:?}") == format!("{b:?}")
    }

    /// The fast path agrees with the general decoder on every lab frame, and on those frames
    /// with their IPv4/TCP header fields bent (lengths, version, fragments, data offset).
    #[test]
    fn fast_path_matches_the_general_decoder() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/lab");
        let mut frames = Vec::new();
        for entry in std::fs::read_dir(dir).expect("fixtures/lab") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "pcap") {
                let path = path.to_string_lossy().into_owned();
                let mut files = crate::capture::FileSet::open(&[path], None).expect("opens");
                files
                    .for_each(|p| frames.push((p.data.to_vec(), p.orig_len)))
                    .expect("fixture reads");
            }
        }
        assert!(frames.len() > 500);
        let mut checked = 0;
        for (data, orig_len) in &frames {
            let fast = ethernet_ipv4_tcp(data, *orig_len);
            if fast.is_some() {
                checked += 1;
            }
            if let Some(f) = fast {
                assert!(same(
                    Some(f),
                    decode_general(LINKTYPE_ETHERNET, data, *orig_len)
                ));
            }
            // Bend one header byte at a time (IPv4 header and TCP data offset), and truncate.
            for at in [14, 16, 17, 20, 21, 23, 46] {
                for v in [0x00u8, 0x01, 0x05, 0x20, 0x3f, 0x45, 0x4f, 0x50, 0x60, 0xff] {
                    let mut bent = data.clone();
                    if let Some(b) = bent.get_mut(at) {
                        *b = v;
                    }
                    if let Some(f) = ethernet_ipv4_tcp(&bent, *orig_len) {
                        assert!(same(
                            Some(f),
                            decode_general(LINKTYPE_ETHERNET, &bent, *orig_len)
                        ));
                    }
                }
            }
            for cut in [13, 14, 20, 33, 34, 40, 53, 54, 60] {
                let short = data.get(..cut.min(data.len())).unwrap_or_default();
                if let Some(f) = ethernet_ipv4_tcp(short, *orig_len) {
                    assert!(same(
                        Some(f),
                        decode_general(LINKTYPE_ETHERNET, short, *orig_len)
                    ));
                }
            }
        }
        assert!(checked > 500);
    }
}
