//! Link, network and transport decoding with etherparse: from raw frame bytes to a
//! TCP segment, UDP datagram or ICMP unreachable, borrowing from the capture buffer.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::{EtherType, LaxNetSlice, LaxSlicedPacket, TransportSlice};

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

impl IcmpUnreachable {
    pub fn describe(&self) -> String {
        let what = match (self.v6, self.code) {
            (false, 0) => "network unreachable",
            (false, 1) => "host unreachable",
            (false, 3) => "port unreachable",
            (false, 9) | (false, 10) | (false, 13) => "administratively prohibited",
            (false, 4) => "fragmentation needed",
            (true, 0) => "no route to destination",
            (true, 1) => "administratively prohibited",
            (true, 3) => "address unreachable",
            (true, 4) => "port unreachable",
            (true, 5) | (true, 6) => "rejected by policy",
            _ => "unreachable",
        };
        format!(
            "ICMP{} {}/{} {}",
            if self.v6 { "v6" } else { "" },
            self.icmp_type,
            self.code,
            what
        )
    }
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
    let missing = orig_len.saturating_sub(data.len() as u32);
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
                wire_len: (payload.len() as u32).saturating_add(missing),
            })
        }
        TransportSlice::Udp(udp) => {
            let payload = udp.payload();
            Transport::Udp(UdpDatagram {
                src_port: udp.source_port(),
                dst_port: udp.destination_port(),
                payload,
                wire_len: (payload.len() as u32).saturating_add(missing),
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

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// ICMP quotes the offending IP header plus at least 8 bytes: enough for the ports.
fn quoted_ipv4(icmp_type: u8, code: u8, quoted: &[u8]) -> Option<IcmpUnreachable> {
    let ihl = usize::from(quoted.first()? & 0x0f) * 4;
    let proto = *quoted.get(9)?;
    let addr = |at: usize| -> Option<IpAddr> {
        let b = quoted.get(at..at + 4)?;
        Some(IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3])))
    };
    Some(IcmpUnreachable {
        v6: false,
        icmp_type,
        code,
        inner_src: addr(12)?,
        inner_dst: addr(16)?,
        inner_proto: proto,
        inner_src_port: be16(quoted, ihl)?,
        inner_dst_port: be16(quoted, ihl + 2)?,
    })
}

fn quoted_ipv6(icmp_type: u8, code: u8, quoted: &[u8]) -> Option<IcmpUnreachable> {
    let proto = *quoted.get(6)?;
    let addr = |at: usize| -> Option<IpAddr> {
        let b: [u8; 16] = quoted.get(at..at + 16)?.try_into().ok()?;
        Some(IpAddr::V6(Ipv6Addr::from(b)))
    };
    Some(IcmpUnreachable {
        v6: true,
        icmp_type,
        code,
        inner_src: addr(8)?,
        inner_dst: addr(24)?,
        inner_proto: proto,
        inner_src_port: be16(quoted, 40)?,
        inner_dst_port: be16(quoted, 42)?,
    })
}
