//! What an open connection costs in memory: the heap its state holds (`heap_bytes`, counted
//! from capacities, for the footprint test and the bench), and `compact`, which the flow
//! table calls for a connection gone quiet.

use std::mem::size_of;

use super::event::EventKind;
use super::{kerberos, Connection, SideFlow};

pub(crate) use crate::limits::vec_bytes;

fn opt_string(s: &Option<String>) -> usize {
    s.as_ref().map_or(0, String::capacity)
}

fn opt_str(s: &Option<Box<str>>) -> usize {
    s.as_ref().map_or(0, |s| s.len())
}

/// Heap bytes of a box's value (the value's own heap not counted).
fn box_bytes<T>(b: &Option<Box<T>>) -> usize {
    b.as_ref().map_or(0, |_| size_of::<T>())
}

impl EventKind {
    /// Heap bytes an event holds beyond its inline size (strings of the rare payloads).
    pub fn heap_bytes(&self) -> usize {
        match self {
            EventKind::X224Request { cookie, .. } => opt_str(cookie),
            EventKind::TlsClientHello { sni, .. } => opt_str(sni),
            EventKind::TlsCertificate(c) => {
                size_of::<super::CertificateEvent>()
                    + c.subject.capacity()
                    + c.not_before.capacity()
                    + c.not_after.capacity()
            }
            EventKind::IcmpUnreachable(_) => size_of::<crate::capture::IcmpUnreachable>(),
            EventKind::DecodeError(_) => size_of::<super::DecodeError>(),
            EventKind::Gateway(_) => size_of::<super::gateway::inside_facts::GatewayEvent>(),
            EventKind::McsConnectInitial { client } => {
                client.as_ref().map_or(0, |c| c.name.capacity())
            }
            EventKind::Inner(super::InnerEvent::ServerRedirection { target }) => opt_string(target),
            _ => 0,
        }
    }
}

impl Connection {
    /// Heap bytes held by this connection's state (the box the flow table keeps it in not
    /// counted): buffers by capacity, rare parts by their inline size.
    pub fn heap_bytes(&self) -> usize {
        let events = &self.timeline.events;
        let timeline =
            vec_bytes(events) + events.iter().map(|e| e.kind.heap_bytes()).sum::<usize>();
        let framers: usize = self.framers.iter().map(|f| f.heap_bytes()).sum();
        let side = match self.side.as_deref() {
            None => 0,
            Some(SideFlow::Dns(d)) => {
                size_of::<SideFlow>()
                    + vec_bytes(&d.lookups)
                    + d.lookups.iter().map(|l| l.name.capacity()).sum::<usize>()
            }
            Some(SideFlow::Kerberos(k)) => {
                size_of::<SideFlow>()
                    + size_of::<kerberos::KerberosFlow>()
                    + vec_bytes(&k.exchanges)
            }
        };
        timeline
            + framers
            + self.framers.box_bytes()
            + self.x224.box_bytes()
            + self.x224.heap_bytes()
            + self.tls.box_bytes()
            + self.tls.heap_bytes()
            + self.mcs.box_bytes()
            + self.mcs.heap_bytes()
            + box_bytes(&self.unreachable)
            + vec_bytes(&self.decode_errors)
            + vec_bytes(&self.waits)
            + box_bytes(&self.udp)
            + box_bytes(&self.inner)
            + box_bytes(&self.decryption)
            + box_bytes(&self.gateway_inside)
            + box_bytes(&self.dtls)
            + box_bytes(&self.gateway)
            + side
    }

    /// Gives back what a quiet connection does not need: the spare capacity of its vectors
    /// and buffers. Every fact and every byte waiting in a buffer stays as it was.
    pub fn compact(&mut self) {
        self.timeline.events.shrink_to_fit();
        if let Some(framers) = self.framers.get_mut() {
            for f in framers.iter_mut() {
                f.compact();
            }
        }
        self.decode_errors.shrink_to_fit();
        self.waits.shrink_to_fit();
        if let Some(tls) = self.tls.get_mut() {
            tls.early_records.shrink_to_fit();
        }
        match self.side.as_deref_mut() {
            Some(SideFlow::Dns(d)) => d.lookups.shrink_to_fit(),
            Some(SideFlow::Kerberos(k)) => k.exchanges.shrink_to_fit(),
            None => {}
        }
    }
}
