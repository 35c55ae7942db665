"""Generates tests/fixtures/limit-batches/*.json: what Weave 0.53.12's
`/calls/usage` answers (its `limit` rule: whole traces in batches of at most
`limit` calls, never a partial answer), next to what 0.53.0 answers for the
same request over the same calls. For tests/js/limit-batches.test.mjs and
tests/limit_batches.rs; the rule is written out in
tests/fixtures/limit-batches/README.md.

How: each version's own in-memory trace server (`InMemoryTraceServer`, which
in 0.53.12 answers `calls_usage` with the shared method module
`weave/trace_server/methods/calls_usage.py`, the one the ClickHouse server
uses too) is given the calls and asked. This script is the orchestrator (plain
Python, no weave needed); it runs itself with `--worker` inside each
version's venv, passing JSON on stdin and reading JSON from stdout:

1. synthetic forests (`acme/lab`, `acme/other`, made here from a seeded
   generator) are inserted into a 0.53.12 server with `call_start` /
   `call_end`, and each call's `/calls/stream_query` form (every column,
   `include_costs: true`) is read back: that is the fixture's `calls`. Calls
   are then marked deleted (`deleted_at` set; they are read before), given an
   earlier duplicate (read before the later copy replaced it), written with
   other UTC offsets (same instant) and shuffled, as in the conformance
   fixtures;
2. the real-client corpus (tests/fixtures/client/*.json, referenced by
   `calls_from`, not copied) is used as it is (inserted with each op ref
   shortened to the op's name, which the rollup never reads: the corpus was
   logged through the adapter for external project ids, and its refs are
   not ones the bare in-memory server can read back);
3. every fixture's `calls` are inserted, in body order, into a fresh 0.53.12
   server and a fresh 0.53.0 server (same insertion code; a deleted call's
   record gets its `deleted_at`), each server checks that its own stream
   agrees with the body on everything the rollup reads (ids, trace, parent,
   project, start and end instants, `summary.usage`, the four stored cost
   totals), and each answers every request with `calls_usage`. An exception
   is turned into status and body by the version's own error registry
   (`weave.trace_server.errors.handle_server_exception`, which the HTTP
   service uses). The queries `calls_usage` makes are recorded, so each case
   also says which trace batches 0.53.12 tried.

Prices: the servers price calls when queried. Synthetic fixtures use the
rows in `PRICES` below; client-corpus fixtures use the price rows read back
from the corpus' own `summary.weave.costs` entries (each entry is the row that
priced it; a project row's internal project id is mapped back). No default
rows are loaded (the server would stamp them with the current time).

Determinism: seeded generators, a fixed clock for the calls, PYTHONHASHSEED=0
in the workers, sorted output. Two runs write byte-identical files.

Pinned (the venvs the committed files were made with; Python 3.11.7):
    0.53.12: weave==0.53.12 pydantic==2.14.4 clickhouse-connect==1.12.0
             litellm==1.110.2 gql==4.4.0 redis ddtrace sqlparse confluent-kafka
             emoji boto3 azure-storage-blob azure-identity google-cloud-storage numpy
    0.53.0:  the client corpus' venv (tests/gen/client_corpus.py's docstring):
             weave==0.53.0 pydantic==2.14.4 and the same server modules
Neither wheel ships `weave.trace_server.model_providers`, which the server
imports; the worker stubs it (an empty model-to-provider map) before import.

To regenerate (about 40 seconds):
    python3.11 -m venv /tmp/weave-12-venv
    /tmp/weave-12-venv/bin/pip install weave==0.53.12 pydantic==2.14.4 \\
        clickhouse-connect redis ddtrace sqlparse confluent-kafka emoji boto3 \\
        azure-storage-blob azure-identity google-cloud-storage litellm numpy
    # /tmp/weave-venv: as tests/gen/client_corpus.py says
    python3.11 tests/gen/limit_batches_corpus.py
Other venv locations: WEAVE_12_PYTHON=... WEAVE_0_PYTHON=... (interpreters).
"""

from __future__ import annotations

import copy
import datetime as _dt
import json
import os
import pathlib
import random
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve()
ROOT = HERE.parent.parent.parent
OUT = ROOT / "tests" / "fixtures" / "limit-batches"
CLIENT = ROOT / "tests" / "fixtures" / "client"
PY_12 = os.environ.get("WEAVE_12_PYTHON", "/tmp/weave-12-venv/bin/python")
PY_0 = os.environ.get("WEAVE_0_PYTHON", "/tmp/weave-venv/bin/python")
UTC = _dt.timezone.utc
DELETED_AT = "2026-03-03T12:00:00Z"
OPTION = {"limit": "per-batch"}
LAB, OTHER = "acme/lab", "acme/other"

# ====================================================================== worker
# Runs inside a weave venv. Nothing here may depend on the version beyond what
# both 0.53.0 and 0.53.12 have (call_start, call_end, calls_query_stream,
# calls_usage, _llm_token_prices, errors.handle_server_exception).


def worker() -> None:
    import types

    os.environ.update(
        {
            "WEAVE_PRINT_CALL_LINK": "false",
            "WANDB_ERROR_REPORTING": "false",
            "DD_TRACE_ENABLED": "false",
            "DD_ENV": "none",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        }
    )
    pkg = types.ModuleType("weave.trace_server.model_providers")
    pkg.__path__ = []
    providers = types.ModuleType("weave.trace_server.model_providers.model_providers")
    providers.read_model_to_provider_info_map = lambda *a, **k: {}
    providers.VERTEX_PROVIDER_NAMES = ()
    providers.LLMModelProviderInfo = dict
    sys.modules[pkg.__name__] = pkg
    sys.modules[providers.__name__] = providers

    import pydantic
    import weave
    from weave.trace_server import errors
    from weave.trace_server import in_memory_trace_server as ims
    from weave.trace_server import trace_server_interface as tsi

    job = json.load(sys.stdin)

    def when(text):
        return None if text is None else _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))

    def fields(model, values):
        return {k: v for k, v in values.items() if k in model.model_fields}

    def fresh_server(prices):
        server = ims.InMemoryTraceServer()
        server._llm_token_prices.extend(copy.deepcopy(prices))
        return server

    def insert(server, call):
        """One call of a body as the client would have logged it: a start
        and, if it ended, an end carrying its summary (without the fields the
        server derives when read)."""
        start = {**call, "started_at": when(call["started_at"])}
        server.call_start(tsi.CallStartReq(start=tsi.StartedCallSchemaForInsert(**fields(tsi.StartedCallSchemaForInsert, start))))
        if call.get("ended_at") is not None:
            summary = copy.deepcopy(call.get("summary") or {})
            derived = summary.get("weave")
            if isinstance(derived, dict):
                for key in ("status", "trace_name", "latency_ms", "display_name", "costs"):
                    derived.pop(key, None)
                if not derived:
                    del summary["weave"]
            end = {**call, "ended_at": when(call["ended_at"]), "summary": summary}
            end.pop("started_at", None)
            server.call_end(tsi.CallEndReq(end=tsi.EndedCallSchemaForInsert(**fields(tsi.EndedCallSchemaForInsert, end))))

    def stream(server, project):
        req = tsi.CallsQueryReq(project_id=project, include_costs=True)
        return [json.loads(c.model_dump_json()) for c in server.calls_query_stream(req)]

    def read_fields(call):
        """What the rollup reads of a call, comparable across writings."""
        summary = call.get("summary") or {}
        usage = summary.get("usage") or {}
        costs = ((summary.get("weave") or {}).get("costs")) or {}
        keys = ("requests", "prompt_tokens", "input_tokens", "completion_tokens", "output_tokens", "total_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
        totals = ("prompt_tokens_total_cost", "completion_tokens_total_cost", "cache_read_input_tokens_total_cost", "cache_creation_input_tokens_total_cost")
        return {
            "id": call["id"],
            "trace_id": call["trace_id"],
            "parent_id": call.get("parent_id"),
            "project_id": call.get("project_id"),
            "started_at": when(call["started_at"]).astimezone(_dt.timezone.utc).isoformat(),
            "ended_at": None if call.get("ended_at") is None else when(call["ended_at"]).astimezone(_dt.timezone.utc).isoformat(),
            "usage": {m: {k: u.get(k) for k in keys if k in u} for m, u in usage.items() if isinstance(u, dict)},
            "costs": {m: {k: e.get(k) for k in totals} for m, e in costs.items() if isinstance(e, dict)},
        }

    def outcome(run):
        try:
            return {"expected": run().model_dump(mode="json")}
        except Exception as e:  # the server's own error, as its HTTP layer maps it
            handled = errors.handle_server_exception(e)
            return {"expected_error": {"status": handled.status_code, "body": handled.message, "exception": type(e).__name__, "message": str(e)}}

    out = {"weave": weave.__version__, "pydantic": pydantic.VERSION, "python": sys.version.split()[0], "scenarios": []}
    for sc in job["scenarios"]:
        if job["mode"] == "stream":
            # Insert phase by phase; each call's form is read after its phase.
            server = fresh_server(sc["prices"])
            snapshots = []
            for phase in sc["phases"]:
                for call in phase:
                    insert(server, call)
                snapshots.append({p: stream(server, p) for p in sc["projects"]})
            out["scenarios"].append({"name": sc["name"], "snapshots": snapshots})
            continue
        # Answer mode: the body as a browser holds it, in body order.
        server = fresh_server(sc["prices"])
        last: dict = {}
        for call in sc["calls"]:
            insert(server, call)
            last[call["project_id"], call["id"]] = call
        for (project, call_id), call in last.items():
            if call.get("deleted_at") is not None:
                server._calls[project, call_id].deleted_at = when(call["deleted_at"])
        mismatches = []
        for project in sorted({p for p, _ in last}):
            got = [read_fields(c) for c in stream(server, project)]
            want = sorted(
                (read_fields(c) for (p, _), c in last.items() if p == project and c.get("deleted_at") is None),
                key=lambda c: (c["started_at"], c["id"]),
            )
            got_by, want_by = {c["id"]: c for c in got}, {c["id"]: c for c in want}
            for cid in sorted(set(got_by) | set(want_by)):
                if got_by.get(cid) != want_by.get(cid):
                    mismatches.append({"project": project, "id": cid, "server": got_by.get(cid), "body": want_by.get(cid)})
        answers = []
        for request in sc["requests"]:
            log = []
            original = server.calls_query_stream

            def recording(req, original=original, log=log):
                calls = list(original(req))
                f = req.filter
                log.append({"trace_ids": f.trace_ids, "call_ids": f.call_ids, "limit": req.limit, "returned": len(calls)})
                return iter(calls)

            server.calls_query_stream = recording
            try:
                validated = tsi.CallsUsageReq(**request)
                result = outcome(lambda: server.calls_usage(validated))
            finally:
                del server.calls_query_stream
            answers.append({**result, "validated_limit": validated.limit, "queries": log})
        out["scenarios"].append({"name": sc["name"], "mismatches": mismatches, "answers": answers})
    json.dump(out, sys.stdout)


# ================================================================ orchestrator

MODELS = {
    "gpt-4o-2024-08-06": "openai",
    "claude-3-5-haiku-20241022": "anthropic",
    "text-embedding-3-small": "openai",
    "local-llm": None,  # no price row
}


def price_row(i, llm_id, provider, date, prompt, completion, cache_read=0.0, cache_creation=0.0, level="default", level_id="default"):
    return {
        "id": f"price-{i:03d}",
        "pricing_level": level,
        "pricing_level_id": level_id,
        "provider_id": provider,
        "llm_id": llm_id,
        "effective_date": date,
        "prompt_token_cost": prompt,
        "completion_token_cost": completion,
        "cache_read_input_token_cost": cache_read,
        "cache_creation_input_token_cost": cache_creation,
        "prompt_token_cost_unit": "USD",
        "completion_token_cost_unit": "USD",
        "created_by": "system",
        "created_at": date,
    }


PRICES = [
    price_row(1, "gpt-4o-2024-08-06", "openai", "2024-10-01T00:00:00+00:00", 5e-06, 1.5e-05),
    # A cheaper rate that takes effect in the middle of the synthetic runs.
    price_row(2, "gpt-4o-2024-08-06", "openai", "2026-03-02T09:20:00+00:00", 2.5e-06, 1e-05, 1.25e-06),
    price_row(3, "claude-3-5-haiku-20241022", "anthropic", "2024-10-01T00:00:00+00:00", 8e-07, 4e-06, 8e-08, 1e-06),
    price_row(4, "text-embedding-3-small", "openai", "2024-10-01T00:00:00+00:00", 2e-08, 0.0),
    # acme/lab negotiated its own haiku rate.
    price_row(5, "claude-3-5-haiku-20241022", "anthropic", "2025-06-01T00:00:00+00:00", 6e-07, 3e-06, level="project", level_id=LAB),
]


def iso(t: _dt.datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class Forest:
    """Synthetic traces made as Weave's client logs them (children start at or
    after their parent, a parent ends after its children; LLM calls carry
    usage; some traces carry the client's per-parent sums), in one scenario."""

    def __init__(self, name: str, description: str, seed: int, start: _dt.datetime):
        self.name = name
        self.description = description
        self.rng = random.Random(seed)
        self.clock = start
        self.calls: list[dict] = []  # specs, in insertion order
        self.traces = 0
        self.requests: list[tuple[str, str, dict]] = []
        self.shuffle = True

    def new_id(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"

    def usage(self) -> dict:
        model = self.rng.choice(["gpt-4o-2024-08-06", "gpt-4o-2024-08-06", "claude-3-5-haiku-20241022", "text-embedding-3-small", "local-llm"])
        r = self.rng.randint
        if model == "claude-3-5-haiku-20241022":
            u = {"input_tokens": r(20, 900), "output_tokens": r(5, 400), "requests": 1, "cache_read_input_tokens": r(0, 1) * r(0, 512), "cache_creation_input_tokens": r(0, 1) * r(0, 300)}
        elif model == "text-embedding-3-small":
            n = r(5, 200)
            u = {"prompt_tokens": n, "requests": 1, "total_tokens": n}
        else:
            p, c = r(30, 2000), r(3, 600)
            u = {"prompt_tokens": p, "completion_tokens": c, "requests": 1, "total_tokens": p + c}
            if model == "gpt-4o-2024-08-06" and r(0, 2) == 0:
                u["cache_read_input_tokens"] = r(0, p)
        return {model: u}

    def trace(self, size: int, *, project: str = LAB, shape: str = "tree", running: int = 0, client_sums: bool = False,
              trace_id: str | None = None, parent_of_root: str | None = None, gap_min: int = 3) -> list[dict]:
        """Adds a trace of `size` calls; returns its calls (root first).
        `running`: how many leaves are still running (they and their ancestors
        have no end)."""
        self.traces += 1
        tid = trace_id if trace_id is not None else f"trace-{self.traces:02d}-{self.rng.getrandbits(24):06x}"
        start = self.clock
        self.clock += _dt.timedelta(minutes=gap_min, milliseconds=self.rng.randint(0, 999))
        nodes: list[dict] = []
        for i in range(size):
            if i == 0:
                parent = None
            elif shape == "chain":
                parent = i - 1
            elif shape == "star":
                parent = 0
            else:
                parent = self.rng.randrange(max(0, i - 4), i) if i > 1 else 0
            nodes.append({"parent": parent, "children": []})
            if parent is not None:
                nodes[parent]["children"].append(i)
        # Start instants: after the parent's, often the same instant (the id
        # then orders them).
        starts = []
        for i, n in enumerate(nodes):
            if n["parent"] is None:
                starts.append(start)
            else:
                step = 0 if self.rng.random() < 0.25 else self.rng.randint(1, 900)
                starts.append(max(starts[n["parent"]], starts[-1]) + _dt.timedelta(milliseconds=step))
        leaves = [i for i, n in enumerate(nodes) if not n["children"]]
        running_set: set[int] = set()
        for leaf in self.rng.sample(leaves, running) if running else []:
            j = leaf
            while j is not None:
                running_set.add(j)
                j = nodes[j]["parent"]
        ends: list[_dt.datetime | None] = [None] * size
        usage: list[dict] = [{} for _ in range(size)]
        for i in reversed(range(size)):
            n = nodes[i]
            if not n["children"] and self.rng.random() < 0.8:
                usage[i] = self.usage()
            if client_sums:
                for c in n["children"]:
                    if ends[c] is None:
                        continue
                    for m, u in usage[c].items():
                        mine = usage[i].setdefault(m, {})
                        for k, v in u.items():
                            mine[k] = mine.get(k, 0) + v
            if i in running_set:
                continue
            child_end = max((ends[c] for c in n["children"] if ends[c] is not None), default=starts[i])
            ends[i] = max(child_end, starts[i]) + _dt.timedelta(milliseconds=self.rng.randint(1, 2500))
        if not any(usage[i] for i in range(size) if ends[i] is not None):
            # Every trace has some usage: its last finished leaf gets one.
            last = max(i for i in range(size) if ends[i] is not None and not nodes[i]["children"]) if any(ends[i] is not None and not nodes[i]["children"] for i in range(size)) else None
            if last is not None:
                usage[last] = self.usage()
                j = nodes[last]["parent"]
                while client_sums and j is not None:
                    for m, u in usage[last].items():
                        mine = usage[j].setdefault(m, {})
                        for k, v in u.items():
                            mine[k] = mine.get(k, 0) + v
                    j = nodes[j]["parent"]
        ids = [self.new_id() for _ in range(size)]
        out = []
        for i, n in enumerate(nodes):
            op = "agent" if i == 0 else ("llm" if usage[i] and not n["children"] else self.rng.choice(["plan", "search", "tool", "step"]))
            call = {
                "project_id": project,
                "id": ids[i],
                "trace_id": tid,
                "parent_id": parent_of_root if n["parent"] is None else ids[n["parent"]],
                "op_name": op,
                "display_name": None,
                "started_at": iso(starts[i]),
                "ended_at": None if ends[i] is None else iso(ends[i]),
                "attributes": {},
                "inputs": {"step": i},
                "output": None if ends[i] is None else f"out {i}",
                "exception": None,
                "summary": {"usage": usage[i]} if usage[i] else {},
                "phase": 0,
            }
            out.append(call)
        self.calls.extend(out)
        return out

    def delete(self, *calls: dict) -> None:
        for c in calls:
            c["deleted"] = True

    def duplicate(self, call: dict, **changes) -> dict:
        """A later copy of `call` (same project and id) with `changes`,
        inserted after everything else: the server keeps it, and so does a
        body reader (the later copy replaces the earlier)."""
        later = {**copy.deepcopy(call), "phase": call["phase"] + 1, **changes}
        self.calls.append(later)
        return later

    def ask(self, name: str, description: str, **request) -> None:
        self.requests.append((name, description, {"project_id": LAB, **request}))


def depth(calls: list[dict]) -> int:
    """How many levels a trace has below its root."""
    parent = {c["id"]: c["parent_id"] for c in calls}
    best = 0
    for c in calls:
        n, p = 0, c["parent_id"]
        while p in parent:
            n, p = n + 1, parent[p]
        best = max(best, n)
    return best


def descendants(calls: list[dict], call: dict) -> list[dict]:
    """`call` and everything below it in `calls`."""
    out, todo = [], [call]
    while todo:
        c = todo.pop()
        out.append(c)
        todo.extend(d for d in calls if d["parent_id"] == c["id"])
    return out


def forests() -> list[Forest]:
    t0 = _dt.datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
    out = []

    # ---------------------------------------------------------- many small
    f = Forest("many-small", "13 small traces in acme/lab (1 to 7 live calls), two acme/other traces, deleted calls (a leaf, a whole one-call trace, a middle call whose child becomes a root), running calls, some traces with the client's per-parent sums.", 11, t0)
    sizes = [1, 1, 2, 2, 3, 3, 3, 4, 4, 6, 7, 2, 1]
    ts = [f.trace(n, shape="tree", client_sums=i % 3 == 0, running=1 if i in (5, 9) else 0) for i, n in enumerate(sizes)]
    other = [f.trace(3, project=OTHER), f.trace(2, project=OTHER)]
    f.delete(ts[7][-1])  # a leaf: its trace has 3 live calls
    f.delete(ts[12][0])  # a whole one-call trace
    mid = next(c for c in ts[9][1:] if any(d["parent_id"] == c["id"] for d in ts[9]))
    f.delete(mid)  # a middle call: its children's parent is gone, they are roots
    live = lambda t: [c for c in t if not c.get("deleted")]
    all_roots = [c["id"] for t in ts for c in live(t) if c["parent_id"] is None]
    n_live = sum(len(live(t)) for t in ts)
    f.ask("all-roots-default-limit", f"every root, default limit: one batch of {n_live} live calls, the same as 0.53.0", call_ids=all_roots, include_costs=True)
    f.ask("all-roots-limit-7", "max live trace size is 7: batches of at most 7 calls; 0.53.0 cuts to the first 7 calls", call_ids=all_roots, include_costs=True, limit=7)
    f.ask("all-roots-limit-6", "the 7-call trace exceeds 6: 413", call_ids=all_roots, include_costs=True, limit=6)
    f.ask("all-roots-limit-10", "batches of at most 10 calls, without costs", call_ids=all_roots, limit=10)
    small = [t[0]["id"] for t in ts if len(live(t)) == 1 and not t[0].get("deleted")]
    f.ask("one-call-traces-limit-1", "only one-call traces: one batch per trace at limit 1", call_ids=small, include_costs=True, limit=1)
    f.ask("all-roots-limit-1", "limit 1 with multi-call traces: 413", call_ids=all_roots, limit=1)
    two = [t[0]["id"] for t in ts if len(live(t)) <= 2 and not t[0].get("deleted")]
    f.ask("small-traces-limit-2", "traces of 1 and 2 calls at limit 2", call_ids=two, include_costs=True, limit=2)
    three = [t[0]["id"] for t in ts if len(live(t)) <= 3 and not t[0].get("deleted")]
    f.ask("small-traces-limit-3", "traces of up to 3 live calls (one had a leaf deleted) at limit 3", call_ids=three, include_costs=True, limit=3)
    inner = [ts[10][0]["id"], ts[10][3]["id"], ts[10][5]["id"], ts[9][0]["id"]]
    f.ask("root-and-inner-limit-7", "a root and two inner calls of the 7-call trace plus another root: the trace counts once", call_ids=inner, include_costs=True, limit=7)
    orphans = [c["id"] for c in live(ts[9]) if c["parent_id"] == mid["id"]]
    f.ask("orphan-and-deleted-limit-5", "a deleted call (unknown: {}), the child it orphaned (a root now; its trace has 5 live calls), a missing id, an acme/other root and a deleted one-call trace", call_ids=[mid["id"], *orphans, "no-such-call", other[0][0]["id"], ts[12][0]["id"]], include_costs=True, limit=5)
    f.ask("running-limit-6", "two traces with running calls, limit 6: unfinished ids from both batches", call_ids=[ts[5][0]["id"], ts[9][0]["id"], ts[3][0]["id"]], limit=6)
    out.append(f)

    # ------------------------------------------------------------- one big
    f = Forest("one-big", "", 12, t0)
    big = f.trace(30)
    f.description = f"one 30-call trace ({depth(big)} levels below its root), a 3-call chain and a single call; limits at, below and above the big trace's size."
    chain = f.trace(3, shape="chain")
    single = f.trace(1)
    agents = [c for c in big if c["parent_id"] == big[0]["id"]]
    f.ask("big-limit-30", "exactly at the limit: one batch", call_ids=[big[0]["id"]], include_costs=True, limit=30)
    f.ask("big-limit-29", "one over: 413; 0.53.0 drops the last call", call_ids=[big[0]["id"]], include_costs=True, limit=29)
    f.ask("big-and-chain-limit-30", "33 calls over two traces at limit 30: two batches, both whole; 0.53.0 cuts 3 calls", call_ids=[big[0]["id"], chain[0]["id"]], include_costs=True, limit=30)
    f.ask("all-limit-34", "34 calls, limit 34: one batch, same as 0.53.0", call_ids=[big[0]["id"], chain[0]["id"], single[0]["id"]], include_costs=True, limit=34)
    f.ask("all-limit-33", "34 calls, limit 33: split into batches", call_ids=[big[0]["id"], chain[0]["id"], single[0]["id"]], include_costs=True, limit=33)
    f.ask("chain-limit-2", "the chain alone one over: 413", call_ids=[chain[0]["id"]], include_costs=True, limit=2)
    f.ask("inner-of-big-limit-30", "inner calls of the big trace: the whole trace is the batch", call_ids=[a["id"] for a in agents[:2]] + [big[-1]["id"]], include_costs=True, limit=30)
    f.ask("single-and-big-limit-7", "the big trace is requested with a single call: 413 even though the single fits", call_ids=[single[0]["id"], big[0]["id"]], limit=7)
    out.append(f)

    # -------------------------------------------------------- at/below/above
    f = Forest("at-below-above", "traces of exactly 7, 6, 8 and 1 calls, in trace-id order, around limit 7.", 13, t0)
    t7, t6, t8, t1 = f.trace(7), f.trace(6, shape="star"), f.trace(8), f.trace(1)
    r7, r6, r8, r1 = (t[0]["id"] for t in (t7, t6, t8, t1))
    f.ask("seven-limit-7", "at the limit", call_ids=[r7], include_costs=True, limit=7)
    f.ask("eight-limit-7", "above: 413", call_ids=[r8], include_costs=True, limit=7)
    f.ask("seven-six-limit-7", "13 calls: split into [7] and [6]; 0.53.0 keeps the first 7 by start", call_ids=[r7, r6], include_costs=True, limit=7)
    f.ask("six-one-limit-7", "6 + 1 = 7: one batch", call_ids=[r6, r1], include_costs=True, limit=7)
    f.ask("seven-six-one-limit-7", "14 calls over three traces: halves by trace count", call_ids=[r7, r6, r1], include_costs=True, limit=7)
    f.ask("all-limit-7", "the 8-call trace makes the whole request 413", call_ids=[r7, r6, r8, r1], include_costs=True, limit=7)
    f.ask("seven-six-one-limit-14", "14 calls at limit 14: one batch", call_ids=[r7, r6, r1], include_costs=True, limit=14)
    f.ask("all-limit-8", "22 calls at limit 8: halved down to single traces; the 8-call trace fits exactly", call_ids=[r7, r6, r8, r1], include_costs=True, limit=8)
    out.append(f)

    # --------------------------------------------------- cross-trace parents
    f = Forest("cross-trace-parents", "a call whose parent is in another trace: A (3 calls); B (2 calls), whose root's parent is A's leaf; C (2 calls), whose root's parent is in B. A parent in another batch is not a parent.", 14, t0)
    ta = f.trace(3, shape="chain")
    tb = f.trace(2, parent_of_root=ta[-1]["id"])
    tc = f.trace(2, parent_of_root=tb[-1]["id"])
    ra, rb, rc = ta[0]["id"], tb[0]["id"], tc[0]["id"]
    f.ask("a-alone-limit-10", "only A's trace is in scope: B is not added", call_ids=[ra], include_costs=True, limit=10)
    f.ask("a-b-limit-10", "A and B in one batch: B's usage flows into A", call_ids=[ra, rb], include_costs=True, limit=10)
    f.ask("a-b-limit-3", "A and B in separate batches: B is a root, A does not get its usage", call_ids=[ra, rb], include_costs=True, limit=3)
    f.ask("a-b-c-limit-5", "7 calls at limit 5: [A] and [B, C]; C flows into B, B not into A", call_ids=[ra, rb, rc], include_costs=True, limit=5)
    f.ask("a-b-c-limit-7", "one batch: everything flows into A", call_ids=[ra, rb, rc], include_costs=True, limit=7)
    f.ask("a-b-c-limit-2", "A has 3 calls: 413", call_ids=[ra, rb, rc], limit=2)
    f.ask("b-c-limit-2", "[B] and [C] at limit 2: C is a root", call_ids=[rb, rc], include_costs=True, limit=2)
    f.shuffle = False
    out.append(f)

    # ----------------------------------------------------------- duplicates
    f = Forest("duplicates", "ids given twice: a later copy with other usage; a later copy in another trace (moves the call, changing both traces' sizes); an id also used in acme/other; a trace whose id is the empty string; requests naming an id twice, a missing id, another project's id.", 15, t0)
    t1, t2, t3 = f.trace(4), f.trace(3), f.trace(2)
    empty = f.trace(2, trace_id="")
    o = f.trace(5, project=OTHER)
    same_as_other = f.trace(1)
    f.duplicate(t1[-1], summary={"usage": {"gpt-4o-2024-08-06": {"prompt_tokens": 1000, "completion_tokens": 100, "requests": 1, "total_tokens": 1100}}})
    moved = next(c for c in t1[1:-1] if not any(d["parent_id"] == c["id"] for d in t1)) if any(not any(d["parent_id"] == c["id"] for d in t1) for c in t1[1:-1]) else t1[1]
    f.duplicate(moved, trace_id=t2[0]["trace_id"], parent_id=t2[0]["id"])  # moves: t1 has 3 calls, t2 has 4
    # acme/other holds a call with the id of an acme/lab call.
    f.duplicate(same_as_other[0], project_id=OTHER, trace_id=o[0]["trace_id"], parent_id=o[0]["id"], phase=0)
    r1, r2, r3, re = t1[0]["id"], t2[0]["id"], t3[0]["id"], empty[0]["id"]
    f.ask("moved-call-limit-4", "t2 has 4 calls once the later copy moved one in: fits 4", call_ids=[r2, moved["id"]], include_costs=True, limit=4)
    f.ask("moved-call-limit-3", "t2 has 4 calls: 413 at 3 (t1 now has 3)", call_ids=[r1, r2], include_costs=True, limit=3)
    f.ask("id-twice-limit-4", "an id named twice, a missing id: keys are distinct", call_ids=[r1, r1, "missing", r3, r1], include_costs=True, limit=4)
    f.ask("shared-id-limit-1", "the id also used in acme/other: only acme/lab's one-call trace counts", call_ids=[same_as_other[0]["id"]], include_costs=True, limit=1)
    f.ask("other-project-id-limit-2", "an acme/other root asked in acme/lab: {}", call_ids=[o[0]["id"], r3], include_costs=True, limit=2)
    f.ask("empty-trace-id-limit-2", "a trace whose id is '' is an ordinary trace", call_ids=[re, r3], include_costs=True, limit=2)
    f.ask("all-limit-5", "all acme/lab roots at limit 5", call_ids=[r1, r2, r3, re, same_as_other[0]["id"]], include_costs=True, limit=5)
    f.ask("acme-other-limit-6", "acme/other's trace: 5 calls plus the shared-id call", call_ids=[o[0]["id"]], include_costs=True, limit=6, project_id=OTHER)
    f.ask("acme-other-limit-5", "acme/other's trace has 6 calls: 413 at 5", call_ids=[o[0]["id"]], include_costs=True, limit=5, project_id=OTHER)
    out.append(f)

    # ----------------------------------------------- deleted, other projects
    f = Forest("deleted-other-projects", "a trace id used by two projects (3 calls in acme/lab, 12 in acme/other); a 9-call trace with a subtree deleted; a trace whose root alone is deleted (its children stay, as roots).", 16, t0)
    shared_lab = f.trace(3, trace_id="trace-shared")
    shared_other = f.trace(12, project=OTHER, trace_id="trace-shared")
    nine = f.trace(9, shape="tree", client_sums=True)
    sub = next(c for c in nine[1:] if any(d["parent_id"] == c["id"] for d in nine))
    f.delete(*descendants(nine, sub))  # a subtree, as a delete removes it
    headless = f.trace(4, shape="star")
    f.delete(headless[0])
    live_nine = [c for c in nine if not c.get("deleted")]
    f.ask("shared-trace-limit-3", "acme/lab's 3 calls of trace-shared: acme/other's 12 do not count", call_ids=[shared_lab[0]["id"]], include_costs=True, limit=3)
    f.ask("other-shared-limit-12", "acme/other's 12 calls at 12", call_ids=[shared_other[0]["id"]], include_costs=True, limit=12, project_id=OTHER)
    f.ask("other-shared-limit-11", "acme/other's 12 calls at 11: 413", call_ids=[shared_other[0]["id"]], include_costs=True, limit=11, project_id=OTHER)
    f.ask("nine-minus-deleted-at-live-count", f"{len(live_nine)} live calls of 9: deleted calls do not count toward the limit", call_ids=[nine[0]["id"]], include_costs=True, limit=len(live_nine))
    f.ask("nine-minus-deleted-below-live-count", "one under the live count: 413", call_ids=[nine[0]["id"]], include_costs=True, limit=len(live_nine) - 1)
    f.ask("deleted-root-limit-1", "only a deleted root: no trace, every id {} (no batch at all)", call_ids=[headless[0]["id"]], include_costs=True, limit=1)
    f.ask("headless-children-limit-3", "the deleted root's 3 children: roots of their own", call_ids=[c["id"] for c in headless[1:]] + [headless[0]["id"]], include_costs=True, limit=3)
    f.ask("all-lab-limit-6", "every acme/lab trace at limit 6", call_ids=[shared_lab[0]["id"], nine[0]["id"], headless[1]["id"]], include_costs=True, limit=6)
    out.append(f)

    # ------------------------------------------------------------ unfinished
    f = Forest("unfinished", "four traces with calls still running; the unfinished ids of every batch are merged and sorted.", 17, t0)
    us = [f.trace(5, running=1), f.trace(4), f.trace(6, running=2), f.trace(3, running=1)]
    ur = [t[0]["id"] for t in us]
    f.ask("all-default", "one batch", call_ids=ur, include_costs=True)
    f.ask("all-limit-6", "batches of at most 6: unfinished ids of all traces; 0.53.0 only of the first 6 calls", call_ids=ur, include_costs=True, limit=6)
    f.ask("all-limit-9", "batches of at most 9", call_ids=ur, limit=9)
    f.ask("all-limit-5", "the 6-call trace: 413 (no unfinished ids either)", call_ids=ur, limit=5)
    f.ask("inner-running-limit-6", "a running inner call asked for: its trace is the batch", call_ids=[c["id"] for c in us[2] if c["ended_at"] is None][1:2], limit=6)
    out.append(f)

    # --------------------------------------------------------------- limits
    f = Forest("limit-values", "limit values: below 1, lax forms, empty call_ids, nothing found.", 18, t0)
    lt = [f.trace(1), f.trace(2), f.trace(1)]
    lr = [t[0]["id"] for t in lt]
    f.ask("limit-0", "limit 0: 400 before anything is read; 0.53.0 reads it as no limit", call_ids=lr, include_costs=True, limit=0)
    f.ask("limit-minus-1", "negative: 400", call_ids=lr, limit=-1)
    f.ask("limit-0-no-ids", "limit 0 with no call_ids: still 400 (the limit is checked first)", call_ids=[], limit=0)
    f.ask("no-ids-limit-1", "no call_ids: empty answer", call_ids=[], limit=1)
    f.ask("none-found-limit-1", "no requested id found: each {}", call_ids=["nope-1", "nope-2", "nope-1"], include_costs=True, limit=1)
    f.ask("limit-string-2", "limit '2' (lax): 2", call_ids=lr, include_costs=True, limit="2")
    f.ask("limit-true", "limit true (lax): 1, the one-call traces fit", call_ids=[lr[0], lr[2]], include_costs=True, limit=True)
    f.ask("limit-false", "limit false (lax): 0, 400", call_ids=[lr[0]], limit=False)
    out.append(f)
    return out


CLIENT_CASES = {
    # fixture: [(name, description, project, roots selector, limit, include_costs)]
    "agents": [
        ("all-limit-38", "traces of 38, 15 and 2 calls: the 38-call trace is exactly the limit", "acme/agents", "all", 38, True),
        ("all-limit-37", "the 38-call trace exceeds 37: 413", "acme/agents", "all", 37, True),
        ("all-limit-55", "55 calls at 55: one batch, the same as 0.53.0", "acme/agents", "all", 55, True),
        ("small-two-limit-17", "the 15- and 2-call traces at 17: one batch", "acme/agents", "small", 17, True),
        ("small-two-limit-15", "the 15- and 2-call traces at 15: two batches; 0.53.0 cuts", "acme/agents", "small", 15, True),
    ],
    "agents-running": [
        ("root-limit-20", "20 calls, 2 running, at 20", "acme/agents", "all", 20, True),
        ("root-limit-19", "at 19: 413", "acme/agents", "all", 19, True),
    ],
    "stream-open": [
        ("all-limit-38", "38 and 10 calls, running calls in both", "acme/agents", "all", 38, True),
        ("all-limit-30", "413", "acme/agents", "all", 30, False),
    ],
    "evals": [
        ("eval-limit-28", "one 28-call trace at 28", "acme/evals", "all", 28, True),
        ("eval-limit-27", "at 27: 413; 0.53.0 drops the last-started call", "acme/evals", "all", 27, True),
    ],
    "support": [
        ("live-limit-10", "four live tickets of 10, 10, 8 and 10 live calls (two deleted in the third): batches of at most 10", "acme/support", "all", 10, True),
        ("live-limit-9", "413", "acme/support", "all", 9, True),
        ("live-limit-20", "batches of two traces", "acme/support", "all", 20, False),
        ("partly-deleted-limit-8", "the ticket with a deleted subtree: 8 live calls fit 8", "acme/support", "partly-deleted", 8, True),
        ("deleted-ticket-limit-1", "the deleted ticket's root: no trace found, {}", "acme/support", "deleted", 1, True),
    ],
    "mixed-projects": [
        ("pricing-limit-9", "acme/pricing's two 9-call traces at 9, acme/support's calls in the same body", "acme/pricing", "all", 9, True),
        ("support-limit-10", "acme/support at 10, acme/pricing's calls in the same body", "acme/support", "all", 10, True),
    ],
}


def client_scenarios() -> list[dict]:
    out = []
    for name, cases in CLIENT_CASES.items():
        fixture = json.loads((CLIENT / f"{name}.json").read_text())
        calls = fixture["calls"]
        requests = []
        for case, description, project, which, limit, costs in cases:
            live = [c for c in calls if c["project_id"] == project and c.get("deleted_at") is None]
            sizes: dict = {}
            for c in live:
                sizes[c["trace_id"]] = sizes.get(c["trace_id"], 0) + 1
            live_roots = [c for c in live if c["parent_id"] is None]
            if which == "all":
                ids = [c["id"] for c in live_roots]
            elif which == "small":
                ids = [c["id"] for c in live_roots if sizes[c["trace_id"]] < 20]
            elif which == "partly-deleted":
                dead = {c["trace_id"] for c in calls if c["project_id"] == project and c.get("deleted_at") is not None}
                ids = [c["id"] for c in live_roots if c["trace_id"] in dead]
            elif which == "deleted":
                ids = [c["id"] for c in calls if c["project_id"] == project and c.get("deleted_at") is not None and c["parent_id"] is None]
            assert ids, (name, case)
            requests.append((case, description, {"project_id": project, "call_ids": ids, "include_costs": costs, "limit": limit}))
        out.append({"name": f"client-{name}", "description": f"the real-client corpus' `{name}` fixture: {fixture['description']}", "calls_from": f"../client/{name}.json", "calls": [{**c, "op_name": op_name(c["op_name"])} for c in calls], "prices": client_prices(calls), "requests": requests})
    return out


def op_name(ref: str) -> str:
    """An op ref ('weave:///entity/project/op/name:digest') as a bare name:
    the corpus was logged through the adapter for external project ids, whose
    refs the in-memory server cannot read. The rollup never reads op_name."""
    return ref.rsplit("/op/", 1)[-1].split(":", 1)[0]


def client_prices(calls: list[dict]) -> list[dict]:
    """The price rows that priced the corpus, from its cost entries (each
    entry is its row plus the computed costs); a project row's internal
    project id ('p' + hex of 'entity/project') is mapped back."""
    rows: dict = {}
    for c in calls:
        for llm_id, e in (((c.get("summary") or {}).get("weave") or {}).get("costs") or {}).items():
            level_id = e["pricing_level_id"]
            if e["pricing_level"] == "project" and level_id.startswith("p"):
                level_id = bytes.fromhex(level_id[1:]).decode()
            key = (llm_id, e["pricing_level"], level_id, e["effective_date"])
            row = price_row(0, llm_id, e["provider_id"], e["effective_date"], e["prompt_token_cost"], e["completion_token_cost"],
                            e.get("cache_read_input_token_cost") or 0.0, e.get("cache_creation_input_token_cost") or 0.0, e["pricing_level"], level_id)
            row["created_at"], row["created_by"] = e["created_at"], e["created_by"]
            if key in rows:
                assert rows[key] == {**row, "id": rows[key]["id"]}, key
                continue
            row["id"] = f"price-{len(rows) + 1:03d}"
            rows[key] = row
    return sorted(rows.values(), key=lambda r: r["id"])


def run_worker(python: str, job: dict) -> dict:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    proc = subprocess.run([python, str(HERE), "--worker"], input=json.dumps(job), capture_output=True, text=True, env=env, cwd="/tmp")
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-6000:])
        raise SystemExit(f"worker {python} failed")
    return json.loads(proc.stdout)


def with_offset(text: str, minutes: int) -> str:
    t = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return t.astimezone(_dt.timezone(_dt.timedelta(minutes=minutes))).isoformat(timespec="microseconds")


def synthetic_bodies(fs: list[Forest]) -> dict[str, list[dict]]:
    """Each forest's calls as a browser would hold them, read from 0.53.12's
    own stream (phase by phase), then deleted, offset and shuffled."""
    job = {"mode": "stream", "scenarios": []}
    for f in fs:
        phases = max(c["phase"] for c in f.calls) + 1
        job["scenarios"].append({
            "name": f.name,
            "prices": PRICES,
            "projects": sorted({c["project_id"] for c in f.calls}),
            "phases": [[{k: v for k, v in c.items() if k not in ("phase", "deleted")} for c in f.calls if c["phase"] == p] for p in range(phases)],
        })
    res = run_worker(PY_12, job)
    assert res["weave"] == "0.53.12", res["weave"]
    out = {}
    for f, sc in zip(fs, res["scenarios"]):
        body = []
        for c in f.calls:
            (read,) = [x for x in sc["snapshots"][c["phase"]][c["project_id"]] if x["id"] == c["id"]]
            if c.get("deleted"):
                read = {**read, "deleted_at": DELETED_AT}
            body.append(read)
        rng = random.Random(f.name)
        for call in body:
            if rng.random() < 0.25:
                call["started_at"] = with_offset(call["started_at"], rng.choice([-420, -300, 60, 120, 330, 540]))
        if f.shuffle:
            # Shuffled, but a call's copies keep their order (the later wins).
            order = list(range(len(body)))
            rng.shuffle(order)
            shuffled = [body[i] for i in order]
            keys = [(c["project_id"], c["id"]) for c in shuffled]
            copies: dict = {}
            for c in body:
                copies.setdefault((c["project_id"], c["id"]), []).append(c)
            taken: dict = {}
            body = []
            for k in keys:
                i = taken.get(k, 0)
                taken[k] = i + 1
                body.append(copies[k][i])
        out[f.name] = body
    return out


def same(a, b) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def batches(queries: list[dict]) -> list[dict]:
    """The trace batches 0.53.12 tried, in order, from its queries."""
    out = []
    for q in queries:
        if q["trace_ids"] is None:
            continue
        out.append({"trace_ids": q["trace_ids"], "calls_read": q["returned"], "fits": q["returned"] < q["limit"]})
    return out


def dump(doc: dict) -> str:
    """The file: indented down to each call and each case's fields; a call,
    an answer or a batch list is one line."""

    def compact(v) -> str:
        return json.dumps(v, ensure_ascii=False, allow_nan=False)

    lines = ["{"]
    items = list(doc.items())
    for n, (k, v) in enumerate(items):
        end = "," if n < len(items) - 1 else ""
        if k in ("calls", "prices", "cases") and v:
            lines.append(f" {compact(k)}: [")
            for m, item in enumerate(v):
                sep = "," if m < len(v) - 1 else ""
                if k == "cases":
                    fields = list(item.items())
                    lines.append("  {")
                    for j, (ck, cv) in enumerate(fields):
                        lines.append(f"   {compact(ck)}: {compact(cv)}" + ("," if j < len(fields) - 1 else ""))
                    lines.append("  }" + sep)
                else:
                    lines.append(f"  {compact(item)}{sep}")
            lines.append(" ]" + end)
        else:
            lines.append(f" {compact(k)}: {compact(v)}{end}")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    assert json.loads(text) == doc
    return text


def main() -> None:
    assert sys.version_info[:2] == (3, 11), "Python 3.11"
    fs = forests()
    bodies = synthetic_bodies(fs)
    scenarios = []
    for f in fs:
        scenarios.append({"name": f.name, "description": f.description, "calls": bodies[f.name], "prices": PRICES, "requests": f.requests})
    scenarios += client_scenarios()
    job = {"mode": "answer", "scenarios": [{"name": s["name"], "calls": s["calls"], "prices": s["prices"], "requests": [r for _, _, r in s["requests"]]} for s in scenarios]}
    new = run_worker(PY_12, job)
    old = run_worker(PY_0, job)
    assert new["weave"] == "0.53.12" and old["weave"] == "0.53.0", (new["weave"], old["weave"])
    OUT.mkdir(parents=True, exist_ok=True)
    for stale in OUT.glob("*.json"):
        stale.unlink()
    total_cases = 0
    differ = 0
    index = []
    for s, n, o in zip(scenarios, new["scenarios"], old["scenarios"]):
        assert not n["mismatches"], (s["name"], n["mismatches"][:2])
        assert not o["mismatches"], (s["name"], o["mismatches"][:2])
        cases = []
        for (name, description, request), a, b in zip(s["requests"], n["answers"], o["answers"]):
            assert a["validated_limit"] == b["validated_limit"]
            case = {"name": name, "description": description, "request": request, "options": OPTION}
            if "expected" in a:
                case["expected"] = a["expected"]
            else:
                case["expected_error"] = a["expected_error"]
            case["batches"] = batches(a["queries"])
            case["validated_limit"] = a["validated_limit"]
            case["differs"] = not same({k: a[k] for k in ("expected", "expected_error") if k in a}, {k: b[k] for k in ("expected", "expected_error") if k in b})
            # 0.53.0's answer; "same_as_expected" when it is exactly 0.53.12's.
            ref = {"same_as_expected": True} if not case["differs"] else {k: b[k] for k in ("expected", "expected_error") if k in b}
            scope = [q for q in b["queries"] if q["trace_ids"] is not None]
            ref["calls_in_scope"] = scope[0]["returned"] if scope else 0
            case["reference_0_53_0"] = ref
            differ += case["differs"]
            cases.append(case)
        total_cases += len(cases)
        doc = {
            "name": s["name"],
            "description": s["description"],
            "generator": "tests/gen/limit_batches_corpus.py",
            "versions": {"weave": new["weave"], "reference_0_53_0": old["weave"], "pydantic": new["pydantic"], "python": new["python"]},
        }
        if "calls_from" in s:
            doc["calls_from"] = s["calls_from"]
        else:
            doc["calls"] = s["calls"]
        doc["prices"] = s["prices"]
        doc["cases"] = cases
        text = dump(doc)
        (OUT / f"{s['name']}.json").write_text(text)
        index.append((s["name"], len(cases), sum(c["differs"] for c in cases), sum("expected_error" in c for c in cases), len(text.encode())))
    for row in index:
        print("%-28s cases %2d  differ %2d  errors %2d  %7d bytes" % row)
    print(f"{total_cases} cases, {differ} differ from 0.53.0, {sum(r[4] for r in index)} bytes")


if __name__ == "__main__":
    if "--worker" in sys.argv:
        worker()
    else:
        main()
