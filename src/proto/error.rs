use thiserror::Error;

/// A decoding error that names the layer, the field and the byte offset.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProtoError {
    #[error("{layer}: {field} truncated at offset {offset}")]
    Truncated {
        layer: &'static str,
        field: &'static str,
        offset: usize,
    },
    #[error("{layer}: invalid {field} at offset {offset}: {reason}")]
    Invalid {
        layer: &'static str,
        field: &'static str,
        offset: usize,
        reason: String,
    },
}

impl ProtoError {
    pub fn truncated(layer: &'static str, field: &'static str, offset: usize) -> Self {
        ProtoError::Truncated {
            layer,
            field,
            offset,
        }
    }

    pub fn invalid(
        layer: &'static str,
        field: &'static str,
        offset: usize,
        reason: impl Into<String>,
    ) -> Self {
        ProtoError::Invalid {
            layer,
            field,
            offset,
            reason: reason.into(),
        }
    }

    /// The same error with its offset moved by `by` bytes: for a parser run on a slice that
    /// starts `by` bytes into the PDU the offset should be counted from.
    pub fn shifted(self, by: usize) -> Self {
        match self {
            ProtoError::Truncated {
                layer,
                field,
                offset,
            } => ProtoError::Truncated {
                layer,
                field,
                offset: offset.saturating_add(by),
            },
            ProtoError::Invalid {
                layer,
                field,
                offset,
                reason,
            } => ProtoError::Invalid {
                layer,
                field,
                offset: offset.saturating_add(by),
                reason,
            },
        }
    }
}
