//! Reading only the calls a `/calls/usage` request can reach
//! ([`CallStream::for_calls`](super::CallStream::for_calls)): the others are
//! checked as every call is, but none of their strings is interned and none
//! of their usage is read.
//!
//! A call counts for a request only through its trace (one of the requested
//! calls' traces) or its id (another copy of a call of such a trace, which
//! may replace it or be counted as its duplicate). The table's strings hold
//! the requested ids from the start, and every id and trace id of the calls
//! read in full. So a call is read in full when its trace id or id is one
//! of the table's strings; any other is passed over, the hashes of its id
//! and trace id noted. The table then holds every call that can count,
//! unless a string became the table's after a call holding it was passed
//! over: [`Wanted::complete`] tells, and when it is not, the body is read
//! again in full (`api::read_for`). A string that is the table's for
//! another reason (a parent id, a model name) only makes more calls read
//! in full. Which calls count is still decided by the usage stage: reading
//! a call that turns out not to count changes nothing.
//!
//! A shard of a body (weave-usage/parallel) is read the same way
//! ([`Wanted::from_middle`]); whether it passed over a call that other
//! shards show to count, [`Wanted::passed_none_of`] tells, and if so the
//! shard is read again in full (docs/parallel.md).

use super::interner::Interner;
use crate::json::same;
use crate::limits::{reserve, Exhausted};

#[derive(Default)]
pub(super) struct Wanted {
    /// The hashes (the table's `hash64`) of the ids and trace ids of the
    /// calls passed over; a trace id once for a run of calls that share it.
    passed: Vec<u64>,
    /// The trace id last looked at and its hash: calls of a trace come
    /// together, so most trace ids are hashed once.
    last_trace: Vec<u8>,
    last_hash: Option<u64>,
    /// The hash of the trace id last noted in `passed`.
    last_passed: Option<u64>,
    /// Read the next call in full whatever it holds (see [`Wanted::from_middle`]).
    first: bool,
}

/// The hashes of a call's id and trace id, for [`Wanted::pass`].
#[derive(Clone, Copy)]
pub(super) struct Hashes {
    id: u64,
    trace: u64,
}

impl Wanted {
    /// For a body read from its middle (a shard of one): the first call is
    /// read in full too, so that the rest of its trace, which may have begun
    /// before, is read in full rather than passed over (calls of a trace
    /// come together).
    pub(super) fn from_middle() -> Wanted {
        Wanted { first: true, ..Wanted::default() }
    }

    /// `None` if a call with this id and trace id is to be read in full
    /// (`strings`: the table's); else their hashes, to [`Wanted::pass`] it.
    pub(super) fn reaches(&mut self, strings: &Interner, id: &[u8], trace: &[u8]) -> Option<Hashes> {
        if self.first {
            self.first = false;
            return None;
        }
        let trace_hash = match self.last_hash {
            Some(h) if same(&self.last_trace, trace) => h,
            _ => {
                let h = strings.hash64(trace);
                self.last_trace.clear();
                self.last_trace.extend_from_slice(trace);
                self.last_hash = Some(h);
                h
            }
        };
        if strings.lookup_hashed(trace_hash, trace).is_some() {
            return None;
        }
        let id_hash = strings.hash64(id);
        match strings.lookup_hashed(id_hash, id) {
            Some(_) => None,
            None => Some(Hashes { id: id_hash, trace: trace_hash }),
        }
    }

    /// Notes a call passed over, by the hashes [`Wanted::reaches`] gave.
    pub(super) fn pass(&mut self, hashes: Hashes) -> Result<(), Exhausted> {
        reserve(&mut self.passed, 2)?;
        self.passed.push(hashes.id);
        if self.last_passed != Some(hashes.trace) {
            self.passed.push(hashes.trace);
            self.last_passed = Some(hashes.trace);
        }
        Ok(())
    }

    /// Whether every call that can count was read in full: no call passed
    /// over holds a string the table (`strings`) has now. Hashes stand for
    /// the strings: 64 bits, keyed, so two strings that share one only cost
    /// a second reading.
    pub(super) fn complete(&self, strings: &Interner) -> bool {
        !self.passed.iter().any(|&h| strings.holds_hash(h))
    }

    /// Whether no call passed over holds one of `held` (as its id or trace
    /// id), by their hashes as [`Wanted::complete`] checks (`strings` hashes
    /// them): they are interned apart, under the same keys, and each hash
    /// passed over looked for among them.
    pub(super) fn passed_none_of<'s>(&self, strings: &Interner, held: impl Iterator<Item = &'s str>) -> Result<bool, Exhausted> {
        let mut those = strings.same_keys();
        for s in held {
            those.intern(s.as_bytes())?;
        }
        Ok(!self.passed.iter().any(|&h| those.holds_hash(h)))
    }

    /// Bytes held, roughly: for reporting memory use.
    pub(super) fn heap_bytes(&self) -> usize {
        self.passed.capacity() * std::mem::size_of::<u64>() + self.last_trace.capacity()
    }
}
