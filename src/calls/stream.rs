//! Reading a calls body from chunks split anywhere (mid-line, mid-string,
//! mid-UTF-8 sequence): the engine behind both `callsUsageFromJson` (one
//! chunk, or the boundary's slices of a big one) and `UsageAccumulator`.
//!
//! Whole values are read straight from each chunk; only the value that a
//! chunk cuts in two is kept, and the next chunk is appended to it. A value
//! still incomplete is retried only once the buffer has doubled, so a huge
//! value arriving in small chunks costs linear time, not quadratic.
//!
//! Framing: a UTF-8 byte order mark is skipped; if the first non-blank byte
//! is `[`, the body is one JSON array of calls; otherwise JSON Lines, where
//! each value ends its line (blank lines and CRLF are fine, and a value may
//! span lines). Errors name the line, the column and the byte offset.

use super::{CallTable, ReadError, Wanted};
use crate::error::{Kind, UsageError};
use crate::json::{Failure, Lines, Parser, Stop};
use crate::limits::{reserve, room};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Bytes of a new chunk appended at a time to a value the last one cut.
const STEP: usize = 64 << 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Nothing but white space (or a BOM) so far.
    Start,
    /// JSON Lines; `line_break`: a value was read and its line must end.
    Lines { line_break: bool },
    /// Inside the top-level array; `first`: no element read yet.
    Array { first: bool },
    /// After the array's `]`: only white space may follow.
    ArrayDone,
}

/// Reads calls from chunks into a [`CallTable`].
pub struct CallStream {
    table: CallTable,
    /// The start of a value that the last chunk cut.
    pending: Vec<u8>,
    /// Absolute offset of `pending[0]` (of the next byte when empty).
    offset: u64,
    lines: Lines,
    state: State,
    /// Index of the next call, for error locations.
    index: usize,
    /// Retry `pending` once it is at least this long.
    retry_at: usize,
    /// The first error; every later push or finish repeats it.
    failed: Option<UsageError>,
    finished: bool,
}

impl Default for CallStream {
    fn default() -> Self {
        CallStream::new()
    }
}

impl CallStream {
    pub fn new() -> CallStream {
        CallStream::reading(false)
    }

    /// A stream of the objects path's text, where a checked call may come in
    /// its compact form (`wire`).
    pub fn with_compact_calls() -> CallStream {
        CallStream::reading(true)
    }

    /// A stream whose table also reads the fields stats need
    /// ([`STATS_FIELDS`](super::wire::STATS_FIELDS)); `objects_path` as for
    /// [`with_compact_calls`](Self::with_compact_calls).
    pub fn for_stats(objects_path: bool) -> CallStream {
        CallStream::with_table(CallTable::reading(objects_path, true))
    }

    /// A stream for one `/calls/usage` request naming `call_ids`: it reads in
    /// full only the calls the request can reach, and passes over the
    /// others. Its table answers that request as a table of every call does
    /// if [`CallTable::complete`] says so once the stream is finished; if not,
    /// a call passed over may count, and the body must be read again by a
    /// [`CallStream::new`].
    pub fn for_calls(call_ids: &[String]) -> Result<CallStream, UsageError> {
        CallStream::wanting(call_ids, Wanted::default())
    }

    /// [`for_calls`](Self::for_calls) for a part of a body cut between calls
    /// (a shard): its first call is read in full too, whose trace may have
    /// begun in the part before. Which other calls it passed over that the
    /// request can reach, only the other parts can tell
    /// ([`CallTable::read_all_of`]).
    pub fn for_calls_from_middle(call_ids: &[String]) -> Result<CallStream, UsageError> {
        CallStream::wanting(call_ids, Wanted::from_middle())
    }

    fn wanting(call_ids: &[String], wanted: Wanted) -> Result<CallStream, UsageError> {
        let mut table = CallTable::new(false);
        for id in call_ids {
            table.strings.intern(id.as_bytes()).map_err(|e| table.too_large(e))?;
        }
        table.wanted = Some(Box::new(wanted));
        Ok(CallStream::with_table(table))
    }

    /// A finished stream holding `table` (say, calls imported from parts):
    /// it answers as one that read those calls does, and takes no more input.
    pub fn finished_with(table: CallTable) -> CallStream {
        let calls = table.calls().len();
        let mut stream = CallStream::with_table(table);
        stream.index = calls;
        stream.finished = true;
        stream
    }

    fn reading(objects_path: bool) -> CallStream {
        CallStream::with_table(CallTable::new(objects_path))
    }

    fn with_table(table: CallTable) -> CallStream {
        CallStream {
            table,
            pending: Vec::new(),
            offset: 0,
            lines: Lines::default(),
            state: State::Start,
            index: 0,
            retry_at: 0,
            failed: None,
            finished: false,
        }
    }

    /// Reads what `chunk` completes. Fails on the first malformed call or bad
    /// JSON, and from then on.
    pub fn push(&mut self, mut chunk: &[u8]) -> Result<(), UsageError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.finished {
            return Err(UsageError::invalid_as(vec!["body".into()], Kind::StreamFinished));
        }
        loop {
            if self.pending.is_empty() {
                let used = self.read(chunk, false)?;
                debug_assert!(used <= chunk.len(), "read no more than it was given");
                return self.keep(chunk.get(used..).unwrap_or_default());
            }
            // Complete the cut value with as little of the chunk as will do,
            // rather than copying the whole chunk after it.
            let want = self.retry_at.saturating_sub(self.pending.len()).max(STEP);
            let (head, rest) = chunk.split_at(want.min(chunk.len()));
            self.make_room(head.len())?;
            self.pending.extend_from_slice(head);
            if self.pending.len() < self.retry_at {
                return Ok(()); // The chunk ran out: wait for more.
            }
            let buf = std::mem::take(&mut self.pending);
            let used = self.read(&buf, false)?;
            debug_assert!(used <= buf.len(), "read no more than it was given");
            let left = buf.len() - used;
            if left <= head.len() {
                // Past the cut value: read on from the chunk itself.
                chunk = chunk.get(head.len() - left..).unwrap_or_default();
                self.pending = buf;
                self.pending.clear();
                self.retry_at = 0;
            } else {
                // Still incomplete: keep it, and take more of the chunk.
                self.keep(buf.get(used..).unwrap_or_default())?;
                chunk = rest;
                if chunk.is_empty() {
                    return Ok(());
                }
            }
        }
    }

    /// Reads whatever is left as the end of the input and returns the table.
    /// May be called again (the table stays); `push` may not.
    pub fn finish(&mut self) -> Result<&CallTable, UsageError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if !self.finished {
            let buf = std::mem::take(&mut self.pending);
            self.read(&buf, true)?;
            if matches!(self.state, State::Array { .. }) {
                // `read` consumed all of `buf` and moved `offset` past it.
                let end = self.offset;
                let f = Failure { offset: buf.len(), what: "unexpected end of input" };
                return Err(self.fail(bad_json(f, self.lines, end)));
            }
            self.finished = true;
        }
        Ok(&self.table)
    }

    /// The calls read so far (the fuzz and property harnesses inspect it).
    pub fn table(&self) -> &CallTable {
        &self.table
    }

    /// How many calls have been read.
    pub fn calls(&self) -> usize {
        self.index
    }

    /// Input bytes consumed so far (not counting a value still incomplete).
    pub fn bytes_read(&self) -> u64 {
        self.offset
    }

    fn keep(&mut self, rest: &[u8]) -> Result<(), UsageError> {
        self.pending.clear();
        self.make_room(rest.len())?;
        self.pending.extend_from_slice(rest);
        self.retry_at = rest.len().saturating_mul(2);
        Ok(())
    }

    /// Room in `pending` for `n` more bytes, reserved fallibly, and room
    /// beyond it for a copy of the value it holds (its strings, unescaped).
    fn make_room(&mut self, n: usize) -> Result<(), UsageError> {
        let before = self.pending.capacity();
        let grown =
            reserve(&mut self.pending, n)
                .and_then(|()| if self.pending.capacity() == before { Ok(()) } else { room(self.pending.capacity()) });
        grown.map_err(|e| {
            let e = self.table.too_large(e);
            self.fail(e)
        })
    }

    /// Reads as many whole steps from `data` as it holds; returns the bytes
    /// used (the rest is an incomplete value, or nothing).
    fn read(&mut self, data: &[u8], last: bool) -> Result<usize, UsageError> {
        let base = self.offset;
        let mut p = Parser::new(data, base, last, self.lines);
        loop {
            let (mark, state) = (p.mark(), self.state);
            match self.step(&mut p) {
                Ok(true) => {}
                Ok(false) => break,
                Err(ReadError::Json(Stop::NeedMore)) => {
                    // Wait for more input: undo this step.
                    p.reset(mark);
                    self.state = state;
                    break;
                }
                Err(ReadError::Json(Stop::Invalid(f))) => {
                    let e = bad_json(f, p.lines(), base + f.offset as u64);
                    return Err(self.fail(e));
                }
                Err(ReadError::Call(e)) => return Err(self.fail(e)),
                Err(ReadError::Memory(e)) => {
                    let e = self.table.too_large(e);
                    return Err(self.fail(e));
                }
            }
        }
        self.lines = p.lines();
        self.offset = base + p.pos() as u64;
        Ok(p.pos())
    }

    /// One step of the framing: false when `p` holds nothing more to read.
    fn step(&mut self, p: &mut Parser<'_>) -> Result<bool, ReadError> {
        match self.state {
            State::Start => {
                if p.at_input_start() {
                    let rest = p.rest();
                    let head = rest.get(..BOM.len().min(rest.len())).unwrap_or_default();
                    // One character: columns count characters.
                    if !p.eat_character(BOM) && !head.is_empty() && BOM.starts_with(head) && !p.is_last() {
                        return Err(ReadError::Json(Stop::NeedMore));
                    }
                }
                p.skip_ws();
                match p.peek() {
                    None => return Ok(false),
                    Some(b'[') => {
                        p.bump();
                        self.state = State::Array { first: true };
                    }
                    Some(_) => self.state = State::Lines { line_break: false },
                }
            }
            State::Lines { line_break: true } => {
                while matches!(p.peek(), Some(b' ' | b'\t' | b'\r')) {
                    p.bump();
                }
                match p.peek() {
                    None => return Ok(false),
                    Some(b'\n') => {
                        p.skip_ws(); // counts the line break
                        self.state = State::Lines { line_break: false };
                    }
                    Some(_) => return Err(ReadError::Json(p.fail("expected a line break after the value"))),
                }
            }
            State::Lines { line_break: false } => {
                p.skip_ws();
                if p.at_end() {
                    return Ok(false);
                }
                self.table.read_call(p, self.index)?;
                self.index += 1;
                self.state = State::Lines { line_break: true };
            }
            State::Array { first } => {
                p.skip_ws();
                match p.peek() {
                    None => return Ok(false),
                    Some(b']') => {
                        p.bump();
                        self.state = State::ArrayDone;
                        return Ok(true);
                    }
                    Some(b',') if !first => p.bump(),
                    Some(_) if first => {}
                    Some(_) => return Err(ReadError::Json(p.fail("expected ',' or ']' after an array element"))),
                }
                self.table.read_call(p, self.index)?;
                self.index += 1;
                self.state = State::Array { first: false };
            }
            State::ArrayDone => {
                p.skip_ws();
                if p.at_end() {
                    return Ok(false);
                }
                return Err(ReadError::Json(p.fail("unexpected content after the array")));
            }
        }
        Ok(true)
    }

    fn fail(&mut self, e: UsageError) -> UsageError {
        self.failed = Some(e.clone());
        e
    }
}

/// The 400 error for a failure at absolute offset `at`, with the line and
/// column spelled out.
fn bad_json(f: Failure, lines: Lines, at: u64) -> UsageError {
    let line = lines.breaks + 1;
    let column = at.saturating_sub(lines.start).saturating_sub(lines.continuation) + 1;
    let offset = usize::try_from(at).unwrap_or(usize::MAX);
    UsageError::bad_json(offset, format!("Invalid JSON at line {line}, column {column} (byte {at}): {}", f.what))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ids read from `chunks`, or the error.
    fn ids(chunks: &[&[u8]]) -> Result<Vec<String>, UsageError> {
        let mut s = CallStream::new();
        for c in chunks {
            s.push(c)?;
        }
        let t = s.finish()?;
        Ok(t.calls.iter().map(|c| t.str(c.id).to_string()).collect())
    }

    fn err(body: &[u8]) -> (u16, String) {
        let e = ids(&[body]).unwrap_err();
        (e.status, e.detail[0].msg.clone())
    }

    const A: &str = r#"{"id":"a","trace_id":"t"}"#;
    const B: &str = r#"{"id":"b","trace_id":"t","inputs":{"x":[1,2,{"y":"é"}]}}"#;

    #[test]
    fn calls_too_large_for_memory_are_a_413_at_the_body_or_the_calls() {
        for (stream, loc) in [(CallStream::new(), "body"), (CallStream::with_compact_calls(), "calls")] {
            let e = stream.table().too_large(crate::limits::Exhausted { bytes: 3 << 20 });
            assert_eq!(
                (e.status, &e.detail[0].loc, e.detail[0].kind.as_str()),
                (413, &vec![crate::error::Loc::from(loc)], "payload_too_large")
            );
            assert!(
                e.detail[0].msg.contains("0 calls read (0 distinct ids and names) take 0 MiB, and 3 MiB more could not be allocated"),
                "{}",
                e.detail[0].msg
            );
        }
    }

    #[test]
    fn json_lines_and_arrays() {
        let want = vec!["a".to_string(), "b".to_string()];
        for body in [
            format!("{A}\n{B}\n"),
            format!("\u{feff}\r\n  {A} \r\n\n\t\n{B}"),
            format!("[{A},\n{B}]"),
            format!(" [ {A} , {B} ] \n"),
            format!("{{\n\"id\":\n\"a\",\"trace_id\":\"t\"}}\n{B}"),
        ] {
            assert_eq!(ids(&[body.as_bytes()]).unwrap(), want, "{body}");
        }
        assert_eq!(ids(&[b" [ ] "]).unwrap(), Vec::<String>::new());
        assert_eq!(ids(&[b""]).unwrap(), Vec::<String>::new());
        assert_eq!(ids(&[b" \n\n "]).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn any_chunking_reads_the_same() {
        let body = format!("\u{feff}{A}\r\n{B}\n\n{A}");
        let bytes = body.as_bytes();
        let whole = ids(&[bytes]).unwrap();
        for size in 1..bytes.len() {
            let chunks: Vec<&[u8]> = bytes.chunks(size).collect();
            assert_eq!(ids(&chunks).unwrap(), whole, "chunks of {size}");
        }
        for cut in 0..=bytes.len() {
            let (x, y) = bytes.split_at(cut);
            assert_eq!(ids(&[x, b"", y]).unwrap(), whole, "cut at {cut}");
        }
        let array = format!("[{A},{B}]");
        let whole = ids(&[array.as_bytes()]).unwrap();
        for cut in 0..=array.len() {
            let (x, y) = array.as_bytes().split_at(cut);
            assert_eq!(ids(&[x, y]).unwrap(), whole, "array cut at {cut}");
        }
    }

    #[test]
    fn a_huge_value_in_tiny_chunks_is_not_rescanned_per_chunk() {
        // 4 MB of inputs in 64-byte chunks: quadratic rescanning would take
        // minutes; doubling retries keep it linear.
        let body = format!(r#"{{"id":"a","trace_id":"t","inputs":"{}"}}"#, "x".repeat(4 << 20));
        let chunks: Vec<&[u8]> = body.as_bytes().chunks(64).collect();
        assert_eq!(ids(&chunks).unwrap(), vec!["a".to_string()]);
    }

    #[test]
    fn errors_name_line_column_and_byte() {
        assert_eq!(
            err(b"{\"id\":\"a\",\"trace_id\":\"t\"}\n{\"id\":}"),
            (400, "Invalid JSON at line 2, column 7 (byte 32): expected a value".into())
        );
        assert_eq!(
            err(b"[{\"id\":\"a\",\"trace_id\":\"t\"},]"),
            (400, "Invalid JSON at line 1, column 28 (byte 27): expected a value".into())
        );
        assert_eq!(err(b"{\"a\":1"), (400, "Invalid JSON at line 1, column 7 (byte 6): expected ',' or '}' after an object member".into()));
        assert_eq!(err(b"{\"a\":\"\xff\"}"), (400, "Invalid JSON at line 1, column 7 (byte 6): invalid UTF-8".into()));
        assert_eq!(err("{\"é\":1,\"a\":}".as_bytes()), (400, "Invalid JSON at line 1, column 12 (byte 12): expected a value".into()));
        assert_eq!(
            err(b"[{\"id\":\"a\",\"trace_id\":\"t\"}"),
            (400, "Invalid JSON at line 1, column 27 (byte 26): unexpected end of input".into())
        );
        assert!(err(b"[] 2").1.contains("unexpected content after the array"));
        assert!(err(format!("{A} {A}").as_bytes()).1.contains("expected a line break"));
        assert!(err(b"{\"x\":\"a\nb\"}").1.contains("control character"));
        assert!(err(b"{\"x\":tru}").1.contains("invalid literal"));
        assert!(err(b"{\"x\":01}").1.contains("expected ',' or '}'"));
        assert!(err(b"{\"x\":{1:2}}").1.contains("expected a string key"));
        assert!(err(b"{\"id\":\"abc").1.contains("unexpected end of input") || err(b"{\"id\":\"abc").1.contains("unterminated"));
        assert!(err(b"NaN").1.contains("expected a value"));
        assert!(err(b"\xEF\xBB").1.contains("expected a value"));
    }

    #[test]
    fn the_error_loc_is_the_byte_offset() {
        let e = ids(&[b"\n\n{"]).unwrap_err();
        assert_eq!(e.detail[0].loc, vec![crate::error::Loc::from("body"), crate::error::Loc::Index(3)]);
        assert_eq!(e.detail[0].kind, "json_invalid");
    }

    #[test]
    fn an_error_is_sticky_and_finish_can_repeat() {
        let mut s = CallStream::new();
        assert!(s.push(b"{\"id\":1}\n").is_err());
        assert!(s.push(A.as_bytes()).is_err());
        assert!(s.finish().is_err());
        let mut s = CallStream::new();
        s.push(A.as_bytes()).unwrap();
        assert_eq!(s.finish().unwrap().calls.len(), 1);
        assert_eq!(s.finish().unwrap().calls.len(), 1);
        assert_eq!(s.push(B.as_bytes()).unwrap_err().detail[0].kind, "stream_finished");
    }

    #[test]
    fn malformed_calls_are_422_at_their_index() {
        let e = ids(&[format!("{A}\n7\n").as_bytes()]).unwrap_err();
        assert_eq!((e.status, e.detail[0].kind.as_str()), (422, "dict_type"));
        assert_eq!(e.detail[0].loc, vec![crate::error::Loc::from("calls"), crate::error::Loc::Index(1)]);
        let e = ids(&[br#"[{"trace_id":5,"parent_id":1,"summary":"x","started_at":[],"ended_at":{},"deleted_at":true,"project_id":2}]"#])
            .unwrap_err();
        let got: Vec<(String, &str)> = e.detail.iter().map(|d| (format!("{:?}", d.loc.get(2)), d.kind.as_str())).collect();
        let field = |f: &str| format!("{:?}", Some(crate::error::Loc::from(f)));
        assert_eq!(
            got,
            vec![
                (field("id"), "missing"),
                (field("trace_id"), "string_type"),
                (field("parent_id"), "string_type"),
                (field("project_id"), "string_type"),
                (field("started_at"), "string_type"),
                (field("ended_at"), "string_type"),
                (field("deleted_at"), "string_type"),
                (field("summary"), "dict_type"),
            ]
        );
    }

    #[test]
    fn usage_is_read_like_the_reference() {
        let body = r#"{"id":"a","trace_id":"t","summary":{"usage":{"m":{"input_tokens":2,"prompt_tokens":" 3 ","output_tokens":true,"junk":{"deep":[1]}},"x":7,"m":{"prompt_tokens":5,"input_tokens":1},"n":{"requests":1}},"weave":{"costs":{"m":{"prompt_tokens_total_cost":"1e-3"},"n":5}}}}"#;
        let mut s = CallStream::new();
        s.push(body.as_bytes()).unwrap();
        let t = s.finish().unwrap();
        let c = t.calls[0];
        let got: Vec<(&str, [i128; 6], [f64; 4])> = t.usage_of(&c).iter().map(|u| (t.str(u.model), u.tokens, u.costs)).collect();
        // "m" keeps its first position and its last value; "x" is not an object.
        assert_eq!(got, vec![("m", [0, 6, 0, 0, 0, 0], [0.001, 0.0, 0.0, 0.0]), ("n", [1, 0, 0, 0, 0, 0], [0.0; 4])]);
    }

    /// The table `body` makes, read as the objects path reads its text.
    fn compact_table(body: &str) -> Result<CallTable, UsageError> {
        let mut s = CallStream::with_compact_calls();
        s.push(body.as_bytes())?;
        s.finish()?;
        Ok(s.table)
    }

    #[test]
    fn a_compact_call_reads_as_the_object_it_stands_for() {
        // Keys in the compact order, so that symbols are interned alike.
        let object = r#"[{"id":"a","trace_id":"t","parent_id":"p","project_id":"x","started_at":"2025-01-01T00:00:00.5+01:00","ended_at":"e","summary":{"usage":{"m":{"requests":1,"prompt_tokens":"2","input_tokens":3,"completion_tokens":true,"total_tokens":[],"cache_read_input_tokens":1.9},"n":7,"o":[1]},"weave":{"costs":{"m":{"prompt_tokens_total_cost":"1e-3","completion_tokens_total_cost":{}}}}}},
            {"id":"b","trace_id":"t","deleted_at":"d"},{"id":"c","trace_id":"t","summary":{"usage":null}}]"#;
        let compact = r#"[["a","t","p","x","2025-01-01T00:00:00.5+01:00","e",null,{"m":[1,"2",3,true,null,[],1.9,null],"n":7,"o":null},{"m":["1e-3",{},null,null]}],
            ["b","t",null,null,null,null,"d",null,null],["c","t",null,null,null,null,null,null,null]]"#;
        let (want, got) = (compact_table(object).unwrap(), compact_table(compact).unwrap());
        assert_eq!(got.calls, want.calls);
        assert_eq!(got.usage, want.usage);
        assert_eq!(got.unreadable, want.unreadable);
        assert_eq!(got.unreadable.len(), 2, "the [] counter and the {{}} cost are unreadable in both");
        assert_eq!(got.usage_of(&got.calls[0]).len(), 1, "\"n\" and \"o\" are no entries");
    }

    #[test]
    fn compact_calls_only_where_the_objects_path_writes_them() {
        let compact = r#"[["a","t",null,null,null,null,null,{"m":[1,2,0,0,0,0,0,0]},null]]"#;
        // In a body an array is no call.
        let e = ids(&[compact.as_bytes()]).unwrap_err();
        assert_eq!((e.status, e.detail[0].kind.as_str()), (422, "dict_type"));
        // An entry as a list only inside a compact call: in an object it is no entry.
        let t = compact_table(r#"[{"id":"a","trace_id":"t","summary":{"usage":{"m":[1,2,0,0,0,0,0,0]}}}]"#).unwrap();
        assert!(t.usage.is_empty());
        let t = compact_table(compact).unwrap();
        assert_eq!(t.usage.first().map(|u| u.tokens), Some([1, 2, 0, 0, 0, 0]));
        // A compact call is checked like any other.
        let Err(e) = compact_table(r#"[[5,"t",null,null,null,null,null,null,null]]"#) else { panic!("a number id") };
        assert_eq!(
            (e.status, e.detail[0].kind.as_str(), format!("{:?}", e.detail[0].loc)),
            (
                422,
                "string_type",
                format!("{:?}", vec![crate::error::Loc::from("calls"), crate::error::Loc::Index(0), crate::error::Loc::from("id")])
            )
        );
        // One that is not as the objects path writes it is bad JSON to it.
        for bad in [
            r#"[["a","t"]]"#,
            r#"[["a","t",null,null,null,null,null,null,null,null]]"#,
            r#"[["a","t",null,null,null,null,null,{"m":[1]},null]]"#,
        ] {
            let Err(e) = compact_table(bad) else { panic!("{bad} was read") };
            assert_eq!(e.status, 400, "{bad}");
            assert!(e.detail[0].msg.contains("expected a compact call"), "{bad}: {}", e.detail[0].msg);
        }
    }

    /// The stats fields of each call `body` makes, read by a stats table.
    fn stats_of(body: &str, compact: bool) -> Result<Vec<(String, String, String, bool)>, UsageError> {
        let mut s = CallStream::for_stats(compact);
        s.push(body.as_bytes())?;
        let t = s.finish()?;
        let name = |sym| if sym == crate::calls::NONE { String::from("-") } else { t.str(sym).to_string() };
        Ok(t.stats().unwrap().iter().map(|r| (name(r.op), name(r.user), name(r.thread), r.error)).collect())
    }

    #[test]
    fn only_a_stats_table_reads_the_stats_fields() {
        let object = r#"[{"id":"a","trace_id":"t","op_name":"weave:///e/p/op/f:1","wb_user_id":"u","thread_id":"th","exception":"boom"},
            {"id":"b","trace_id":"t","op_name":null,"exception":null},{"id":"c","trace_id":"t","exception":{"x":1}}]"#;
        let compact = r#"[["a","t",null,null,null,null,null,null,null,"weave:///e/p/op/f:1","u","th",1],
            ["b","t",null,null,null,null,null,null,null,null,null,null,null],["c","t",null,null,null,null,null,null,null,null,null,null,1]]"#;
        let want = vec![
            ("weave:///e/p/op/f:1".to_string(), "u".to_string(), "th".to_string(), true),
            ("-".into(), "-".into(), "-".into(), false),
            ("-".into(), "-".into(), "-".into(), true),
        ];
        assert_eq!(stats_of(object, false).unwrap(), want);
        assert_eq!(stats_of(object, true).unwrap(), want);
        assert_eq!(stats_of(compact, true).unwrap(), want);
        // Another table neither reads nor checks them, nor keeps anything for them.
        let odd = r#"{"id":"a","trace_id":"t","op_name":5,"thread_id":[],"wb_user_id":{}}"#;
        let mut s = CallStream::new();
        s.push(odd.as_bytes()).unwrap();
        assert!(s.finish().unwrap().stats().is_none());
        // A stats table checks them, after the others, in this order.
        let e = stats_of(&format!("{odd}\n"), false).unwrap_err();
        let got: Vec<String> = e.detail.iter().map(|d| format!("{:?} {}", d.loc.get(2), d.kind)).collect();
        let field = |f: &str| format!("{:?} string_type", Some(crate::error::Loc::from(f)));
        assert_eq!(got, vec![field("op_name"), field("wb_user_id"), field("thread_id")]);
        // A stats table's compact call has them: one without is not as written.
        let e = stats_of(r#"[["a","t",null,null,null,null,null,null,null]]"#, true).unwrap_err();
        assert_eq!(e.status, 400);
    }

    #[test]
    fn a_compact_call_may_name_an_earlier_call_for_its_trace_parent_and_project() {
        let written = r#"[["a","t",null,"x",null,null,null,null,null],["b","u","a",null,null,null,null,null,null],
            ["c","t","b","x",null,null,null,null,null],["d","u","zz","x",null,null,null,null,null]]"#;
        let named = r#"[["a","t",null,"x",null,null,null,null,null],["b","u","a",null,null,null,null,null,null],
            ["c",0,1,0,null,null,null,null,null],["d",1,"zz",2,null,null,null,null,null]]"#;
        let (want, got) = (compact_table(written).unwrap(), compact_table(named).unwrap());
        assert_eq!(got.calls, want.calls);
        assert_eq!(got.symbols(), want.symbols());
        // Only an earlier call with such a string: not itself, not a later
        // one, not one whose project is null, not a number that is no index.
        for bad in [
            r#"[["a",0,null,null,null,null,null,null,null]]"#,
            r#"[["a","t",1,null,null,null,null,null,null],["b","t",null,null,null,null,null,null,null]]"#,
            r#"[["a","t",null,null,null,null,null,null,null],["b","t",null,0,null,null,null,null,null]]"#,
            r#"[["a","t",null,null,null,null,null,null,null],["b","t",0.0,null,null,null,null,null,null]]"#,
            r#"[["a","t",null,null,null,null,null,null,null],["b","t",1e0,null,null,null,null,null,null]]"#,
            r#"[["a","t",null,null,null,null,null,null,null],["b","t",99999999999999999999999,null,null,null,null,null,null]]"#,
        ] {
            let Err(e) = compact_table(bad) else { panic!("{bad} was read") };
            assert_eq!(e.status, 400, "{bad}");
            assert!(e.detail[0].msg.contains("expected a compact call"), "{bad}: {}", e.detail[0].msg);
        }
        // A negative number is no index: a parent id of the wrong type.
        let Err(e) = compact_table(r#"[["a","t",null,null,null,null,null,null,null],["b","t",-1,null,null,null,null,null,null]]"#) else {
            panic!("-1 was read")
        };
        assert_eq!((e.status, e.detail[0].kind.as_str()), (422, "string_type"));
        // Never so in an object.
        let Err(e) = compact_table(r#"[["a","t",null,null,null,null,null,null,null],{"id":"b","trace_id":0}]"#) else {
            panic!("an object's 0")
        };
        assert_eq!((e.status, e.detail[0].kind.as_str()), (422, "string_type"));
    }
}
