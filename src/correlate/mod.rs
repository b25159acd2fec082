//! Facts that span conversations. Session machines know only their own flow; this module
//! joins them by addresses, ports and time windows, and says on what basis it joined.
//!
//! The RDP-UDP flows of a TCP connection (`udp_pairs`); the Kerberos and DNS exchanges that
//! served a connection (`auth_context`); retries grouped into attempts (`attempts`).

pub mod attempts;
pub mod auth_context;
pub mod gateway;
pub mod udp_pairs;

pub use attempts::{Attempt, AttemptRef, Attempts, Try};
pub use auth_context::{AuthContext, NameTie, SideRecord, SideStore, TieBasis, Tied};
pub use gateway::{GatewayCorrelator, Recognised};
pub use udp_pairs::{Peers, TcpPeer, UdpPairing};
