//! RD Gateway connections (issue 16). `inside`: what the decrypted stream shows (HTTP,
//! WebSocket, HTTP/2 KDC proxy, MS-TSGU) and the tunnelled RDP connection as a child
//! `Connection`. (The keyless recognition, `GatewayFacts`, lives beside it on another
//! branch; merging adds its items here.)

pub mod inside;
pub mod inside_facts;
mod inside_stream;
mod inside_tunnel;

pub use inside::{route_plaintext, GatewayInside};
pub use inside_facts::{GatewayEvent, GatewayInsideFacts};
pub use inside_tunnel::is_routine_krb_error;
