//! Log positions on the wire: a seq, an `after` cursor, an `as_of` position
//! or a tree size, in REST query strings and GraphQL alike.
//!
//! One type with one range, `0 ..= 2^53 − 1` (the integers every JSON
//! reader keeps exactly): a REST parameter or a GraphQL argument beyond it
//! is refused with the same sentence, the OpenAPI document and the GraphQL
//! schema both state the range, and GraphQL carries these numbers in the
//! `Seq` scalar instead of `Int`, whose 32 bits a long log outgrows.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use serde::Deserialize;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};

/// The largest position on the wire: 2^53 − 1.
pub const MAX_SEQ: u64 = (1 << 53) - 1;

/// A log position or a tree size, `0 ..= 2^53 − 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(try_from = "u64")]
pub struct Seq(pub u64);

/// The sentence of a refusal, the same on every interface.
fn out_of_range(n: impl std::fmt::Display) -> String {
    format!("{n} is not a log position: a seq or tree size is an integer from 0 to 2^53-1 ({MAX_SEQ})")
}

impl TryFrom<u64> for Seq {
    type Error = String;

    fn try_from(n: u64) -> Result<Self, Self::Error> {
        if n <= MAX_SEQ { Ok(Seq(n)) } else { Err(out_of_range(n)) }
    }
}

impl From<Seq> for u64 {
    fn from(s: Seq) -> u64 {
        s.0
    }
}

impl utoipa::PartialSchema for Seq {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .description(Some("A position in the log (seq, after) or a tree size: an integer from 0 to 2^53-1."))
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .minimum(Some(0))
            .maximum(Some(MAX_SEQ as f64))
            .into()
    }
}

impl utoipa::ToSchema for Seq {}

/// A position in the log (`seq`, `after`, `asOf`) or a tree size: an
/// integer from 0 to 2^53-1 (9007199254740991), beyond GraphQL's 32-bit
/// `Int`.
#[Scalar(name = "Seq")]
impl ScalarType for Seq {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::Number(n) => match n.as_u64() {
                Some(n) => Seq::try_from(n).map_err(InputValueError::custom),
                None => Err(InputValueError::custom(out_of_range(n))),
            },
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::Number(self.0.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_is_the_same_for_rest_and_graphql() {
        assert_eq!(serde_json::from_str::<Seq>("9007199254740991").unwrap(), Seq(MAX_SEQ));
        let refused = serde_json::from_str::<Seq>("9007199254740992").unwrap_err().to_string();
        assert!(refused.contains("from 0 to 2^53-1"), "{refused}");
        assert!(serde_json::from_str::<Seq>("-1").is_err());
        assert_eq!(<Seq as ScalarType>::parse(Value::Number(MAX_SEQ.into())).unwrap(), Seq(MAX_SEQ));
        assert!(<Seq as ScalarType>::parse(Value::Number((MAX_SEQ + 1).into())).is_err());
        assert!(<Seq as ScalarType>::parse(Value::Number((1u64 << 31).into())).is_ok(), "beyond Int");
        assert!(<Seq as ScalarType>::parse(Value::Number((-1).into())).is_err());
        assert!(<Seq as ScalarType>::parse(Value::String("5".into())).is_err());
    }
}
