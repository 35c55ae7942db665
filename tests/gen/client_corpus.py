"""Generates tests/fixtures/client/*.json: traces made by the real Weave
Python client, with the answers of the same Weave server, for
tests/client_corpus.rs and tests/js/client-corpus.test.mjs.

The other fixtures were made by inserting calls into the server directly. Real
traces come from the Python client, which differs in ways that matter: it sums
every finished child's usage into its parent's `summary.usage` (so the
server's rollup counts a leaf once per ancestor, wandb/weave#7831); a child
that ends after its parent is missing from the parent's summary; usage
entries carry nested detail objects and, once summed, lists; Anthropic
entries have no `total_tokens`; ids are UUIDv7; children start at their
parent's instant. This script makes such traces for real and records what
the server answers.

How: the real `weave==0.53.0` client (`weave_client.WeaveClient`, the way
weave's own test suite builds it: over an `InMemoryTraceServer` wrapped in
the `ExternalTraceServer` adapter for external project ids, with
`ensure_project_exists=False`), `@weave.op` functions, `weave.Model`,
`weave.Evaluation`, and weave's own OpenAI and Anthropic integrations
(`weave.integrations.patch_openai()` / `patch_anthropic()`; 0.53.0 does not
patch them implicitly). The SDKs talk to `httpx2.MockTransport` (both SDKs
take only their own `httpx2` client type), which serves chat completions,
streamed chat, the Responses API (with reasoning tokens, streamed too),
embeddings and Anthropic messages (with prompt caching, streamed too),
decides usage from the request alone, and records per call what it served:
the **provider truth**. Nothing touches the network.

Determinism: a fixed clock (`datetime.now` in the client and the server,
`time.time` in the stream and latency timers; it only moves when a mocked
request "takes" time or a scenario says so, so children start at their
parent's instant), UUIDv7 ids from a seeded generator stamped with that
clock, fixed machine attributes, and memory addresses scrubbed from inputs
(through the client's own `postprocess_inputs`). Models and scorers are
published before the evaluation, so op digests do not vary. Two runs write
byte-identical files.

Prices: the server prices calls at query time from its `llm_token_prices`
rows. A production server has the seed migration's rows
(`migrations/006_seed_costs.up.sql`, effective when the migration ran: fixed
here at 2024-10-01) plus every row of `costs/cost_checkpoint.json` (effective
at its `created_at`, with cache rates); the in-memory server is given exactly
those (its own default loader would stamp them with the current time), and
projects add their own rows with `WeaveClient.add_cost`.

Each fixture holds:
- `calls`: the project's calls exactly as `/calls/stream_query` returns them
  (`include_costs: true`, every column; one JSON object per call as pydantic
  writes the server's `CallSchema`), in the server's order. Fixtures that
  cover deleted calls also hold the server's deleted calls, as the same query
  would give them before deletion plus their `deleted_at` (the server never
  streams them; they check that the library drops them). `mixed-projects`
  holds two projects' streams one after the other.
- `requests`: `/calls/usage` bodies with the server's `calls_usage` answer.
- `trace_requests`: `/trace/usage` bodies with the server's `trace_usage`
  answer.
- `provider_truth`: per call id, per model, what the mock transport served
  to requests made inside that call: `requests` and the token counts as the
  provider reported them (`prompt_tokens` is OpenAI's prompt/input tokens or
  Anthropic's `input_tokens`, which exclude cached tokens; `total_tokens` is
  the reported total, or prompt + completion where the provider reports
  none; cache reads are OpenAI's `cached_tokens` or Anthropic's
  `cache_read_input_tokens`; cache writes Anthropic's
  `cache_creation_input_tokens`). A streamed response counts when it was
  served, read to the end or not (it is billed either way). A failed request
  (an HTTP 529) served no usage.
- `provider_truth_rollup` in each `/calls/usage` request: for each requested
  root, the provider truth summed over the root and its descendants in scope
  (what a rollup that counts every LLM request once should give).

What it makes (counts per fixture in tests/fixtures/client/README.md and
coverage.json, which this script writes too):
- projects acme/agents, acme/evals, acme/support, acme/pricing; 7 fixtures,
  151 calls in the four project fixtures (287 across all seven, with the two
  mid-run snapshots and the mixed one), 63 LLM requests served (6 of them
  streamed) and 1 failed;
- a research agent 5 levels deep (agent, subtask, search, embed, the
  embeddings call), with a retry after a failed Anthropic request, an
  exception caught and re-raised (and caught again by the root), an async
  fan-out of four AsyncOpenAI calls, and one parent calling the Chat and the
  Responses API for one model (its summary entry holds both `prompt_tokens`
  and `input_tokens`);
- streams: OpenAI chat and Responses streams and Anthropic streams
  (`messages.stream` and `create(stream=True)`) read inside their op; an
  OpenAI stream handed back to the caller (its call ends after its parent);
  an Anthropic stream abandoned after one event and collected later (the
  client ends its call then, with the usage it had read: output 0);
  `messages.stream` logs no usage at all in weave 0.53.0 with anthropic
  2.14.0 (the provider truth has it); a background task that outlives the op
  that started it; a job still running in the final fixture;
- snapshots while calls run: `agents-running` (inside the agent's last
  subtask), `stream-open` (a handed-back stream not yet read);
- `weave.Evaluation` over a published `weave.Model` (OpenAI, plus Anthropic
  for hard questions), an LLM-judge `weave.Scorer` and a function scorer;
- usage entries as the client writes them: nested detail objects
  (`prompt_tokens_details`, `completion_tokens_details`, `cache_creation`),
  lists (`service_tier` once summed), no `total_tokens` (Anthropic), cache
  reads and writes, reasoning tokens, `null` members (`server_tool_use`);
  stored prompt costs below zero (Anthropic's `input_tokens` exclude cached
  tokens, and the server subtracts them again);
- UUIDv7 ids; children starting at their parent's instant (ids then order
  them); deleted calls (a whole trace, and one subtree whose usage its
  ancestors' summaries still hold); project price rows (a model with no
  default price, a rate starting mid-run, a rate starting after every call).

Pinned (the venv the committed files were made with):
    weave==0.53.0 openai==3.57.0 anthropic==2.14.0 httpx2==2.16.2 httpx==0.28.1
    pydantic==2.14.4, and the modules weave's trace server imports:
    clickhouse-connect redis ddtrace sqlparse confluent-kafka emoji boto3
    azure-storage-blob google-cloud-storage litellm numpy
The 0.53.0 wheel does not ship `weave.trace_server.model_providers`, which the
server imports; it is stubbed (an empty model-to-provider map) before import.

To regenerate (Python 3.11; about 15 seconds):
    python3.11 -m venv /tmp/weave-venv
    /tmp/weave-venv/bin/pip install weave==0.53.0 openai==3.57.0 anthropic==2.14.0 \\
        httpx2==2.16.2 httpx==0.28.1 pydantic==2.14.4 clickhouse-connect redis ddtrace \\
        sqlparse confluent-kafka emoji boto3 azure-storage-blob google-cloud-storage litellm numpy
    /tmp/weave-venv/bin/python tests/gen/client_corpus.py
"""

from __future__ import annotations

import asyncio
import datetime as _datetime
import gc
import hashlib
import json
import os
import pathlib
import random
import re
import sys
import time as _time
import types

# Set and dict orders must not depend on string hashing.
if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable, *sys.argv])

# Before anything imports weave or litellm: no network, no telemetry.
os.environ.update(
    {
        "WEAVE_PRINT_CALL_LINK": "false",
        "WEAVE_PARALLELISM": "1",
        "WANDB_ERROR_REPORTING": "false",
        "DD_TRACE_ENABLED": "false",
        "DD_ENV": "none",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "WEAVE_SERVER_CACHE_DIR": "/tmp/weave-corpus-cache",
    }
)

# The module the 0.53.0 wheel forgot to ship (imported by the trace server).
_providers_pkg = types.ModuleType("weave.trace_server.model_providers")
_providers_pkg.__path__ = []
_providers = types.ModuleType("weave.trace_server.model_providers.model_providers")
_providers.read_model_to_provider_info_map = lambda *a, **k: {}
_providers.VERTEX_PROVIDER_NAMES = ()
_providers.LLMModelProviderInfo = dict
sys.modules[_providers_pkg.__name__] = _providers_pkg
sys.modules[_providers.__name__] = _providers

import anthropic  # noqa: E402
import httpx2  # noqa: E402
import openai  # noqa: E402
import weave  # noqa: E402
from weave.trace import weave_client  # noqa: E402
from weave.trace.context import call_context, weave_client_context  # noqa: E402
from weave.trace_server import in_memory_trace_server as ims  # noqa: E402
from weave.trace_server import trace_server_interface as tsi  # noqa: E402
from weave.trace_server.external_to_internal_trace_server_adapter import (  # noqa: E402
    ExternalTraceServer,
    IdConverter,
)

VERSIONS = {
    "weave": weave.__version__,
    "openai": openai.__version__,
    "anthropic": anthropic.__version__,
    "httpx2": httpx2.__version__,
}
assert VERSIONS == {"weave": "0.53.0", "openai": "3.57.0", "anthropic": "2.14.0", "httpx2": "2.16.2"}, VERSIONS

OUT = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "client"
UTC = _datetime.timezone.utc

# ---------------------------------------------------------------- the clock


class Clock:
    """A clock that moves only when told to."""

    def __repr__(self) -> str:
        return "Clock()"

    def __init__(self, start: _datetime.datetime):
        self.t = start

    def now(self) -> _datetime.datetime:
        return self.t

    def advance(self, ms: float) -> None:
        self.t += _datetime.timedelta(microseconds=int(ms * 1000))

    def epoch(self) -> float:
        return self.t.timestamp()


CLOCK = Clock(_datetime.datetime(2026, 5, 4, 9, 0, 0, tzinfo=UTC))


class _DateTimeMeta(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, _datetime.datetime)

    def __subclasscheck__(cls, sub):
        return issubclass(sub, _datetime.datetime)


class FixedDateTime(_datetime.datetime, metaclass=_DateTimeMeta):
    @classmethod
    def now(cls, tz=None):
        t = CLOCK.now()
        return t.astimezone(tz) if tz is not None else t.replace(tzinfo=None)

    @classmethod
    def utcnow(cls):
        return CLOCK.now().replace(tzinfo=None)


FIXED_DATETIME_MODULE = types.SimpleNamespace(**{k: getattr(_datetime, k) for k in dir(_datetime) if not k.startswith("__")})
FIXED_DATETIME_MODULE.datetime = FixedDateTime
FIXED_TIME_MODULE = types.SimpleNamespace(
    **{k: getattr(_time, k) for k in dir(_time) if not k.startswith("__")}
)
FIXED_TIME_MODULE.time = CLOCK.epoch
FIXED_TIME_MODULE.perf_counter = CLOCK.epoch
FIXED_TIME_MODULE.monotonic = CLOCK.epoch


class SeededIds:
    """UUIDv7 (RFC 9562) with the fixed clock's milliseconds and seeded bits."""

    def __init__(self, seed: str):
        self.rng = random.Random(seed)

    def __call__(self) -> str:
        value = bytearray(self.rng.getrandbits(128).to_bytes(16, "big"))
        ms = int(CLOCK.epoch() * 1000)
        value[0:6] = ms.to_bytes(6, "big")
        value[6] = (value[6] & 0x0F) | 0x70
        value[8] = (value[8] & 0x3F) | 0x80
        h = value.hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def install_determinism() -> None:
    import weave.evaluation.eval as weave_eval
    import weave.flow.model as weave_model
    import weave.integrations.openai.openai_sdk as openai_sdk
    import weave.trace.api as weave_api
    import weave.utils.stream_metrics as stream_metrics

    weave_client.datetime = FIXED_DATETIME_MODULE
    ims.datetime = FIXED_DATETIME_MODULE
    weave_eval.datetime = FixedDateTime
    for m in (stream_metrics, openai_sdk, weave_model):
        m.time = FIXED_TIME_MODULE
    client_ids = SeededIds("client ids")
    weave_client.generate_id = client_ids
    weave_api.generate_id = client_ids
    ims.generate_id = SeededIds("server ids")
    # Tracebacks name files relative to where they live (the checkout, the
    # venv and the Python install differ between machines).
    from weave.utils.exception import exception_to_dict

    def exception_json(exception: BaseException) -> str:
        d = exception_to_dict(exception)
        for frame in d.get("traceback") or []:
            frame["filename"] = relative_path(frame["filename"])
        return json.dumps(d)

    weave_client.exception_to_json_str = exception_json
    # The machine the traces were "made on".
    weave_client.get_capture_info = lambda: {
        "client_version": weave.__version__,
        "source": "python-sdk",
        "sys_version": "3.11.7",
        "os_name": "Linux",
        "os_version": "#1 SMP",
        "os_release": "6.1.0",
    }


def relative_path(filename: str) -> str:
    here = pathlib.Path(__file__).resolve()
    path = pathlib.Path(filename)
    if path == here:
        return "tests/gen/client_corpus.py"
    parts = path.parts
    for anchor in ("site-packages", f"python{sys.version_info.major}.{sys.version_info.minor}"):
        if anchor in parts:
            return "/".join(parts[len(parts) - parts[::-1].index(anchor):])
    return path.name


ADDRESS = re.compile(r" at 0x[0-9a-f]+")


def scrub(value):
    """Inputs as the client logs them, without this process's memory
    addresses: an object the client would log as its default repr ("<X object
    at 0x…>") gets a fixed repr. The objects themselves are kept (the
    integrations read them: an SDK's omitted `stream` must stay falsy)."""
    if isinstance(value, dict):
        for v in value.values():
            scrub(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            scrub(v)
    elif not isinstance(value, (str, int, float, bool, type(None))) and ADDRESS.search(repr(value)):
        cls = type(value)
        name = f"<{cls.__module__}.{cls.__qualname__}>"
        cls.__repr__ = lambda self, name=name: name
    return value


# ---------------------------------------------------------------- the server


class ProjectIds(IdConverter):
    """External 'entity/project' ids to the internal ones and back."""

    def ext_to_int_project_id(self, project_id: str) -> str:
        return "p" + project_id.encode().hex()

    def int_to_ext_project_id(self, project_id: str) -> str | None:
        return bytes.fromhex(project_id[1:]).decode()

    def ext_to_int_run_id(self, run_id: str) -> str:
        return run_id

    def int_to_ext_run_id(self, run_id: str) -> str:
        return run_id

    def ext_to_int_user_id(self, user_id: str) -> str:
        return user_id

    def int_to_ext_user_id(self, user_id: str) -> str:
        return user_id


class SignedInServer(ExternalTraceServer):
    """The external adapter with a signed-in user, as the HTTP service adds one."""

    def _as_user(self, req):
        if getattr(req, "wb_user_id", "") is None:
            req = req.model_copy(update={"wb_user_id": "user-1"})
        return req

    def calls_delete(self, req):
        return super().calls_delete(self._as_user(req))

    def cost_create(self, req):
        return super().cost_create(self._as_user(req))


def default_price_rows() -> list[dict]:
    """The llm_token_prices rows a production server has: the seed migration's
    and cost_checkpoint.json's (as its insert_costs.py writes them)."""
    seed_date = "2024-10-01T00:00:00+00:00"
    rows = []
    for row in ims._load_default_cost_definitions():
        rows.append({**row, "effective_date": seed_date, "created_at": seed_date, "cache_read_input_token_cost": 0.0, "cache_creation_input_token_cost": 0.0})
    checkpoint = json.loads((pathlib.Path(ims.__file__).parent / "costs" / "cost_checkpoint.json").read_text())
    for llm_id, costs in checkpoint.items():
        for cost in costs:
            date = _datetime.datetime.strptime(cost["created_at"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).isoformat()
            rows.append(
                {
                    "pricing_level": "default",
                    "pricing_level_id": "default",
                    "provider_id": cost.get("provider", "default"),
                    "llm_id": llm_id,
                    "effective_date": date,
                    "prompt_token_cost": cost.get("input", 0),
                    "completion_token_cost": cost.get("output", 0),
                    "cache_read_input_token_cost": cost.get("cache_read_input", 0),
                    "cache_creation_input_token_cost": cost.get("cache_creation_input", 0),
                    "prompt_token_cost_unit": "USD",
                    "completion_token_cost_unit": "USD",
                    "created_by": "system",
                    "created_at": date,
                }
            )
    for i, row in enumerate(rows):
        row["id"] = f"default-{i:05d}"
    return rows


INTERNAL = ims.InMemoryTraceServer()
INTERNAL._llm_token_prices.extend(default_price_rows())
SERVER = SignedInServer(INTERNAL, ProjectIds())
CLIENTS: dict[str, weave_client.WeaveClient] = {}


def use_project(project: str) -> weave_client.WeaveClient:
    """Makes the client of `project` the global one (creating it once)."""
    if project not in CLIENTS:
        entity, name = project.split("/")
        CLIENTS[project] = weave_client.WeaveClient(
            entity, name, SERVER, ensure_project_exists=False, postprocess_inputs=scrub, postprocess_output=scrub
        )
    # Switching the global client needs a reset first.
    weave_client_context.set_weave_client_global(None)
    weave_client_context.set_weave_client_global(CLIENTS[project])
    return CLIENTS[project]


def flush_all() -> None:
    for client in CLIENTS.values():
        client.flush()


# ---------------------------------------------------------------- the providers

# call id -> model -> counters served to requests made inside that call.
PROVIDER_TRUTH: dict[str, dict[str, dict[str, int]]] = {}
SERVED = {"requests": 0, "failed": 0, "streams": 0}
COUNTERS = ["requests", "prompt_tokens", "completion_tokens", "total_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"]


def is_llm_call(call) -> bool:
    return "/op/openai." in call.op_name or "/op/anthropic." in call.op_name


def record_truth(model: str, counters: dict[str, int]) -> None:
    """Adds what was served to the LLM call that made the request."""
    call = call_context.get_current_call()
    assert call is not None, "every mocked request is made inside a traced call"
    if not is_llm_call(call):
        # Anthropic's messages.stream(): the traced call returns a stream
        # manager, which sends the request when the caller enters it, so its
        # call is open but no longer current.
        (call,) = [c for c in call._children if c.ended_at is None and is_llm_call(c)]
    entry = PROVIDER_TRUTH.setdefault(call.id, {}).setdefault(model, dict.fromkeys(COUNTERS, 0))
    for k in COUNTERS:
        entry[k] += counters.get(k, 0)
    SERVED["requests"] += 1


def request_rng(request: httpx2.Request) -> random.Random:
    """Token counts depend on the request alone (not on the order requests
    arrive in)."""
    return random.Random(hashlib.sha256(request.content).hexdigest())


def directive(request: httpx2.Request, name: str, default=None):
    value = request.headers.get(f"x-mock-{name}")
    return default if value is None else value


def sse(events: list[tuple[str | None, dict | str]]) -> bytes:
    out = []
    for event, data in events:
        if event:
            out.append(f"event: {event}\n")
        out.append(f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n")
    return "".join(out).encode()


def openai_chat(request, body, rng):
    model = {"gpt-4o": "gpt-4o-2024-08-06", "gpt-4o-mini": "gpt-4o-mini-2024-07-18", "gpt-4.1": "gpt-4.1-2025-04-14", "o4-mini": "o4-mini-2025-04-16"}.get(body["model"], body["model"])
    prompt = rng.randrange(40, 1500)
    cached = int(directive(request, "cached", 0))
    cached = min(cached, prompt) if cached >= 0 else 0
    reasoning = int(directive(request, "reasoning", 0))
    completion = rng.randrange(5, 400) + reasoning
    usage = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": reasoning, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
    }
    truth = {"requests": 1, "prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion, "cache_read_input_tokens": cached}
    rid = f"chatcmpl-{rng.getrandbits(48):012x}"
    text = f"answer {rng.randrange(1000)}"
    record_truth(model, truth)
    if body.get("stream"):
        SERVED["streams"] += 1
        chunks = [
            {"id": rid, "object": "chat.completion.chunk", "created": 1777885200, "model": model, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]},
            {"id": rid, "object": "chat.completion.chunk", "created": 1777885200, "model": model, "choices": [{"index": 0, "delta": {"content": text[:4]}, "finish_reason": None}]},
            {"id": rid, "object": "chat.completion.chunk", "created": 1777885200, "model": model, "choices": [{"index": 0, "delta": {"content": text[4:]}, "finish_reason": None}]},
            {"id": rid, "object": "chat.completion.chunk", "created": 1777885200, "model": model, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        ]
        if (body.get("stream_options") or {}).get("include_usage"):
            chunks.append({"id": rid, "object": "chat.completion.chunk", "created": 1777885200, "model": model, "choices": [], "usage": usage, "service_tier": "default"})
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=sse([(None, c) for c in chunks] + [(None, "[DONE]")]))
    return httpx2.Response(
        200,
        json={
            "id": rid,
            "object": "chat.completion",
            "created": 1777885200,
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text, "refusal": None}, "finish_reason": "stop", "logprobs": None}],
            "usage": usage,
            "service_tier": "default",
            "system_fingerprint": "fp_0123456789",
        },
    )


def openai_responses(request, body, rng):
    model = {"gpt-4.1": "gpt-4.1-2025-04-14", "o4-mini": "o4-mini-2025-04-16", "gpt-4o": "gpt-4o-2024-08-06"}.get(body["model"], body["model"])
    prompt = rng.randrange(40, 2000)
    cached = min(int(directive(request, "cached", 0)), prompt)
    reasoning = int(directive(request, "reasoning", 0))
    completion = rng.randrange(5, 300) + reasoning
    usage = {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": cached},
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": prompt + completion,
    }
    record_truth(model, {"requests": 1, "prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion, "cache_read_input_tokens": cached})
    rid = f"resp_{rng.getrandbits(64):016x}"
    text = f"response {rng.randrange(1000)}"
    message = {"id": f"msg_{rng.getrandbits(64):016x}", "type": "message", "status": "completed", "role": "assistant", "content": [{"type": "output_text", "text": text, "annotations": []}]}
    output = [message]
    if reasoning:
        output = [{"id": f"rs_{rng.getrandbits(64):016x}", "type": "reasoning", "summary": []}, message]
    response = {
        "id": rid,
        "object": "response",
        "created_at": 1777885200,
        "status": "completed",
        "model": model,
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": usage,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "metadata": {},
        "temperature": 1.0,
        "top_p": 1.0,
        "text": {"format": {"type": "text"}},
        "truncation": "disabled",
        "service_tier": "default",
    }
    if body.get("stream"):
        SERVED["streams"] += 1
        created = {**response, "status": "in_progress", "output": [], "usage": None}
        events = [
            ("response.created", {"type": "response.created", "sequence_number": 0, "response": created}),
            ("response.output_text.delta", {"type": "response.output_text.delta", "sequence_number": 1, "item_id": message["id"], "output_index": len(output) - 1, "content_index": 0, "delta": text, "logprobs": []}),
            ("response.completed", {"type": "response.completed", "sequence_number": 2, "response": response}),
        ]
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=sse(events))
    return httpx2.Response(200, json=response)


def openai_embeddings(request, body, rng):
    inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
    prompt = sum(rng.randrange(3, 60) for _ in inputs)
    record_truth(body["model"], {"requests": 1, "prompt_tokens": prompt, "total_tokens": prompt})
    return httpx2.Response(
        200,
        json={
            "object": "list",
            "data": [{"object": "embedding", "index": i, "embedding": [round(rng.uniform(-1, 1), 4) for _ in range(4)]} for i in range(len(inputs))],
            "model": body["model"],
            "usage": {"prompt_tokens": prompt, "total_tokens": prompt},
        },
    )


def anthropic_messages(request, body, rng):
    model = body["model"]
    uncached = rng.randrange(3, 400)
    read = int(directive(request, "cache-read", 0))
    write = int(directive(request, "cache-write", 0))
    output_tokens = rng.randrange(5, 500)
    usage = {
        "input_tokens": uncached,
        "output_tokens": output_tokens,
        "cache_creation_input_tokens": write,
        "cache_read_input_tokens": read,
        "cache_creation": {"ephemeral_5m_input_tokens": write, "ephemeral_1h_input_tokens": 0},
        "server_tool_use": None,
        "service_tier": "standard",
    }
    record_truth(model, {"requests": 1, "prompt_tokens": uncached, "completion_tokens": output_tokens, "total_tokens": uncached + output_tokens, "cache_read_input_tokens": read, "cache_creation_input_tokens": write})
    mid = f"msg_{rng.getrandbits(64):016x}"
    text = f"claude says {rng.randrange(1000)}"
    if body.get("stream"):
        SERVED["streams"] += 1
        start_usage = {**usage, "output_tokens": 1}
        events = [
            ("message_start", {"type": "message_start", "message": {"id": mid, "type": "message", "role": "assistant", "model": model, "content": [], "stop_reason": None, "stop_sequence": None, "usage": start_usage}}),
            ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
            ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": {"output_tokens": output_tokens}}),
            ("message_stop", {"type": "message_stop"}),
        ]
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=sse(events))
    return httpx2.Response(
        200,
        json={"id": mid, "type": "message", "role": "assistant", "model": model, "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "stop_sequence": None, "usage": usage},
    )


def serve(request: httpx2.Request) -> httpx2.Response:
    body = json.loads(request.content)
    rng = request_rng(request)
    CLOCK.advance(float(directive(request, "latency-ms", rng.randrange(150, 2500))))
    fail = directive(request, "fail")
    if fail:
        SERVED["failed"] += 1
        status = int(fail)
        if request.url.path.endswith("/messages"):
            return httpx2.Response(status, json={"type": "error", "error": {"type": "overloaded_error" if status >= 500 else "rate_limit_error", "message": "try again"}})
        return httpx2.Response(status, json={"error": {"message": "Rate limit reached" if status == 429 else "The server had an error", "type": "requests", "param": None, "code": None}})
    path = request.url.path
    if path.endswith("/chat/completions"):
        return openai_chat(request, body, rng)
    if path.endswith("/responses"):
        return openai_responses(request, body, rng)
    if path.endswith("/embeddings"):
        return openai_embeddings(request, body, rng)
    if path.endswith("/messages"):
        return anthropic_messages(request, body, rng)
    raise AssertionError(f"unmocked {path}")


TRANSPORT = httpx2.MockTransport(serve)
OPENAI = openai.OpenAI(api_key="sk-test", http_client=httpx2.Client(transport=TRANSPORT), max_retries=0)
AOPENAI = openai.AsyncOpenAI(api_key="sk-test", http_client=httpx2.AsyncClient(transport=TRANSPORT), max_retries=0)
ANTHROPIC = anthropic.Anthropic(api_key="sk-ant-test", http_client=httpx2.Client(transport=TRANSPORT), max_retries=0)
AANTHROPIC = anthropic.AsyncAnthropic(api_key="sk-ant-test", http_client=httpx2.AsyncClient(transport=TRANSPORT), max_retries=0)


def h(**directives) -> dict:
    """Directives to the mocked provider, sent as request headers."""
    return {"extra_headers": {f"x-mock-{k.replace('_', '-')}": str(v) for k, v in directives.items()}}


def work(ms: float) -> None:
    """Time spent in user code."""
    CLOCK.advance(ms)


# ---------------------------------------------------------------- snapshots

SNAPSHOTS: list[dict] = []


def stream_query(project: str) -> list[dict]:
    """What `/calls/stream_query` sends a browser for `project`: every call,
    every column, costs included, in the server's order."""
    req = tsi.CallsQueryReq(project_id=project, include_costs=True)
    return [json.loads(c.model_dump_json()) for c in SERVER.calls_query_stream(req)]


def deleted_calls(project: str) -> list[dict]:
    """The project's deleted calls as the same query gave them before they were
    deleted, with their `deleted_at`."""
    internal_id = SERVER._idc.ext_to_int_project_id(project)
    recs = [r for r in INTERNAL._calls.values() if r.project_id == internal_id and r.deleted_at is not None]
    out = []
    for rec in recs:
        deleted_at = rec.deleted_at
        rec.deleted_at = None
        try:
            (call,) = SERVER.calls_query_stream(tsi.CallsQueryReq(project_id=project, include_costs=True, filter=tsi.CallsFilter(call_ids=[rec.id])))
        finally:
            rec.deleted_at = deleted_at
        out.append(json.loads(call.model_copy(update={"deleted_at": deleted_at}).model_dump_json()))
    return out


def server_order(calls: list[dict]) -> list[dict]:
    return sorted(calls, key=lambda c: (_datetime.datetime.fromisoformat(c["started_at"].replace("Z", "+00:00")), c["id"]))


def scope(project: str, call_ids: list[str], limit: int) -> list[dict]:
    """The calls the server aggregates for a /calls/usage request."""
    roots = list(SERVER.calls_query_stream(tsi.CallsQueryReq(project_id=project, filter=tsi.CallsFilter(call_ids=call_ids), columns=["trace_id"])))
    traces = sorted({c.trace_id for c in roots})
    if not traces:
        return []
    return [c.model_dump() for c in SERVER.calls_query_stream(tsi.CallsQueryReq(project_id=project, filter=tsi.CallsFilter(trace_ids=traces), columns=["id", "parent_id"], limit=limit))]


def truth_rollup(project: str, call_ids: list[str], limit: int) -> dict:
    """Provider truth summed over each requested call and its descendants in
    the request's scope."""
    calls = scope(project, call_ids, limit)
    in_scope = {c["id"] for c in calls}
    children: dict[str, list[str]] = {}
    for c in calls:
        if c["parent_id"] in in_scope:
            children.setdefault(c["parent_id"], []).append(c["id"])
    out = {}
    for root in dict.fromkeys(call_ids):
        total: dict[str, dict[str, int]] = {}
        stack = [root] if root in in_scope else []
        while stack:
            cid = stack.pop()
            stack.extend(children.get(cid, []))
            for model, counters in PROVIDER_TRUTH.get(cid, {}).items():
                t = total.setdefault(model, dict.fromkeys(COUNTERS, 0))
                for k in COUNTERS:
                    t[k] += counters[k]
        out[root] = {m: total[m] for m in sorted(total)}
    return out


def usage_request(project: str, call_ids: list[str], include_costs: bool, limit: int | None = None) -> dict:
    body = {"project_id": project, "call_ids": call_ids, "include_costs": include_costs}
    if limit is not None:
        body["limit"] = limit
    res = SERVER.calls_usage(tsi.CallsUsageReq(**body))
    return {
        "request": body,
        "expected": res.model_dump(mode="json"),
        "provider_truth_rollup": truth_rollup(project, call_ids, limit or 10_000),
    }


def trace_request(project: str, include_costs: bool, trace_ids=None, call_ids=None, limit: int | None = None) -> dict:
    body: dict = {"project_id": project, "include_costs": include_costs}
    if trace_ids is not None or call_ids is not None:
        body["filter"] = {k: v for k, v in {"trace_ids": trace_ids, "call_ids": call_ids}.items() if v is not None}
    if limit is not None:
        body["limit"] = limit
    res = SERVER.trace_usage(tsi.TraceUsageReq(**body))
    return {"request": body, "expected": res.model_dump(mode="json")}


def requests_for(project: str, calls: list[dict], rng: random.Random) -> tuple[list[dict], list[dict]]:
    """Several root sets, with and without costs, and limits."""
    live = [c for c in calls if c.get("deleted_at") is None and c["project_id"] == project]
    roots = [c["id"] for c in live if c["parent_id"] is None]
    inner = [c["id"] for c in live if c["parent_id"] is not None]
    deleted = [c["id"] for c in calls if c.get("deleted_at") is not None and c["project_id"] == project]
    traces = sorted({c["trace_id"] for c in live})
    reqs = [usage_request(project, roots, True), usage_request(project, roots, False)]
    for r in roots:
        reqs.append(usage_request(project, [r], True))
    if inner:
        picked = rng.sample(inner, min(4, len(inner)))
        reqs.append(usage_request(project, picked, True))
        reqs.append(usage_request(project, [roots[0], picked[0], roots[0], "not-a-call-id", *deleted[:2]], True))
    for limit in sorted({max(1, len(live) // 3), max(1, (2 * len(live)) // 3)}):
        reqs.append(usage_request(project, roots, True, limit=limit))
    trace_reqs = [
        trace_request(project, True),
        trace_request(project, False),
        trace_request(project, True, trace_ids=[traces[0]]),
        trace_request(project, True, trace_ids=traces[1:3] or traces),
        trace_request(project, False, call_ids=rng.sample([c["id"] for c in live], min(6, len(live)))),
        trace_request(project, True, limit=max(1, len(live) // 2)),
    ]
    return reqs, trace_reqs


def snapshot(name: str, description: str, projects: list[str], with_deleted: bool = False) -> None:
    """Records the fixture `name` from the server's state now."""
    flush_all()
    calls: list[dict] = []
    for p in projects:
        project_calls = stream_query(p)
        if with_deleted:
            project_calls = server_order(project_calls + deleted_calls(p))
        calls += project_calls
    rng = random.Random(name)
    requests: list[dict] = []
    trace_requests: list[dict] = []
    for p in projects:
        r, t = requests_for(p, calls, rng)
        requests += r
        trace_requests += t
    ids = {c["id"] for c in calls}
    truth = {cid: {m: PROVIDER_TRUTH[cid][m] for m in sorted(PROVIDER_TRUTH[cid])} for cid in sorted(PROVIDER_TRUTH) if cid in ids}
    SNAPSHOTS.append(
        {
            "name": name,
            "description": description,
            "generator": "tests/gen/client_corpus.py",
            "versions": VERSIONS,
            "taken_at": CLOCK.now().isoformat(),
            "projects": projects,
            "calls": calls,
            "requests": requests,
            "trace_requests": trace_requests,
            "provider_truth": truth,
        }
    )


class Hooks:
    """What the traced functions reach outside themselves. The client saves an
    op's code with the globals it refers to, so these live behind one object
    whose repr is fixed (a list of tasks, or of snapshots, would change the
    ops' digests from run to run)."""

    def __init__(self):
        self.abandoned: list = []
        self.background: list = []
        self.release: asyncio.Event | None = None

    def __repr__(self) -> str:
        return "Hooks()"

    @staticmethod
    def snapshot(*args, **kwargs) -> None:
        snapshot(*args, **kwargs)


HOOKS = Hooks()


# ---------------------------------------------------------------- project acme/agents: an agent


@weave.op
def plan(question: str) -> list[str]:
    res = OPENAI.chat.completions.create(model="gpt-4o", messages=[{"role": "system", "content": "Plan in steps."}, {"role": "user", "content": question}], **h(cached=1024))
    work(3)
    return [f"step {i}: {res.choices[0].message.content}" for i in range(3)]


@weave.op
def embed(texts: list[str]) -> int:
    res = OPENAI.embeddings.create(model="text-embedding-3-small", input=texts)
    return len(res.data)


@weave.op
def search(query: str) -> list[str]:
    embed([query, query + " (rephrased)"])
    work(40)
    return [f"doc-{len(query) % 7}", f"doc-{len(query) % 5}"]


@weave.op
def ask_claude(prompt: str, attempt: int) -> str:
    fail = {"fail": 529} if attempt == 0 and "flaky" in prompt else {}
    msg = ANTHROPIC.messages.create(
        model="claude-sonnet-4-20250514",
        max_tokens=512,
        system=[{"type": "text", "text": "You are careful.", "cache_control": {"type": "ephemeral"}}],
        messages=[{"role": "user", "content": prompt}],
        **h(cache_read=2048 if attempt else 0, cache_write=0 if attempt else 2048, **fail),
    )
    return msg.content[0].text


@weave.op
def summarize_with_retry(prompt: str) -> str:
    for attempt in range(3):
        try:
            return ask_claude(prompt, attempt)
        except anthropic.APIStatusError:
            work(500 * (attempt + 1))
    raise RuntimeError("gave up")


@weave.op
def risky_tool(step: str) -> str:
    OPENAI.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": f"check {step}"}])
    raise ValueError(f"tool failed on {step!r}")


@weave.op
def run_subtask(step: str, index: int) -> str:
    docs = search(step)
    if index == 1:
        try:
            risky_tool(step)
        except ValueError as e:
            # Caught, logged, re-raised as the caller's error.
            raise RuntimeError(f"subtask {index} failed") from e
    prompt = f"{'flaky ' if index == 2 else ''}summarize {step} with {docs}"
    if index == 2:
        HOOKS.snapshot(
            "agents-running",
            "acme/agents while the research agent is in its last subtask: the root, the subtask and its "
            "summarize call are running (summary.weave.status 'running', no ended_at), with the chat "
            "session and the evaluation project not yet started",
            ["acme/agents"],
        )
    return summarize_with_retry(prompt)


@weave.op
def reflect(notes: list[str]) -> str:
    # One parent, one model, both APIs: the Chat API's prompt_tokens and the
    # Responses API's input_tokens end up in one summary entry.
    a = OPENAI.responses.create(model="gpt-4.1", input=f"critique {notes}", reasoning={"effort": "low"}, **h(reasoning=0, cached=256))
    b = OPENAI.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": a.output_text}])
    c = OPENAI.responses.create(model="o4-mini", input="double-check", reasoning={"effort": "medium"}, **h(reasoning=384))
    return b.choices[0].message.content + c.output_text


@weave.op
async def tool_worker(name: str) -> str:
    res = await AOPENAI.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": f"run {name}"}])
    return res.choices[0].message.content


@weave.op
async def parallel_tools(names: list[str]) -> list[str]:
    return list(await asyncio.gather(*(tool_worker(n) for n in names)))


@weave.op
async def research_agent(question: str) -> dict:
    steps = plan(question)
    results = []
    for i, step in enumerate(steps):
        try:
            results.append(run_subtask(step, i))
        except RuntimeError as e:
            results.append(f"skipped: {e}")
    tools = await parallel_tools(["calculator", "browser", "python", "sql"])
    verdict = reflect(results + tools)
    return {"results": results, "tools": tools, "verdict": verdict}


# ---------------------------------------------------------------- streams


@weave.op
def stream_inside(prompt: str) -> str:
    stream = OPENAI.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": prompt}], stream=True)
    return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)


@weave.op
def claude_stream_inside(prompt: str) -> str:
    text = []
    with ANTHROPIC.messages.stream(model="claude-sonnet-4-20250514", max_tokens=256, messages=[{"role": "user", "content": prompt}], **h(cache_read=1500)) as stream:
        for t in stream.text_stream:
            text.append(t)
    raw = ANTHROPIC.messages.create(model="claude-3-5-haiku-20241022", max_tokens=64, messages=[{"role": "user", "content": prompt}], stream=True)
    for event in raw:
        pass
    return "".join(text)


@weave.op
def responses_stream_inside(prompt: str) -> str:
    out = []
    for event in OPENAI.responses.create(model="o4-mini", input=prompt, stream=True, **h(reasoning=128)):
        if event.type == "response.output_text.delta":
            out.append(event.delta)
    return "".join(out)


@weave.op
def start_stream(prompt: str):
    # The stream is handed back: its call ends when the caller has read it,
    # after this call ended, so it is not in this call's summary.
    return OPENAI.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": prompt}], stream=True)


@weave.op
def peek_stream(prompt: str) -> str:
    # Reads the first event and drops the stream: the provider served (and
    # bills) the whole response; the client ends the call when the stream is
    # collected, with the usage it had seen.
    stream = ANTHROPIC.messages.create(model="claude-sonnet-4-20250514", max_tokens=256, messages=[{"role": "user", "content": prompt}], stream=True, **h(cache_read=900))
    first = next(iter(stream))
    HOOKS.abandoned.append(stream)
    return first.type



@weave.op
async def background_summary(text: str) -> str:
    msg = await AANTHROPIC.messages.create(model="claude-3-5-haiku-20241022", max_tokens=128, messages=[{"role": "user", "content": text}], **h(latency_ms=4000))
    return msg.content[0].text


@weave.op
async def kick_off_background(text: str) -> str:
    # A background task started here outlives this call.
    HOOKS.background.append(asyncio.ensure_future(background_summary(text)))
    await asyncio.sleep(0)
    work(20)
    return "started"



@weave.op
async def chat_session(user: str) -> dict:
    a = stream_inside(f"hello from {user}")
    b = claude_stream_inside("tell me a story")
    c = responses_stream_inside("think about it")
    stream = start_stream("stream this back")
    work(10)
    HOOKS.snapshot(
        "stream-open",
        "acme/agents with a stream handed back to its caller and not yet read: the stream's call is "
        "running while its parent has ended; the session root is running too",
        ["acme/agents"],
    )
    handed = "".join(ch.choices[0].delta.content or "" for ch in stream if ch.choices)
    d = peek_stream("start and stop")
    await kick_off_background("summarize the session")
    work(50)
    return {"a": a, "b": b, "c": c, "handed": handed, "peek": d}


@weave.op
async def long_job(n: int) -> str:
    OPENAI.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "begin"}])
    await HOOKS.release.wait()
    return "done"



# ---------------------------------------------------------------- project acme/evals: an evaluation


class QaModel(weave.Model):
    model_name: str
    style: str

    @weave.op
    async def predict(self, question: str) -> str:
        res = await AOPENAI.chat.completions.create(model=self.model_name, messages=[{"role": "system", "content": self.style}, {"role": "user", "content": question}])
        if "hard" in question:
            # A second opinion for hard questions.
            msg = await AANTHROPIC.messages.create(model="claude-sonnet-4-20250514", max_tokens=200, messages=[{"role": "user", "content": question}], **h(cache_read=600, cache_write=300))
            return res.choices[0].message.content + " / " + msg.content[0].text
        return res.choices[0].message.content


class JudgeScorer(weave.Scorer):
    rubric: str

    @weave.op
    async def score(self, output: str, expected: str) -> dict:
        msg = await AANTHROPIC.messages.create(model="claude-3-5-haiku-20241022", max_tokens=16, messages=[{"role": "user", "content": f"{self.rubric}: {output} vs {expected}"}])
        return {"correct": len(msg.content[0].text) % 2 == 0}


@weave.op
def exact_match(output: str, expected: str) -> dict:
    return {"match": output == expected}


def run_evaluation() -> None:
    use_project("acme/evals")
    model = QaModel(name="qa-model", model_name="gpt-4o-mini", style="Answer briefly.")
    judge = JudgeScorer(name="judge", rubric="Is it right?")
    dataset = weave.Dataset(name="qa", rows=[{"question": q, "expected": e} for q, e in [("2+2?", "4"), ("capital of France?", "Paris"), ("a hard proof?", "QED"), ("colour of the sky?", "blue")]])
    # Published first, so their digests (and the evaluation's) are fixed.
    weave.publish(model)
    weave.publish(judge)
    weave.publish(exact_match)
    weave.publish(dataset)
    evaluation = weave.Evaluation(name="qa-eval", dataset=dataset, scorers=[judge, exact_match], evaluation_name="qa-eval-run")
    weave.publish(evaluation)
    asyncio.run(evaluation.evaluate(model))


# ---------------------------------------------------------------- project acme/support: caching, deletions


@weave.op
def classify(ticket: str) -> str:
    msg = ANTHROPIC.messages.create(model="claude-3-5-haiku-20241022", max_tokens=8, messages=[{"role": "user", "content": ticket}])
    return "billing" if len(msg.content[0].text) % 2 else "bug"


@weave.op
def draft_reply(ticket: str, turn: int) -> str:
    # The long system prompt is written to the cache on the first turn and
    # read from it afterwards: Anthropic's input_tokens exclude both.
    msg = ANTHROPIC.messages.create(
        model="claude-sonnet-4-20250514",
        max_tokens=400,
        system=[{"type": "text", "text": "Support handbook ...", "cache_control": {"type": "ephemeral"}}],
        messages=[{"role": "user", "content": ticket}],
        **(h(cache_write=3000) if turn == 0 else h(cache_read=3000 + 150 * turn, cache_write=150)),
    )
    return msg.content[0].text


@weave.op
def polish(text: str) -> str:
    res = OPENAI.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": f"polish: {text}"}], **h(cached=512))
    return res.choices[0].message.content


@weave.op
def lookup_account(ticket: str) -> str:
    embed([ticket])
    return "acct-1"


@weave.op
def handle_ticket(ticket: str, turn: int) -> str:
    kind = classify(ticket)
    if kind == "billing" or turn % 2:
        lookup_account(ticket)
    reply = draft_reply(ticket, turn)
    work(15)
    return polish(reply)


def run_support() -> list:
    use_project("acme/support")
    calls = []
    for turn, ticket in enumerate(["my invoice is wrong", "app crashes on login", "refund please", "how do I export?", "login again"]):
        _, call = handle_ticket.call(ticket, turn)
        calls.append(call)
        work(60_000)
    return calls


# ---------------------------------------------------------------- project acme/pricing: price overrides


@weave.op
def priced_step(prompt: str) -> str:
    OPENAI.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": prompt}], **h(cached=128))
    ANTHROPIC.messages.create(model="claude-sonnet-4-20250514", max_tokens=64, messages=[{"role": "user", "content": prompt}], **h(cache_read=700))
    OPENAI.chat.completions.create(model="ft:gpt-4o-mini-2024-07-18:acme::b7x2", messages=[{"role": "user", "content": prompt}])
    return "ok"


@weave.op
def priced_pipeline(batch: int) -> str:
    for i in range(2):
        priced_step(f"batch {batch} item {i}")
    return "ok"


def run_pricing() -> None:
    client = use_project("acme/pricing")
    # The fine-tuned model has no default price: priced from the start.
    client.add_cost(llm_id="ft:gpt-4o-mini-2024-07-18:acme::b7x2", prompt_token_cost=3e-7, completion_token_cost=1.2e-6, effective_date=_datetime.datetime(2026, 1, 1, tzinfo=UTC))
    priced_pipeline(0)
    work(3_600_000)
    # A negotiated rate from now on: calls before keep the default price.
    client.add_cost(llm_id="gpt-4o-mini-2024-07-18", prompt_token_cost=1e-7, completion_token_cost=4e-7)
    # A rate that takes effect after every call: the default still applies.
    client.add_cost(llm_id="claude-sonnet-4-20250514", prompt_token_cost=1e-6, completion_token_cost=5e-6, effective_date=_datetime.datetime(2027, 1, 1, tzinfo=UTC))
    work(1000)
    priced_pipeline(1)


# ---------------------------------------------------------------- main


async def agents_project() -> None:
    HOOKS.release = asyncio.Event()
    await research_agent("Why is the sky blue?")
    work(30_000)
    await chat_session("ada")
    work(5_000)
    # A job still running when the final fixtures are taken.
    job = asyncio.ensure_future(long_job(3))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    for task in HOOKS.background:
        await task
    # The abandoned stream is collected: the client ends its call now, long
    # after its parent, with the usage it had read (its first event's).
    work(2_000)
    HOOKS.abandoned.clear()
    gc.collect()
    return job


def deleted_and_more(support_calls: list) -> None:
    client = use_project("acme/support")
    # A whole ticket (its root and everything below it) ...
    client.delete_call(support_calls[1])
    # ... and one subtree of another, whose usage the root's summary still holds.
    flush_all()
    (draft,) = [c for c in client.get_calls(filter={"trace_ids": [support_calls[3].trace_id]}) if c.op_name.split("/")[-1].startswith("draft_reply")]
    client.delete_call(draft)


def describe(fixture: dict) -> dict:
    """What a fixture covers, counted from its calls."""
    calls = fixture["calls"]
    live = [c for c in calls if c.get("deleted_at") is None]
    ops = {}
    shapes = {"nested_detail_objects": 0, "list_values": 0, "entries_without_total_tokens": 0, "negative_prompt_costs": 0, "prompt_and_input_tokens": 0}
    for c in calls:
        op = c["op_name"].split("/")[-1].split(":")[0]
        ops[op] = ops.get(op, 0) + 1
        usage = (c.get("summary") or {}).get("usage") or {}
        for model, entry in usage.items():
            if any(isinstance(v, dict) for v in entry.values()):
                shapes["nested_detail_objects"] += 1
            if any(isinstance(v, list) for v in entry.values()):
                shapes["list_values"] += 1
            if "total_tokens" not in entry:
                shapes["entries_without_total_tokens"] += 1
            if entry.get("prompt_tokens") and entry.get("input_tokens"):
                shapes["prompt_and_input_tokens"] += 1
        for model, cost in ((c.get("summary") or {}).get("weave") or {}).get("costs", {}).items():
            if cost["prompt_tokens_total_cost"] < 0:
                shapes["negative_prompt_costs"] += 1
    by_id = {c["id"]: c for c in live}
    starts_with_parent = sum(1 for c in live if c["parent_id"] in by_id and by_id[c["parent_id"]]["started_at"] == c["started_at"])
    ends_after_parent = sum(
        1 for c in live if c["parent_id"] in by_id and c["ended_at"] and by_id[c["parent_id"]]["ended_at"] and c["ended_at"] > by_id[c["parent_id"]]["ended_at"]
    )
    depth = {}
    for c in live:
        d, p = 0, c
        while p["parent_id"] in by_id:
            d, p = d + 1, by_id[p["parent_id"]]
        depth[c["id"]] = d
    return {
        "calls": len(calls),
        "deleted_calls": len(calls) - len(live),
        "running_calls": sum(1 for c in live if c["ended_at"] is None),
        "traces": len({c["trace_id"] for c in live}),
        "max_depth": max(depth.values(), default=0),
        "llm_calls": len(fixture["provider_truth"]),
        "calls_with_exception": sum(1 for c in live if c["exception"]),
        "children_starting_with_parent": starts_with_parent,
        "children_ending_after_parent": ends_after_parent,
        "usage_entries": shapes,
        "requests": len(fixture["requests"]),
        "trace_requests": len(fixture["trace_requests"]),
    }


def overcount(fixture: dict) -> dict:
    """The reference's answer against provider truth, per requested id (each
    id once, from the requests without a limit), and over the fixture's root
    calls."""
    rows: dict[str, dict] = {}
    for r in fixture["requests"]:
        if "limit" in r["request"]:
            continue
        for cid, models in r["expected"]["call_usage"].items():
            truth = r["provider_truth_rollup"].get(cid, {})
            if cid in rows or not truth:
                continue
            rows[cid] = {
                "call_id": cid,
                "root": cid in r["request"]["call_ids"] and any(c["id"] == cid and c["parent_id"] is None for c in fixture["calls"]),
                "requests": [sum(u["requests"] for u in models.values()), sum(u["requests"] for u in truth.values())],
                "total_tokens": [sum(u["total_tokens"] for u in models.values()), sum(u["total_tokens"] for u in truth.values())],
            }
    roots = [x for x in rows.values() if x["root"]]
    return {
        "roots": {k: [sum(x[k][0] for x in roots), sum(x[k][1] for x in roots)] for k in ("requests", "total_tokens")},
        "per_call": sorted(rows.values(), key=lambda x: (not x["root"], x["call_id"])),
    }


def main() -> None:
    install_determinism()
    weave.integrations.patch_openai()
    weave.integrations.patch_anthropic()

    use_project("acme/agents")

    async def agents_until_job():
        job = await agents_project()
        # Final agents fixture while long_job is still running.
        gc.collect()
        work(1_000)
        return job

    async def run():
        job = await agents_until_job()
        snapshot(
            "agents",
            "acme/agents: a research agent (depth 5, retries, an exception caught and re-raised, async "
            "fan-out, Chat and Responses API on one parent), a chat session with streams (inside an op, "
            "handed back to the caller, abandoned, Anthropic and Responses streams) and a background task "
            "that outlives its parent, and a job still running",
            ["acme/agents"],
        )
        HOOKS.release.set()
        await job

    asyncio.run(run())
    CLOCK.advance(3_600_000)
    run_evaluation()
    snapshot("evals", "acme/evals: a weave.Evaluation of a published weave.Model (OpenAI, and Anthropic for hard questions) with an LLM-judge weave.Scorer and a function scorer", ["acme/evals"])
    CLOCK.advance(3_600_000)
    support_calls = run_support()
    deleted_and_more(support_calls)
    snapshot("support", "acme/support: five tickets with Anthropic prompt caching (cache writes, then reads; negative stored prompt costs), OpenAI cached prompts and embeddings; one ticket deleted whole and one subtree deleted (given with deleted_at)", ["acme/support"], with_deleted=True)
    CLOCK.advance(3_600_000)
    run_pricing()
    snapshot("pricing", "acme/pricing: project price overrides (a fine-tuned model with no default price, a rate that starts mid-run, a rate that starts after every call)", ["acme/pricing"])
    snapshot("mixed-projects", "acme/support (with its deleted calls) and acme/pricing in one body: requests for either project", ["acme/support", "acme/pricing"], with_deleted=True)
    flush_all()

    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.json"):
        old.unlink()
    summary = {}
    for f in SNAPSHOTS:
        f["covers"] = describe(f)
        (OUT / f"{f['name']}.json").write_text(json.dumps(f, indent=1, sort_keys=False, ensure_ascii=False, allow_nan=False) + "\n")
        summary[f["name"]] = {"covers": f["covers"], "overcount": overcount(f), "bytes": (OUT / f"{f['name']}.json").stat().st_size}
    (OUT / "coverage.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps({k: {"bytes": v["bytes"], **v["covers"]} for k, v in summary.items()}, indent=1))
    print("served", SERVED)


if __name__ == "__main__":
    main()
