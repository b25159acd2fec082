//! Capability exchange and deactivation (MS-RDPBCGR 2.2.1.13, 2.2.3.1): the Demand Active,
//! Confirm Active and Deactivate All PDUs, down to the list of capability set types.

use crate::proto::byte_cursor::{ascii_text, ByteCursor};
use crate::proto::ProtoError;

const LAYER: &str = "capabilities";
/// Windows sends about 20 capability sets; more than this is not a real peer.
const MAX_CAPABILITY_SETS: usize = 64;

/// capabilitySetType (MS-RDPBCGR 2.2.1.13.1.1.1); unknown values kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapabilitySetType(pub u16);

impl CapabilitySetType {
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x01 => "CAPSTYPE_GENERAL",
            0x02 => "CAPSTYPE_BITMAP",
            0x03 => "CAPSTYPE_ORDER",
            0x04 => "CAPSTYPE_BITMAPCACHE",
            0x05 => "CAPSTYPE_CONTROL",
            0x07 => "CAPSTYPE_ACTIVATION",
            0x08 => "CAPSTYPE_POINTER",
            0x09 => "CAPSTYPE_SHARE",
            0x0A => "CAPSTYPE_COLORCACHE",
            0x0C => "CAPSTYPE_SOUND",
            0x0D => "CAPSTYPE_INPUT",
            0x0E => "CAPSTYPE_FONT",
            0x0F => "CAPSTYPE_BRUSH",
            0x10 => "CAPSTYPE_GLYPHCACHE",
            0x11 => "CAPSTYPE_OFFSCREENCACHE",
            0x12 => "CAPSTYPE_BITMAPCACHE_HOSTSUPPORT",
            0x13 => "CAPSTYPE_BITMAPCACHE_REV2",
            0x14 => "CAPSTYPE_VIRTUALCHANNEL",
            0x15 => "CAPSTYPE_DRAWNINEGRIDCACHE",
            0x16 => "CAPSTYPE_DRAWGDIPLUS",
            0x17 => "CAPSTYPE_RAIL",
            0x18 => "CAPSTYPE_WINDOW",
            0x19 => "CAPSETTYPE_COMPDESK",
            0x1A => "CAPSETTYPE_MULTIFRAGMENTUPDATE",
            0x1B => "CAPSETTYPE_LARGE_POINTER",
            0x1C => "CAPSETTYPE_SURFACE_COMMANDS",
            0x1D => "CAPSETTYPE_BITMAP_CODECS",
            0x1E => "CAPSSETTYPE_FRAME_ACKNOWLEDGE",
            _ => return None,
        })
    }
}

/// Demand Active (server, MS-RDPBCGR 2.2.1.13.1.1) or Confirm Active (client, 2.2.1.13.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivePdu {
    pub share_id: u32,
    /// Confirm Active only: originatorId (the server channel, 0x03EA).
    pub originator_id: Option<u16>,
    pub source_descriptor: String,
    pub capability_sets: Vec<CapabilitySetType>,
    /// Demand Active only: the session the server will run (after the capability sets).
    pub session_id: Option<u32>,
}

/// Deactivate All (MS-RDPBCGR 2.2.3.1.1): the server leaves the share (reactivation follows,
/// or the connection ends).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeactivateAll {
    pub share_id: u32,
}

fn capability_sets(c: &mut ByteCursor, count: u16) -> Result<Vec<CapabilitySetType>, ProtoError> {
    let mut out = Vec::new();
    for _ in 0..usize::from(count).min(MAX_CAPABILITY_SETS) {
        let kind = CapabilitySetType(c.le_u16("capabilitySetType")?);
        let len = usize::from(c.le_u16("lengthCapability")?);
        if len < 4 {
            return Err(c.invalid("lengthCapability", 2, format!("{len} is below 4")));
        }
        c.skip(len - 4, "capabilityData")?;
        out.push(kind);
    }
    Ok(out)
}

fn active(b: &[u8], confirm: bool) -> Result<ActivePdu, ProtoError> {
    let mut c = ByteCursor::new(LAYER, b);
    let share_id = c.le_u32("shareId")?;
    let originator_id = if confirm {
        Some(c.le_u16("originatorId")?)
    } else {
        None
    };
    let len_source = usize::from(c.le_u16("lengthSourceDescriptor")?);
    let len_caps = usize::from(c.le_u16("lengthCombinedCapabilities")?);
    let source_descriptor = ascii_text(c.take(len_source, "sourceDescriptor")?, 64);
    let caps = c.take(len_caps, "capabilitySets")?;
    let mut cc = ByteCursor::new(LAYER, caps);
    let count = cc.le_u16("numberCapabilities")?;
    cc.skip(2, "pad2Octets")?;
    let capability_sets = capability_sets(&mut cc, count)?;
    let session_id = if confirm {
        None
    } else {
        c.le_u32("sessionId").ok()
    };
    Ok(ActivePdu {
        share_id,
        originator_id,
        source_descriptor,
        capability_sets,
        session_id,
    })
}

/// The body of a Demand Active PDU (after the Share Control Header).
pub fn parse_demand_active(b: &[u8]) -> Result<ActivePdu, ProtoError> {
    active(b, false)
}

/// The body of a Confirm Active PDU (after the Share Control Header).
pub fn parse_confirm_active(b: &[u8]) -> Result<ActivePdu, ProtoError> {
    active(b, true)
}

/// The body of a Deactivate All PDU (after the Share Control Header).
pub fn parse_deactivate_all(b: &[u8]) -> Result<DeactivateAll, ProtoError> {
    let mut c = ByteCursor::new(LAYER, b);
    Ok(DeactivateAll {
        share_id: c.le_u32("shareId")?,
    })
}
