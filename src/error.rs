//! The crate's one error type: an HTTP-style status with a FastAPI
//! `HTTPValidationError` body (`detail: [{loc, msg, type}]`). The JS boundary
//! turns it into a thrown `Error` in exactly one place (`wasm.rs`).

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

/// One entry of `detail`, as pydantic reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detail {
    pub loc: Vec<Loc>,
    pub msg: String,
    /// `type` in JSON.
    pub kind: String,
}

impl Detail {
    pub fn new(loc: Vec<Loc>, kind: &str, msg: impl Into<String>) -> Detail {
        Detail { loc, msg: msg.into(), kind: kind.to_string() }
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
    pub fn invalid(loc: Vec<Loc>, kind: &str, msg: impl Into<String>) -> UsageError {
        UsageError::unprocessable(vec![Detail::new(loc, kind, msg)])
    }

    /// 400 Bad Request for an unparsable body. `offset` is the byte offset of
    /// the problem, which is also the `loc` (after `"body"`), as FastAPI
    /// reports JSON decode errors.
    pub fn bad_json(offset: usize, msg: impl Into<String>) -> UsageError {
        UsageError { status: 400, detail: vec![Detail::new(vec!["body".into(), offset.into()], "json_invalid", msg)] }
    }

    /// 413 Content Too Large: an input (`kind` `payload_too_large` for the
    /// calls, `request_too_large` for the request or options) needs more
    /// memory than is left.
    pub fn too_large(loc: Vec<Loc>, kind: &str, msg: impl Into<String>) -> UsageError {
        UsageError { status: 413, detail: vec![Detail::new(loc, kind, msg)] }
    }

    /// 500: the answer is too large for one JavaScript string, or for the
    /// memory left.
    pub fn response_too_large(msg: impl Into<String>) -> UsageError {
        UsageError { status: 500, detail: vec![Detail::new(vec!["response".into()], "response_too_large", msg)] }
    }
}

/// Weave 0.53.12's messages for its `limit` rule (`options.limit:
/// "per-batch"`), as its `calls_usage` method words them.
impl UsageError {
    /// 400: `limit` below 1 (the server's `InvalidRequest`).
    pub fn limit_not_positive() -> UsageError {
        UsageError {
            status: 400,
            detail: vec![Detail::new(vec!["body".into(), "limit".into()], "invalid_request", "Usage aggregation limit must be positive")],
        }
    }

    /// 413: a requested trace has more live calls than `limit` (the
    /// server's `RequestTooLarge`).
    pub fn single_trace_over_limit(limit: u64) -> UsageError {
        UsageError::too_large(
            vec!["body".into(), "limit".into()],
            "request_too_large",
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
            Detail::new(vec!["body".into(), "project_id".into()], "missing", "Field required"),
            Detail::new(vec!["body".into(), "call_ids".into(), 2.into()], "string_type", "Input should be a valid string"),
        ]);
        assert_eq!(e.to_string(), "422: body.project_id: Field required; body.call_ids.2: Input should be a valid string");
    }
}
