"""Generates tests/fixtures/python/*.json: what pydantic v2 and CPython answer,
for the native tests to compare the crate's request validation and number
reading against (tests/python_corpus.rs).

Not run by CI (the outputs are committed). To regenerate:
    python3 -m venv /tmp/py && /tmp/py/bin/pip install 'pydantic==2.14.4'
    /tmp/py/bin/python tests/gen/python_corpus.py
It needs CPython 3.11 (its int()/float() rules and Unicode 14 tables).
"""

import itertools
import json
import math
import pathlib
import sys

import pydantic
from pydantic import BaseModel, ConfigDict, Field, ValidationError

OUT = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "python"


class CallsUsageReq(BaseModel):
    """The reference's request model, plus the crate's one addition (limit >= 1)."""

    model_config = ConfigDict(extra="forbid")
    project_id: str
    call_ids: list[str]
    include_costs: bool = False
    limit: int = Field(default=10_000, ge=1)


def validate(text):
    try:
        r = CallsUsageReq.model_validate(json.loads(text))
        return {"ok": {"project_id": r.project_id, "call_ids": r.call_ids, "include_costs": r.include_costs, "limit": str(r.limit)}}
    except ValidationError as e:
        # FastAPI puts "body" in front of every loc.
        return {"detail": [{"loc": ["body", *x["loc"]], "msg": x["msg"], "type": x["type"]} for x in e.errors()]}


SCALARS = [
    None, True, False, 0, 1, 2, -1, 5, 10**30, 2**63, 2**63 - 1, 0.0, -0.0, 1.0, 2.0, 0.5, 2.5, 1e20, 9.2e18, 9.3e18, -9.3e18, 1e21,
    "", "5", " 5 ", "+5", "-5", "5.0", "5.00", "5.", ".5", ".0", "0.0", "5.5", "5.0_0", "1_0.0", "1_000", "1__0", "_1", "1_",
    "0x10", "1e3", "inf", "nan", "true", "True", "TRUE", "yes", "YES", "on", "On", "off", "no", "n", "y", "t", "f", "1", "0",
    "2", " true", "true ", "\u00a05", "\u0665", "\uff11", "99999999999999999999999", "-0", "00", "0005", "+ 5", "-", "abc",
    [], ["a"], [1], {}, {"a": 1},
]
LISTS = [["a", "b"], ["a", 1, None], [["x"], {"k": 1}, True, 1.5], [], "abc", {"a": 1}, None, 5]


def requests():
    base = {"project_id": "p", "call_ids": ["a"]}
    out = []
    for field in ["project_id", "call_ids", "include_costs", "limit"]:
        for v in SCALARS + (LISTS if field == "call_ids" else []):
            out.append(json.dumps({**base, field: v}))
    # Missing fields, extras in several orders, several errors at once.
    out += [
        json.dumps(x)
        for x in [
            {}, {"project_id": "p"}, {"call_ids": []}, [], "a", 7, None,
            {"project_id": "p", "call_ids": [], "zzz": 1, "aaa": 2},
            {"aaa": 2, "project_id": "p", "zzz": 1, "call_ids": []},
            {"limit": "x", "zzz": 1, "call_ids": None, "include_costs": "maybe", "aaa": 2},
            {"call_ids": [1, 2], "project_id": 5, "limit": 0, "extra": None},
            {"project_id": "p", "call_ids": [], "__proto__": 1, "constructor": 2},
        ]
    ]
    return out


WS = ["", " ", "\t", "\n", "\r\n", "\x0b\x0c", "\x1c", "\x1f", "\x85", "\xa0", "\u1680", "\u2000", "\u200a", "\u200b", "\u2028", "\u202f", "\u205f", "\u3000", "\ufeff"]
CORES = [
    "0", "7", "-7", "+7", "007", "1_000", "1__000", "_1", "1_", "-_1", "1_0_0", "12345678901234567890123",
    "1.5", "-1.5", "1.", ".5", ".", "1e3", "1E-3", "1e", "1e+", "1_0.5", "1._5", "1_.5", "1e1_0", "1e_10", "1.5e3_0",
    "inf", "-inf", "+inf", "Infinity", "-INFINITY", "infinit", "nan", "-nan", "NaN", "+NAN", "nan(1)", "in f",
    "0x10", "0b1", "0o7", "1,5", "1 5", "- 5", "--5", "++5", "", "abc", "true", "1e400", "-1e400", "4.9e-324", "1e-400",
    "\u0661\u0662", "\u0661.\u0665", "\uff11\uff12", "\u0967", "\U0001d7ce\U0001d7cf", "\u0661_\u0662", "\u00b2", "\u2155", "\u0e51", "\u19da",
]


def py(f, s):
    try:
        v = f(s)
    except (ValueError, TypeError, OverflowError):
        return None
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return v.hex()
    return str(v)


def numbers():
    out = []
    # Every core bare, with common white space around it, and with each white
    # space character alone before and alone after.
    wraps = [("", ""), (" ", " "), ("\t", "\r\n")] + [(w, "") for w in WS if w] + [("", w) for w in WS if w]
    for core, (pre, post) in itertools.product(CORES, wraps):
        s = pre + core + post
        out.append({"s": s, "int": py(int, s), "float": py(float, s)})
    out.append({"s": "1" * 4300, "int": "saturates", "float": py(float, "1" * 4300)})
    out.append({"s": "1" * 4301, "int": None, "float": py(float, "1" * 4301)})
    return out


def main():
    assert sys.version_info[:2] == (3, 11), "CPython 3.11 is the reference's"
    OUT.mkdir(parents=True, exist_ok=True)
    reqs = [{"body": t, **validate(t)} for t in requests()]
    meta = {"generated_by": "tests/gen/python_corpus.py", "pydantic": pydantic.VERSION, "python": sys.version.split()[0]}
    (OUT / "requests.json").write_text(json.dumps({**meta, "cases": reqs}, indent=1, ensure_ascii=False) + "\n")
    (OUT / "numbers.json").write_text(json.dumps({**meta, "cases": numbers()}, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(reqs)} requests, {len(numbers())} numeric strings")


main()
