//! The one way `proto/` reads bytes: nom parsers with an error type that remembers which field
//! failed and where, so every parser can report a typed [`ProtoError`] (layer, field, offset).
//!
//! A parser wraps each wire field in [`field`] (or `nom::error::context`) and the PDU's entry
//! point turns a failure into a `ProtoError` with [`WireError::into_proto`], measuring the
//! offset against the bytes it was given.

use nom::error::{ContextError, ErrorKind, ParseError};
use nom::{IResult, Parser};

use super::ProtoError;

/// What went wrong inside a nom parser: the input left at the failing field, that field's
/// name, and for a value that was read but is not allowed, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError<'a> {
    at: &'a [u8],
    field: Option<&'static str>,
    reason: Option<String>,
}

/// The result type of every `proto/` nom parser.
pub type Parsed<'a, O> = IResult<&'a [u8], O, WireError<'a>>;

impl<'a> ParseError<&'a [u8]> for WireError<'a> {
    fn from_error_kind(input: &'a [u8], _kind: ErrorKind) -> Self {
        WireError {
            at: input,
            field: None,
            reason: None,
        }
    }

    fn append(_input: &'a [u8], _kind: ErrorKind, other: Self) -> Self {
        other
    }
}

impl<'a> ContextError<&'a [u8]> for WireError<'a> {
    /// The innermost named field wins: it is the one whose bytes were missing or wrong.
    fn add_context(input: &'a [u8], ctx: &'static str, mut other: Self) -> Self {
        if other.field.is_none() {
            other.field = Some(ctx);
            other.at = input;
        }
        other
    }
}

impl<'a> WireError<'a> {
    /// A field that was read whole but holds a value the spec does not allow.
    pub fn invalid(at: &'a [u8], field: &'static str, reason: impl Into<String>) -> nom::Err<Self> {
        nom::Err::Failure(WireError {
            at,
            field: Some(field),
            reason: Some(reason.into()),
        })
    }

    /// The typed error, with the offset of the failing field inside `whole` (the bytes the
    /// PDU parser was given).
    pub fn into_proto(err: nom::Err<Self>, layer: &'static str, whole: &[u8]) -> ProtoError {
        let e = match err {
            nom::Err::Error(e) | nom::Err::Failure(e) => e,
            // Only `streaming` parsers return Incomplete; proto/ uses `complete` ones.
            nom::Err::Incomplete(_) => return ProtoError::truncated(layer, "PDU", whole.len()),
        };
        let offset = whole.len().saturating_sub(e.at.len());
        let field = e.field.unwrap_or("PDU");
        match e.reason {
            Some(reason) => ProtoError::invalid(layer, field, offset, reason),
            None => ProtoError::truncated(layer, field, offset),
        }
    }
}

/// Names the wire field `parser` reads, for the error if its bytes are missing.
pub fn field<'a, O, P>(name: &'static str, parser: P) -> impl FnMut(&'a [u8]) -> Parsed<'a, O>
where
    P: Parser<&'a [u8], O, WireError<'a>>,
{
    nom::error::context(name, parser)
}

/// Runs a whole-PDU parser and turns its failure into a [`ProtoError`] of `layer`.
pub fn run<'a, O, P>(layer: &'static str, input: &'a [u8], mut parser: P) -> Result<O, ProtoError>
where
    P: Parser<&'a [u8], O, WireError<'a>>,
{
    parser
        .parse(input)
        .map(|(_, out)| out)
        .map_err(|e| WireError::into_proto(e, layer, input))
}

/// Like [`run`], also returning what the parser left unread.
pub fn run_rest<'a, O, P>(
    layer: &'static str,
    input: &'a [u8],
    mut parser: P,
) -> Result<(&'a [u8], O), ProtoError>
where
    P: Parser<&'a [u8], O, WireError<'a>>,
{
    parser
        .parse(input)
        .map_err(|e| WireError::into_proto(e, layer, input))
}

/// A trailing optional field (present only when every earlier one is): `Some` when its bytes
/// are there, `None` otherwise; after a `None` the input is exhausted, so every later optional
/// field is `None` too and none is read from the wrong position.
pub fn trailing<'a, O, P>(mut parser: P) -> impl FnMut(&'a [u8]) -> Parsed<'a, Option<O>>
where
    P: Parser<&'a [u8], O, WireError<'a>>,
{
    move |i: &'a [u8]| match parser.parse(i) {
        Ok((rest, out)) => Ok((rest, Some(out))),
        Err(nom::Err::Error(_)) => Ok((i.get(i.len()..).unwrap_or_default(), None)),
        Err(e) => Err(e),
    }
}

/// Runs `parser` only when `present` (a flag announced the structure).
pub fn when<'a, O, P>(present: bool, mut parser: P) -> impl FnMut(&'a [u8]) -> Parsed<'a, Option<O>>
where
    P: Parser<&'a [u8], O, WireError<'a>>,
{
    move |i: &'a [u8]| {
        if present {
            let (rest, out) = parser.parse(i)?;
            Ok((rest, Some(out)))
        } else {
            Ok((i, None))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nom::number::complete::{be_u16, be_u32};

    #[test]
    fn synthetic_truncated_field_names_field_and_offset() {
        let bytes = [0u8, 1, 2];
        let err = run("t", &bytes, |i| {
            let (i, _) = field("first", be_u16)(i)?;
            field("second", be_u32)(i)
        })
        .unwrap_err();
        assert_eq!(err, ProtoError::truncated("t", "second", 2));
    }

    #[test]
    fn synthetic_trailing_fields_stop_at_the_first_missing_one() {
        let bytes = [0u8, 1, 2];
        let (_, (a, b)) =
            nom::sequence::pair(trailing(be_u16), trailing(nom::number::complete::u8))(&bytes[..])
                .map_err(|_: nom::Err<WireError>| ())
                .unwrap();
        assert_eq!((a, b), (Some(1), Some(2)));
        let (_, (a, b)) =
            nom::sequence::pair(trailing(be_u32), trailing(nom::number::complete::u8))(&bytes[..])
                .map_err(|_: nom::Err<WireError>| ())
                .unwrap();
        assert_eq!((a, b), (None, None));
    }

    #[test]
    fn synthetic_invalid_value_keeps_its_reason() {
        let bytes = [0u8, 9];
        let err = run("t", &bytes, |i| {
            let (rest, v) = field("kind", be_u16)(i)?;
            if v != 1 {
                return Err(WireError::invalid(i, "kind", format!("{v} is not 1")));
            }
            Ok((rest, v))
        })
        .unwrap_err();
        assert_eq!(err, ProtoError::invalid("t", "kind", 0, "9 is not 1"));
    }
}
