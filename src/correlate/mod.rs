//! Facts that span conversations. Session machines know only their own flow; this module
//! joins them by addresses, ports and time windows, and says on what basis it joined.
//!
//! Today: the RDP-UDP flows of a TCP connection (`udp_pairs`). The cross-flow work of this
//! round (RD Gateway → tunnelled connection, Kerberos/DNS tied to a connection, retries)
//! lands here beside it.

pub mod udp_pairs;

pub use udp_pairs::{Peers, TcpPeer, UdpPairing};
