//! What a live capture reports of a connection that is still going: the phase it entered,
//! and the stall alarm (the handshake stopped moving) before the connection ends.

use crate::flow::{FlowMeta, Side};
use crate::session::PhaseName;

#[derive(Debug, Clone)]
pub enum LiveEvent {
    /// The connection entered a new phase.
    Phase { meta: FlowMeta, phase: PhaseName },
    /// The handshake has made no progress for longer than the stall threshold.
    Stall {
        meta: FlowMeta,
        phase: Option<PhaseName>,
        waiting_on: Option<Side>,
        idle_ms: f64,
    },
}

impl LiveEvent {
    pub fn meta(&self) -> &FlowMeta {
        match self {
            LiveEvent::Phase { meta, .. } | LiveEvent::Stall { meta, .. } => meta,
        }
    }
}
