//! Map keys for the fast JSON writer: JSON object keys are strings (RFC 8259 section 4).

use serde::ser::{self, Serialize};

use super::{escape_into, FastJsonError, Result, Writer};

/// A map key: JSON keys are strings, so a string is written as it is and an integer in
/// quotes (as serde_json does); any other key is an error (the caller falls back).
pub(super) struct MapKey<'w, 'a> {
    pub(super) w: &'w mut Writer<'a>,
}

fn unsupported<T>(what: &str) -> Result<T> {
    Err(FastJsonError(format!("map key of type {what}")))
}

impl MapKey<'_, '_> {
    fn quoted_int(self, v: impl itoa::Integer) -> Result {
        self.w.out.push(b'"');
        self.w.int(v);
        self.w.out.push(b'"');
        Ok(())
    }
}

impl ser::Serializer for MapKey<'_, '_> {
    type Ok = ();
    type Error = FastJsonError;
    type SerializeSeq = ser::Impossible<(), FastJsonError>;
    type SerializeTuple = ser::Impossible<(), FastJsonError>;
    type SerializeTupleStruct = ser::Impossible<(), FastJsonError>;
    type SerializeTupleVariant = ser::Impossible<(), FastJsonError>;
    type SerializeMap = ser::Impossible<(), FastJsonError>;
    type SerializeStruct = ser::Impossible<(), FastJsonError>;
    type SerializeStructVariant = ser::Impossible<(), FastJsonError>;

    fn serialize_str(self, v: &str) -> Result {
        escape_into(self.w.out, v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result {
        escape_into(self.w.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_unit_variant(self, _n: &'static str, _i: u32, variant: &'static str) -> Result {
        escape_into(self.w.out, variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _n: &'static str, v: &T) -> Result {
        v.serialize(self)
    }
    fn serialize_i8(self, v: i8) -> Result {
        self.quoted_int(v)
    }
    fn serialize_i16(self, v: i16) -> Result {
        self.quoted_int(v)
    }
    fn serialize_i32(self, v: i32) -> Result {
        self.quoted_int(v)
    }
    fn serialize_i64(self, v: i64) -> Result {
        self.quoted_int(v)
    }
    fn serialize_i128(self, v: i128) -> Result {
        self.quoted_int(v)
    }
    fn serialize_u8(self, v: u8) -> Result {
        self.quoted_int(v)
    }
    fn serialize_u16(self, v: u16) -> Result {
        self.quoted_int(v)
    }
    fn serialize_u32(self, v: u32) -> Result {
        self.quoted_int(v)
    }
    fn serialize_u64(self, v: u64) -> Result {
        self.quoted_int(v)
    }
    fn serialize_u128(self, v: u128) -> Result {
        self.quoted_int(v)
    }
    fn serialize_bool(self, _v: bool) -> Result {
        unsupported("bool")
    }
    fn serialize_f32(self, _v: f32) -> Result {
        unsupported("f32")
    }
    fn serialize_f64(self, _v: f64) -> Result {
        unsupported("f64")
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result {
        unsupported("bytes")
    }
    fn serialize_none(self) -> Result {
        unsupported("option")
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _v: &T) -> Result {
        unsupported("option")
    }
    fn serialize_unit(self) -> Result {
        unsupported("unit")
    }
    fn serialize_unit_struct(self, _n: &'static str) -> Result {
        unsupported("unit struct")
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _n: &'static str,
        _i: u32,
        _variant: &'static str,
        _v: &T,
    ) -> Result {
        unsupported("enum")
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq> {
        unsupported("sequence")
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple> {
        unsupported("tuple")
    }
    fn serialize_tuple_struct(
        self,
        _n: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        unsupported("tuple struct")
    }
    fn serialize_tuple_variant(
        self,
        _n: &'static str,
        _i: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        unsupported("enum")
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap> {
        unsupported("map")
    }
    fn serialize_struct(self, _n: &'static str, _len: usize) -> Result<Self::SerializeStruct> {
        unsupported("struct")
    }
    fn serialize_struct_variant(
        self,
        _n: &'static str,
        _i: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        unsupported("enum")
    }
}
