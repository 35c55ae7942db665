"""Generates the reference answers for issue 5's options (committed, not run
by CI), for tests/python_corpus.rs to compare the crate against:

- tests/fixtures/python/pricing.json: per call and model, the four costs that
  weave 0.53.0's in-memory server computes from price rows. The server's own
  functions (`_pick_best_cost_row`, `_apply_costs_to_calls` and the helpers
  they call) are loaded from the unpacked package's source and run as they
  are; only their environment (the lock, the row store, the seed rows) is
  stubbed, because importing the whole server needs its many dependencies.
- tests/fixtures/python/options.json: what pydantic answers for the options
  object, modelled as the crate documents it (`docs/options.md`).

To regenerate:
    python3 -m venv /tmp/py && /tmp/py/bin/pip install 'pydantic==2.14.4'
    pip download weave==0.53.0 --no-deps && unpack it, then
    WEAVE_SRC=/path/to/weave/src /tmp/py/bin/python tests/gen/options_corpus.py
"""

import ast
import datetime
import json
import math
import os
import pathlib
import random
import threading
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

OUT = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "python"
SERVER = pathlib.Path(os.environ.get("WEAVE_SRC", "/tmp/weave/src")) / "weave" / "trace_server"


def reference_functions():
    """The server's pricing code, compiled from its source into a namespace."""
    tree = ast.parse((SERVER / "in_memory_trace_server.py").read_text())
    wanted_top = {"_normalize_datetime_for_costs", "_safe_int_for_costs", "_cost_usage_from_summary"}
    wanted_methods = {"_pick_best_cost_row", "_apply_costs_to_calls"}
    body = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in wanted_top:
            body.append(node)
        if isinstance(node, ast.ClassDef) and node.name == "InMemoryTraceServer":
            methods = [n for n in node.body if isinstance(n, ast.FunctionDef) and n.name in wanted_methods]
            assert len(methods) == 2, "the reference's pricing methods moved"
            body.append(ast.ClassDef(name="Server", bases=[], keywords=[], body=methods, decorator_list=[], type_params=[]))
    consts = ast.parse((SERVER / "token_costs.py").read_text())
    for node in consts.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") in ("PRICING_LEVELS", "DEFAULT_PRICING_LEVEL_ID") for t in node.targets):
            body.insert(0, node)
    module = ast.fix_missing_locations(ast.Module(body=body, type_ignores=[]))
    namespace = {"datetime": datetime, "Any": Any, "__name__": "reference"}
    exec(compile(module, str(SERVER / "in_memory_trace_server.py"), "exec"), namespace)
    return namespace


REF = reference_functions()


def reference_costs(rows, calls, project):
    server = REF["Server"]()
    server.lock = threading.Lock()
    server._llm_token_prices = rows
    server._ensure_default_costs = lambda: False  # no seeded default rows
    calls = json.loads(json.dumps(calls))
    server._apply_costs_to_calls(calls, project)
    out = {}
    for c in calls:
        costs = ((c.get("summary") or {}).get("weave") or {}).get("costs") or {}
        out[c["id"]] = {
            m: [e["prompt_tokens_total_cost"], e["completion_tokens_total_cost"], e["cache_read_input_tokens_total_cost"], e["cache_creation_input_tokens_total_cost"]]
            for m, e in costs.items()
        }
    return out


DATES = [
    "2024-01-01T00:00:00+00:00",
    "2024-06-01T00:00:00Z",
    "2024-06-01T02:00:00+02:00",  # the same instant as the one above
    "2025-01-01T00:00:00",  # naive: UTC
    "2025-03-01T12:00:00.500000+00:00",
    "2026-01-01T00:00:00+00:00",
]
STARTS = [
    "2023-12-31T23:59:59Z",
    "2024-01-01T00:00:00Z",  # exactly when a row takes effect: not in the future
    "2024-06-01T00:00:00Z",
    "2024-09-09T09:09:09.123456-05:00",
    "2025-03-01T12:00:00.5Z",
    "2025-03-01T12:00:00.499999Z",
    "2027-01-01T00:00:00",
]
MODELS = ["m1", "m2", "m3"]
LEVELS = [("project", "p"), ("project", "other"), ("default", "default"), ("default", "p")]
RATES = [None, 0, 0.0, 1e-6, 2.5e-6, 3, 1.5e-5]


def random_row(r):
    level, level_id = r.choice(LEVELS)
    row = {
        "id": f"row{r.randrange(10**6)}",
        "pricing_level": level,
        "pricing_level_id": level_id,
        "provider_id": r.choice(["openai", "default"]),
        "llm_id": r.choice(MODELS),
        "effective_date": r.choice(DATES),
        "prompt_token_cost": r.choice(RATES),
        "completion_token_cost": r.choice(RATES),
        "prompt_token_cost_unit": "USD",
        "completion_token_cost_unit": "USD",
        "created_by": "someone",
        "created_at": "2024-01-01T00:00:00+00:00",
    }
    # Stored rows may lack the cache rates (rows made by cost_create do).
    for k in ["cache_read_input_token_cost", "cache_creation_input_token_cost"]:
        if r.random() < 0.6:
            row[k] = r.choice(RATES)
    return row


def random_call(r, i):
    usage = {}
    for m in r.sample(MODELS, r.randrange(0, 3)):
        entry = {}
        for k in ["prompt_tokens", "input_tokens", "completion_tokens", "output_tokens", "requests", "total_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"]:
            if r.random() < 0.6:
                entry[k] = r.choice([0, 1, 7, 100, 1234, 10**6, "12", " 3 ", 2.9, True, None, "x"])
        usage[m] = entry
    return {"id": f"c{i}", "trace_id": "t", "started_at": r.choice(STARTS), "summary": {"usage": usage}}


def pricing_cases():
    r = random.Random(5)
    cases = []
    for _ in range(300):
        rows = [random_row(r) for _ in range(r.randrange(0, 9))]
        calls = [random_call(r, i) for i in range(r.randrange(1, 6))]
        cases.append({"rows": rows, "calls": calls, "project": "p", "costs": reference_costs(rows, calls, "p")})
    return cases


class PriceRow(BaseModel):
    """A price row as the crate validates it (docs/options.md)."""

    model_config = ConfigDict(extra="forbid")
    llm_id: str
    prompt_token_cost: float | None = None
    completion_token_cost: float | None = None
    cache_read_input_token_cost: float | None = None
    cache_creation_input_token_cost: float | None = None
    effective_date: datetime.datetime
    pricing_level: Literal["project", "default"] = "project"
    pricing_level_id: str | None = None
    provider_id: str | None = None
    # Carried by /costs/query and stored rows; accepted, not read.
    id: Any = None
    prompt_token_cost_unit: Any = None
    completion_token_cost_unit: Any = None
    created_at: Any = None
    created_by: Any = None


class UsageOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prices: list[PriceRow] | None = None
    reprice: bool = False
    rollup: Literal["reference", "dedupe"] = "reference"
    diagnostics: bool = False


def epoch_micros(d):
    if d.tzinfo is None:
        d = d.replace(tzinfo=datetime.timezone.utc)
    delta = d - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def finite_or_name(x):
    """JSON has no NaN or infinity: name them."""
    return x if math.isfinite(x) else repr(x)


def validate_options(text):
    try:
        o = UsageOptions.model_validate(json.loads(text))
    except ValidationError as e:
        return {"detail": [{"loc": ["options", *x["loc"]], "msg": x["msg"], "type": x["type"]} for x in e.errors()]}
    rows = None
    if o.prices is not None:
        rows = [
            {
                "llm_id": p.llm_id,
                "rates": [finite_or_name(x or 0.0) for x in [p.prompt_token_cost, p.completion_token_cost, p.cache_read_input_token_cost, p.cache_creation_input_token_cost]],
                "effective": epoch_micros(p.effective_date),
                "level": p.pricing_level,
                "level_id": p.pricing_level_id,
            }
            for p in o.prices
        ]
    return {"ok": {"prices": rows, "reprice": o.reprice, "rollup": o.rollup, "diagnostics": o.diagnostics}}


ROW = {"llm_id": "m", "effective_date": "2024-01-01T00:00:00Z"}
FLOATS = [None, True, False, 0, 5, -1, 1.5, 1e-7, 10**30, 10**400, "", "1e-3", " 1.5 ", "1_000", "1__0", "inf", "-inf", "nan", "NaN", "Infinity", "abc", "0x10", "\u0665", "\u00a05", "\u20035", "1e1_0", "+nan", "iNf", ".5", "1e400", "1.5e", [], {}]
DATETIMES = [
    None, True, 0, 1700000000, -1, 1.5, 1.7e12, 2e10, 20000000001, -1e13, -1e14, 1e30,
    "", "x", "1e5", "12345", "1700000000.5", "-99999999999", "+5", "5.", "20240101",
    "2024-01-01", "2024-01-01T00:00:00Z", "2024-01-01t00:00:00z", "2024-01-01 00:00", "2024-01-01T00:00Z",
    "2024-01-01T00:00:00+02:00", "2024-01-01T00:00:00+0200", "2024-01-01T00:00:00-23:59", "2024-01-01T00:00:00.1234567Z",
    "2024-01-01T00:00:00,5", "2024-01-01T23:59:59.999999999999Z", "2024-02-29", "2023-02-29", "2024-1-01",
    "2024/01/01", " 2024-01-01", "2024-01-01 ", "2024-00-01", "2024-13-01", "2024-01-32", "2024-01-01T",
    "2024-01-01T00", "2024-01-01T24:00:00", "2024-01-01T00:60:00", "2024-01-01T00:00:60", "2024-01-01T00:00:00.",
    "2024-01-01T00:00:00+02", "2024-01-01T00:00:00+25:00", "2024-01-01X", "2024-01-01T00:00:00Z1", "abcdefghijklmn",
    "9999-12-31T23:59:59+00:00", [], {},
]
STRINGS = [None, "p", "", 5, True, [], {}]


def options_cases():
    out = []
    # (null options mean "no options" in the crate, by design: not compared.)
    for v in [{}, 5, "x", [], True]:
        out.append(json.dumps(v))
    for field, values in [("reprice", [None, True, "yes", "no", 1, 0, 2, "x", 0.0, [], {}]), ("diagnostics", [True, "on", 1, 2, None]), ("rollup", ["reference", "dedupe", "Dedupe", "", None, 5, []]), ("prices", [None, [], 5, "x", {}, {"a": 1}, [5], [[]], [None], [{}]])]:
        for v in values:
            out.append(json.dumps({field: v}))
    for field in ["prompt_token_cost", "completion_token_cost", "cache_read_input_token_cost", "cache_creation_input_token_cost"]:
        for v in FLOATS:
            # 10**400 and the like go through Python's json as big ints.
            out.append(json.dumps({"prices": [{**ROW, field: v}]}))
    for v in DATETIMES:
        out.append(json.dumps({"prices": [{**ROW, "effective_date": v}]}))
    for field in ["llm_id", "pricing_level_id", "provider_id"]:
        for v in STRINGS:
            out.append(json.dumps({"prices": [{**ROW, field: v}]}))
    for v in ["project", "default", "org", "Project", None, 1]:
        out.append(json.dumps({"prices": [{**ROW, "pricing_level": v}]}))
    out += [
        json.dumps({"prices": [{**ROW, "prompt_cost": 1}]}),
        json.dumps({"prices": [{**ROW, "id": "x", "prompt_token_cost_unit": "USD", "completion_token_cost_unit": None, "created_at": 5, "created_by": []}]}),
        json.dumps({"zz": 1, "prices": [ROW, {"llm_id": 1}, 7], "aa": 2, "rollup": "x", "reprice": "maybe"}),
        json.dumps({"prices": [{"effective_date": "x", "llm_id": None, "pricing_level": "org", "zz": 1, "prompt_token_cost": "y"}]}),
    ]
    return [{"options": text, **validate_options(text)} for text in out]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "pricing.json").write_text(json.dumps({"generator": "tests/gen/options_corpus.py (weave 0.53.0 in_memory_trace_server)", "cases": pricing_cases()}) + "\n")
    (OUT / "options.json").write_text(json.dumps({"generator": "tests/gen/options_corpus.py (pydantic 2.14.4)", "cases": options_cases()}, indent=1, allow_nan=False) + "\n")
    print("wrote", OUT / "pricing.json", OUT / "options.json")


if __name__ == "__main__":
    main()
