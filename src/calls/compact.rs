//! Reading a call in the compact form the objects path writes for calls
//! it has checked (the layout: `wire`). Its fields end in the same
//! [`Fields`] as an object's, checked and stored by `read`.

use super::read::{flag_field, instant_field, presence_field, Field, Fields, Map, ReadError, Recent, COMPACT};
use super::{CallRec, CallTable, Sym, NONE};
use crate::json::Parser;

impl CallTable {
    /// A call's fields from its compact form (after its `[`). Absent and
    /// null fields mean the same here.
    pub(super) fn compact_fields(&mut self, p: &mut Parser<'_>) -> Result<Fields, ReadError> {
        let id = self.text_field(p, Recent::None)?;
        p.expect(b',', COMPACT)?;
        let trace = self.text_or_earlier(p, Recent::Trace, |c| c.trace)?;
        p.expect(b',', COMPACT)?;
        let parent = self.text_or_earlier(p, Recent::Parent, |c| c.id)?;
        p.expect(b',', COMPACT)?;
        let project = self.text_or_earlier(p, Recent::Project, |c| c.project)?;
        p.expect(b',', COMPACT)?;
        let started = instant_field(p)?;
        p.expect(b',', COMPACT)?;
        let ended = flag_field(p)?;
        p.expect(b',', COMPACT)?;
        let deleted = flag_field(p)?;
        p.expect(b',', COMPACT)?;
        self.read_map(p, Map::Usage, true)?;
        p.expect(b',', COMPACT)?;
        self.read_map(p, Map::Costs, true)?;
        let mut f = Fields { id, trace, parent, project, started, ended, deleted, ..Fields::default() };
        if self.stats().is_some() {
            // A stats table's compact calls carry its fields after the costs.
            p.expect(b',', COMPACT)?;
            f.op = self.text_field(p, Recent::Op)?;
            p.expect(b',', COMPACT)?;
            f.user = self.text_field(p, Recent::User)?;
            p.expect(b',', COMPACT)?;
            f.thread = self.text_field(p, Recent::Thread)?;
            p.expect(b',', COMPACT)?;
            // `1` or null, as js/pick.js writes it.
            f.exception = presence_field(p)?;
        }
        p.expect(b']', COMPACT)?;
        Ok(f)
    }

    /// A compact call's trace id, parent id or project id: as
    /// [`text_field`](Self::text_field) reads it, or the index of an earlier
    /// call of the same text whose trace id, id or project id (`of`) is that
    /// string: the objects path writes each of those strings once.
    fn text_or_earlier(&mut self, p: &mut Parser<'_>, recent: Recent, of: fn(&CallRec) -> Sym) -> Result<Field<Sym>, ReadError> {
        p.skip_ws();
        if !p.peek().is_some_and(|c| c.is_ascii_digit()) {
            return self.text_field(p, recent);
        }
        let at = p.pos();
        let (raw, integer) = p.scan_number()?;
        let index = if integer { std::str::from_utf8(raw).ok().and_then(|k| k.parse::<usize>().ok()) } else { None };
        match index.and_then(|k| self.calls.get(k)).map(of) {
            Some(sym) if sym != NONE => Ok(Field::Value(sym)),
            _ => Err(p.fail_at(at, COMPACT).into()),
        }
    }
}
