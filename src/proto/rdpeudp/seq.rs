//! Sequence-number unwrapping for MS-RDPEUDP2 (MS-RDPEUDP2 2.2.1.2 DataHeader / DataBody).

/// Extends 16-bit sequence numbers (RDPEUDP2 DataSeqNum / ChannelSeqNum) to 64 bits: each value
/// is placed in the epoch nearest the highest one seen so far, so wraps count forward and
/// reordering of up to 32767 packets goes backward without advancing the epoch.
#[derive(Debug, Clone, Default)]
pub struct SeqUnwrapper {
    highest: Option<u64>,
}

impl SeqUnwrapper {
    pub fn new() -> Self {
        SeqUnwrapper { highest: None }
    }

    pub fn unwrap(&mut self, seq16: u16) -> u64 {
        let Some(high) = self.highest else {
            self.highest = Some(u64::from(seq16));
            return u64::from(seq16);
        };
        // Truncation is the point: the low 16 bits of the highest value, and the signed
        // distance from them.
        let low = (high & 0xffff) as u16;
        let delta = i64::from(seq16.wrapping_sub(low) as i16);
        let candidate = i64::try_from(high)
            .unwrap_or(i64::MAX)
            .saturating_add(delta);
        match u64::try_from(candidate) {
            Ok(value) => {
                self.highest = Some(high.max(value));
                value
            }
            // Older than the first value seen, before any wrap: keep it in epoch 0.
            Err(_) => u64::from(seq16),
        }
    }
}
