//! The crate's one error type: an HTTP-style status with a FastAPI
//! `HTTPValidationError` body (`detail: [{loc, msg, type}]`), and every kind
//! of error with its pydantic/FastAPI `type` and (where it is fixed) its
//! message: [`Kind`], the one place those strings are written. The JS
//! boundary turns an error into a thrown `Error` in exactly one place
//! (`wasm::throw`).

use std::fmt;

/// One step of a `loc` path: an object key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loc {
    Key(String),
    Index(usize),
}

impl From<&str> for Loc {
    fn from(k: &str) -> Self {
        Loc::Key(k.to_string())
    }
}

impl From<usize> for Loc {
    fn from(i: usize) -> Self {
        Loc::Index(i)
    }
}

/// Every kind of error the crate reports, by its `type` in `detail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Missing,
    ExtraForbidden,
    StringType,
    DictType,
    ListType,
    BoolType,
    BoolParsing,
    IntType,
    IntParsing,
    IntFromFloat,
    IntParsingSize,
    FiniteNumber,
    /// `>= 1` is the only bound the contract has.
    GreaterThanEqual,
    FloatType,
    FloatParsing,
    DatetimeType,
    /// The message names the model: `... or instance of PriceRow`.
    ModelType,
    /// The message lists the allowed values.
    LiteralError,
    /// The message says why.
    DatetimeParsing,
    /// The message says why.
    DatetimeFromDateParsing,
    /// 400: a body that is not JSON (or a 422 for an argument that is not).
    JsonInvalid,
    /// A filter or field the contract has but this library does not read;
    /// the message says what to do instead.
    NotSupported,
    /// A JavaScript value `JSON.stringify` refuses.
    JsonType,
    /// A body that is not bytes, a string or a byte view.
    BytesType,
    /// `push` after `finish`.
    StreamFinished,
    /// 413: the calls do not fit in memory.
    PayloadTooLarge,
    /// 413: the request or options do not fit in memory; or, under Weave
    /// 0.53.12's `limit` rule, a requested trace has more calls than `limit`.
    RequestTooLarge,
    /// 400: Weave 0.53.12's `InvalidRequest` (`options.limit: "per-batch"`
    /// with a `limit` below 1).
    InvalidRequest,
    /// 500: the answer does not fit in memory or in one JavaScript string.
    ResponseTooLarge,
    /// A check across fields (pydantic's model validators); the message
    /// says which.
    ValueError,
    /// 409: stats asked of a `UsageAccumulator` not made for them.
    NotForStats,
    /// 501: stats asked of a module built without them (the package's main
    /// entry): they are in `weave-usage/stats`.
    StatsUnavailable,
}

impl Kind {
    /// Its `type` in `detail`.
    pub const fn name(self) -> &'static str {
        match self {
            Kind::Missing => "missing",
            Kind::ExtraForbidden => "extra_forbidden",
            Kind::StringType => "string_type",
            Kind::DictType => "dict_type",
            Kind::ListType => "list_type",
            Kind::BoolType => "bool_type",
            Kind::BoolParsing => "bool_parsing",
            Kind::IntType => "int_type",
            Kind::IntParsing => "int_parsing",
            Kind::IntFromFloat => "int_from_float",
            Kind::IntParsingSize => "int_parsing_size",
            Kind::FiniteNumber => "finite_number",
            Kind::GreaterThanEqual => "greater_than_equal",
            Kind::FloatType => "float_type",
            Kind::FloatParsing => "float_parsing",
            Kind::DatetimeType => "datetime_type",
            Kind::ModelType => "model_type",
            Kind::LiteralError => "literal_error",
            Kind::DatetimeParsing => "datetime_parsing",
            Kind::DatetimeFromDateParsing => "datetime_from_date_parsing",
            Kind::JsonInvalid => "json_invalid",
            Kind::NotSupported => "not_supported",
            Kind::JsonType => "json_type",
            Kind::BytesType => "bytes_type",
            Kind::StreamFinished => "stream_finished",
            Kind::PayloadTooLarge => "payload_too_large",
            Kind::RequestTooLarge => "request_too_large",
            Kind::InvalidRequest => "invalid_request",
            Kind::ResponseTooLarge => "response_too_large",
            Kind::ValueError => "value_error",
            Kind::NotForStats => "accumulator_not_for_stats",
            Kind::StatsUnavailable => "stats_unavailable",
        }
    }

    /// Its message, as pydantic words it, for kinds whose message is fixed;
    /// `None` for those whose message depends on the case.
    pub const fn message(self) -> Option<&'static str> {
        Some(match self {
            Kind::Missing => "Field required",
            Kind::ExtraForbidden => "Extra inputs are not permitted",
            Kind::StringType => "Input should be a valid string",
            Kind::DictType => "Input should be a valid dictionary",
            Kind::ListType => "Input should be a valid list",
            Kind::BoolType => "Input should be a valid boolean",
            Kind::BoolParsing => "Input should be a valid boolean, unable to interpret input",
            Kind::IntType => "Input should be a valid integer",
            Kind::IntParsing => "Input should be a valid integer, unable to parse string as an integer",
            Kind::IntFromFloat => "Input should be a valid integer, got a number with a fractional part",
            Kind::IntParsingSize => "Unable to parse input string as an integer, exceeded maximum size",
            Kind::FiniteNumber => "Input should be a finite number",
            Kind::GreaterThanEqual => "Input should be greater than or equal to 1",
            Kind::FloatType => "Input should be a valid number",
            Kind::FloatParsing => "Input should be a valid number, unable to parse string as a number",
            Kind::DatetimeType => "Input should be a valid datetime",
            Kind::StreamFinished => "No more data can be pushed after finish",
            Kind::InvalidRequest => "Usage aggregation limit must be positive",
            Kind::NotForStats => "This UsageAccumulator was not made for stats: make it with new UsageAccumulator({ stats: true })",
            Kind::StatsUnavailable => {
                "Stats are not in this entry: import usageStats, usageStatsFromJson and UsageAccumulator from 'weave-usage/stats'"
            }
            Kind::ValueError
            | Kind::ModelType
            | Kind::LiteralError
            | Kind::DatetimeParsing
            | Kind::DatetimeFromDateParsing
            | Kind::JsonInvalid
            | Kind::NotSupported
            | Kind::JsonType
            | Kind::BytesType
            | Kind::PayloadTooLarge
            | Kind::RequestTooLarge
            | Kind::ResponseTooLarge => return None,
        })
    }

    /// The same as [`Kind::name`].
    pub const fn as_str(self) -> &'static str {
        self.name()
    }
}

impl PartialEq<&str> for Kind {
    fn eq(&self, other: &&str) -> bool {
        self.name() == *other
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One entry of `detail`, as pydantic reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detail {
    pub loc: Vec<Loc>,
    pub msg: String,
    /// `type` in JSON.
    pub kind: Kind,
}

impl Detail {
    /// An entry whose message depends on the case.
    pub fn new(loc: Vec<Loc>, kind: Kind, msg: impl Into<String>) -> Detail {
        Detail { loc, msg: msg.into(), kind }
    }

    /// An entry of a kind whose message is fixed ([`Kind::message`]).
    pub fn of(loc: Vec<Loc>, kind: Kind) -> Detail {
        debug_assert!(kind.message().is_some(), "{kind} has no fixed message");
        Detail { loc, msg: kind.message().unwrap_or_default().to_string(), kind }
    }
}

/// Everything that can go wrong, in the shape the reference answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError {
    /// 422 for a request or call that fails validation, 400 for a body that
    /// is not JSON, 413 for an input too large for memory, 500 for an
    /// answer too large to build or to hand to JavaScript.
    pub status: u16,
    pub detail: Vec<Detail>,
}

pub type Result<T> = std::result::Result<T, UsageError>;

impl UsageError {
    /// 422 Unprocessable Entity with the given entries.
    pub fn unprocessable(detail: Vec<Detail>) -> UsageError {
        UsageError { status: 422, detail }
    }

    /// 422 with a single entry.
    pub fn invalid(loc: Vec<Loc>, kind: Kind, msg: impl Into<String>) -> UsageError {
        UsageError::unprocessable(vec![Detail::new(loc, kind, msg)])
    }

    /// 422 with a single entry of a kind whose message is fixed.
    pub fn invalid_as(loc: Vec<Loc>, kind: Kind) -> UsageError {
        UsageError::unprocessable(vec![Detail::of(loc, kind)])
    }

    /// 400 Bad Request for an unparsable body. `offset` is the byte offset of
    /// the problem, which is also the `loc` (after `"body"`), as FastAPI
    /// reports JSON decode errors.
    pub fn bad_json(offset: usize, msg: impl Into<String>) -> UsageError {
        UsageError { status: 400, detail: vec![Detail::new(vec!["body".into(), offset.into()], Kind::JsonInvalid, msg)] }
    }

    /// 413 Content Too Large: an input (`kind` `payload_too_large` for the
    /// calls, `request_too_large` for the request or options) needs more
    /// memory than is left.
    pub fn too_large(loc: Vec<Loc>, kind: Kind, msg: impl Into<String>) -> UsageError {
        debug_assert!(matches!(kind, Kind::PayloadTooLarge | Kind::RequestTooLarge));
        UsageError { status: 413, detail: vec![Detail::new(loc, kind, msg)] }
    }

    /// 500: the answer is too large for one JavaScript string, or for the
    /// memory left.
    pub fn response_too_large(msg: impl Into<String>) -> UsageError {
        UsageError { status: 500, detail: vec![Detail::new(vec!["response".into()], Kind::ResponseTooLarge, msg)] }
    }
}

/// Weave 0.53.12's messages for its `limit` rule (`options.limit:
/// "per-batch"`), as its `calls_usage` method words them.
impl UsageError {
    /// 400: `limit` below 1 (the server's `InvalidRequest`).
    pub fn limit_not_positive() -> UsageError {
        UsageError { status: 400, detail: vec![Detail::of(vec!["body".into(), "limit".into()], Kind::InvalidRequest)] }
    }

    /// 413: a requested trace has more live calls than `limit` (the
    /// server's `RequestTooLarge`).
    pub fn single_trace_over_limit(limit: u64) -> UsageError {
        UsageError::too_large(
            vec!["body".into(), "limit".into()],
            Kind::RequestTooLarge,
            format!("Cannot compute complete usage: a single trace exceeds the {limit}-call aggregation limit. Increase limit and retry."),
        )
    }
}

impl fmt::Display for UsageError {
    /// `422: body.limit: Input should be a valid integer; …` — the thrown
    /// `Error`'s `message`, readable without looking at `detail`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.status)?;
        for (i, d) in self.detail.iter().enumerate() {
            f.write_str(if i == 0 { ": " } else { "; " })?;
            for (j, l) in d.loc.iter().enumerate() {
                if j > 0 {
                    f.write_str(".")?;
                }
                match l {
                    Loc::Key(k) => f.write_str(k)?,
                    Loc::Index(n) => write!(f, "{n}")?,
                }
            }
            write!(f, ": {}", d.msg)?;
        }
        Ok(())
    }
}

impl std::error::Error for UsageError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_lists_every_entry() {
        let e = UsageError::unprocessable(vec![
            Detail::of(vec!["body".into(), "project_id".into()], Kind::Missing),
            Detail::of(vec!["body".into(), "call_ids".into(), 2.into()], Kind::StringType),
        ]);
        assert_eq!(e.to_string(), "422: body.project_id: Field required; body.call_ids.2: Input should be a valid string");
    }
}
