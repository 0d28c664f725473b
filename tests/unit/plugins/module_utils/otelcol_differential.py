"""Differential testing of the validator engine against `otelcol validate`.

A seeded generator mutates valid configurations (the good corpus and the
real-world configs in $CM_REALWORLD_CONFIGS, by default the shared
realworld-collector-configs/adapted beside the repository) the ways a new user breaks
them: wrong types, out-of-range values, bad durations and enum words, missing
halves of pairs, renamed keys, moved components, signals a component does not
support, environment references. Each mutant goes to the engine and to the
binary; a disagreement is either documented in STRICTER (the engine fails
earlier than `otelcol validate`, with the reason) or a bug.

Run by hand, with more configs:

    CM_OTELCOL_BIN=... python tests/unit/plugins/module_utils/otelcol_differential.py --count 2000 --seed 7

The test (test_otelcol_validate_differential.py) runs a small seeded sample.
"""

from __future__ import annotations

import argparse
import copy
import errno
import importlib
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[4]
GOOD = ROOT / "tests" / "unit" / "fixtures" / "otelcol" / "good"
# Published configs kept outside the repository (not copied into it): the
# shared directory beside the checkout, or wherever the variable says.
REALWORLD = Path(
    os.environ.get("CM_REALWORLD_CONFIGS", str(ROOT.parent / "shared" / "realworld-collector-configs" / "adapted"))
)
ENGINE_NAME = "ansible_collections.claude_monitoring.stack.plugins.module_utils.otelcol_validate"
# The environment both sides run with: one variable set, the rest unset.
ENV = {"OTELCOL_BEARER_TOKEN": "differential-token", "SET_PORT": "4999", "SET_TEXT": "value"}

# Where the engine is deliberately stricter than `otelcol validate`: errors the
# collector only meets at start (binding listeners, looking up extensions) or
# lets through with a log line. A mutant on which the engine fails and the
# binary passes is a documented disagreement when every engine error's rule
# is listed here.
STRICTER = {
    "env-unset": "an unset ${env:X} without default: the collector substitutes an empty string and goes on",
    "port-conflict": "two listeners on one port: the collector fails only when it binds the second at start",
    "endpoint-scheme": "a listening endpoint with a URL scheme fails only at listen",
    "endpoint-syntax": "a listening endpoint without a port fails only at listen",
    "extension-undeclared": "authenticators and storage extensions are looked up at start, not at validate",
    "extension-not-enabled": "an authenticator or storage not in service::extensions fails at start",
    "int-overflow": "an integer too large for its Go type: the decoder wraps it silently to another number",
}


# Where the engine is deliberately more lenient, because the answer depends on
# the host or build that runs the config, which a static check cannot see:
# (name, reason, engine warning or None, text in the binary's message).
LENIENT = [
    (
        "distribution",
        "a component type outside the validator's catalogue may exist in another distribution: "
        "the engine warns (unknown-component-type), a build without the type refuses the config",
        "unknown-component-type",
        "unknown type",
    ),
    (
        "host-filesystem",
        "file_storage checks at validate that its directory exists on the host that runs the collector",
        None,
        "directory must exist",
    ),
]


@dataclass
class Mutant:
    base: str
    operator: str
    detail: str
    text: str


# --- the pool of valid configurations -----------------------------------------


def base_configs() -> list[tuple[str, str]]:
    """(name, text) of every candidate base config, sorted (deterministic)."""
    found = [(f"good/{p.name}", p.read_text(encoding="utf-8")) for p in sorted(GOOD.glob("*.yaml"))]
    if REALWORLD.is_dir():
        found += [(f"realworld/{p.name}", p.read_text(encoding="utf-8")) for p in sorted(REALWORLD.glob("*.yaml"))]
    return found


# --- mutation operators ---------------------------------------------------------

KINDS = ("receivers", "processors", "exporters", "extensions", "connectors")
SIGNALS = ("traces", "metrics", "logs")


def _catalogue():
    return importlib.import_module(ENGINE_NAME + ".catalogue")


def _components(data):
    for kind in KINDS:
        section = data.get(kind)
        if isinstance(section, dict):
            for cid, cfg in section.items():
                yield kind, cid, cfg


def _node_for(kind, cid):
    return _catalogue().COMPONENTS.get(kind, {}).get(str(cid).split("/")[0])


def _leaves(value, path=()):
    """(path, value) of every scalar inside ``value``."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, (*path, i))
    else:
        yield path, value


def _typed_settings(node, path=()):
    """(path, node) of every scalar setting a catalogue node declares (structs only)."""
    if node.get("k") == "struct":
        for key, sub in node.get("f", {}).items():
            yield from _typed_settings(sub, (*path, key))
    elif node.get("k") not in ("map", "list", "any"):
        yield path, node


def _get(data, path):
    for p in path:
        data = data[p]
    return data


def _set(data, path, value):
    for p in path[:-1]:
        if not isinstance(data.get(p) if isinstance(data, dict) else None, dict):
            if isinstance(data, dict):
                data[p] = {}
            else:
                return False
        data = data[p]
    if not isinstance(data, dict):
        return False
    data[path[-1]] = value
    return True


def _random_component(rng, data):
    """(kind, id, config) of a random component with a non-empty config, or None."""
    comps = [(k, c, v) for k, c, v in _components(data) if isinstance(v, dict) and v]
    return rng.choice(comps) if comps else None


def _random_leaf(rng, data):
    """(kind, id, config, path, value) of a random setting of a random component, or None."""
    picked = _random_component(rng, data)
    if picked is None:
        return None
    leaves = [(p, v) for p, v in _leaves(picked[2]) if p]
    return (*picked, *rng.choice(leaves)) if leaves else None


WRONG_VALUES = ["text", 12, 1.5, True, ["a"], {"a": 1}, "12", "true", -3, "1d", "5 seconds", "", "yes"]


def op_wrong_type(rng, data):
    picked = _random_leaf(rng, data)
    if picked is None:
        return None
    kind, cid, cfg, path, old = picked
    new = rng.choice([w for w in WRONG_VALUES if type(w) is not type(old) or w != old])
    _set(cfg, path, new)
    return f"{kind}::{cid}::{'::'.join(map(str, path))}: {old!r} -> {new!r}"


def _typed_value(rng, node):
    kind = node.get("k")
    choices = {
        "duration": ["5s", "0", "1m30s", "1d", "5 seconds", "10", -1, "1.5h", "s", True],
        "bool": [True, False, "true", "yes", 1, "off"],
        "int": [0, -1, 1, 2**31, 2**63 + 10, 1.5, "10", 100000],
        "uint": [0, -1, 1, 2**33, "10", 1.5],
        "float": [0.5, 2, -1, "0.5", True],
        "string": ["", "x", "localhost:4317", 5, True, ["a"]],
        "text": ["", "bogus", "none", "basic", "detailed", "gzip", "tcp", "ignore", "json", 3, "DETAILED"],
    }.get(kind, ["x"])
    if node.get("enum"):
        choices = [*choices, *node["enum"], node["enum"][-1].upper(), "not-in-enum"]
    return rng.choice(choices)


def op_typed_setting(rng, data):
    """Set a setting the catalogue declares to a value of random type and range."""
    comps = [(k, c, v) for k, c, v in _components(data) if (v is None or isinstance(v, dict)) and _node_for(k, c)]
    if not comps:
        return None
    kind, cid, cfg = rng.choice(comps)
    if cfg is None:
        cfg = data[kind][cid] = {}
    settings = list(_typed_settings(_node_for(kind, cid)))
    if not settings:
        return None
    path, node = rng.choice(settings)
    value = _typed_value(rng, node)
    if not _set(cfg, path, value):
        return None
    return f"{kind}::{cid}::{'::'.join(path)} ({node['k']}) = {value!r}"


def op_rename_key(rng, data):
    picked = _random_component(rng, data)
    if picked is None:
        return None
    kind, cid, cfg = picked
    key = rng.choice(list(cfg))
    styles = [
        key[:-1],
        key.replace("_", ""),
        "".join(w.capitalize() if i else w for i, w in enumerate(str(key).split("_"))),
        str(key) + "s",
        str(key).replace("_", "-"),
    ]
    new = rng.choice([s for s in styles if s and s != key] or [str(key) + "x"])
    cfg[new] = cfg.pop(key)
    return f"{kind}::{cid}: key {key!r} -> {new!r}"


def op_drop_key(rng, data):
    """Drop a key: a required setting or one half of a pair may go missing."""
    leaves = []
    for kind, cid, cfg in _components(data):
        if isinstance(cfg, dict):
            leaves += [(kind, cid, cfg, p) for p, _v in _leaves(cfg) if p and all(isinstance(x, str) for x in p)]
    if not leaves:
        return None
    kind, cid, cfg, path = rng.choice(leaves)
    parent = _get(cfg, path[:-1])
    parent.pop(path[-1], None)
    return f"{kind}::{cid}: dropped {'::'.join(path)}"


PAIRS = [
    ("tls", {"cert_file": "/etc/ssl/c.pem"}),
    ("tls", {"key_file": "/etc/ssl/k.pem"}),
    ("tls", {"ca_file": "/etc/ssl/ca.pem", "insecure": True}),
    ("tls", {"min_version": "1.4"}),
    ("tls", {"min_version": "1.3", "max_version": "1.2"}),
    ("sending_queue", {"storage": "file_storage"}),
    ("sending_queue", {"enabled": True, "queue_size": 0}),
    ("sending_queue", {"num_consumers": 0}),
    ("retry_on_failure", {"initial_interval": "10s", "max_interval": "1s"}),
    ("retry_on_failure", {"multiplier": 0}),
    ("auth", {"authenticator": "bearertokenauth"}),
    ("keepalive", {"server_parameters": {"time": "10"}}),
    ("compression", "brotli"),
    ("headers", ["a"]),
]
PROCESSOR_PAIRS = {
    "memory_limiter": [
        {"limit_mib": 100, "spike_limit_mib": 200},
        {"limit_percentage": 80, "spike_limit_percentage": 90},
        {"limit_mib": 0},
        {"check_interval": "0s"},
        {"limit_percentage": 120},
    ],
    "batch": [
        {"send_batch_size": 100, "send_batch_max_size": 10},
        {"send_batch_size": -1},
        {"timeout": "0s"},
        {"metadata_keys": ["a", "A"]},
    ],
}


def op_pair(rng, data):
    """Set one half of a pair, or a pair that contradicts itself."""
    comps = [(k, c, v) for k, c, v in _components(data) if v is None or isinstance(v, dict)]
    if not comps:
        return None
    kind, cid, cfg = rng.choice(comps)
    if cfg is None:
        cfg = data[kind][cid] = {}
    type_ = str(cid).split("/")[0]
    if type_ in PROCESSOR_PAIRS and kind == "processors":
        patch = rng.choice(PROCESSOR_PAIRS[type_])
        cfg.update(copy.deepcopy(patch))
        return f"{kind}::{cid}: {patch}"
    # Somewhere a client or server section lives: the component or a protocol under it.
    targets = [cfg] + [v for v in cfg.values() if isinstance(v, dict)]
    targets += [v for t in list(targets) for v in t.values() if isinstance(v, dict)]
    target = rng.choice(targets)
    key, value = rng.choice(PAIRS)
    target[key] = copy.deepcopy(value) if not isinstance(value, dict) else {**(target.get(key) or {}), **value}
    return f"{kind}::{cid}: {key} = {value}"


def op_move_component(rng, data):
    """Declare a component under another kind, keeping its pipeline references."""
    comps = list(_components(data))
    if not comps:
        return None
    kind, cid, cfg = rng.choice(comps)
    other = rng.choice([k for k in KINDS if k != kind])
    del data[kind][cid]
    data.setdefault(other, {})
    if not isinstance(data[other], dict):
        return None
    data[other][cid] = cfg
    return f"{kind}::{cid} moved to {other}"


def _pipelines(data):
    service = data.get("service")
    pipes = service.get("pipelines") if isinstance(service, dict) else None
    return pipes if isinstance(pipes, dict) else {}


def op_signal(rng, data):
    """Rename a pipeline to another signal, or reference a component from a pipeline of another signal."""
    pipes = _pipelines(data)
    if not pipes:
        return None
    pid = rng.choice(list(pipes))
    signal, _sep, name = str(pid).partition("/")
    new_signal = rng.choice([s for s in (*SIGNALS, "profiles", "trace") if s != signal])
    new = new_signal + (f"/{name}" if name else "")
    if new in pipes:
        return None
    pipes[new] = pipes.pop(pid)
    return f"pipeline {pid} -> {new}"


def op_pipeline_ref(rng, data):
    """Add a reference to a declared component of the wrong kind, an undeclared one, or twice the same."""
    pipes = _pipelines(data)
    if not pipes:
        return None
    pid = rng.choice(list(pipes))
    pipe = pipes[pid]
    if not isinstance(pipe, dict):
        return None
    key = rng.choice(("receivers", "processors", "exporters"))
    refs = pipe.get(key) if isinstance(pipe.get(key), list) else []
    declared = [c for _k, c, _v in _components(data)]
    choice = rng.choice(["other-kind", "undeclared", "duplicate", "remove-all"])
    if choice == "other-kind" and declared:
        ref = rng.choice(declared)
    elif choice == "duplicate" and refs:
        ref = rng.choice(refs)
    elif choice == "remove-all":
        pipe[key] = []
        return f"{pid}::{key} emptied"
    else:
        ref = rng.choice(["otlp/undeclared", "batch/2", "nope"])
    pipe[key] = [*refs, ref]
    return f"{pid}::{key} += {ref}"


def op_env(rng, data):
    """Replace a scalar with an environment reference."""
    picked = _random_leaf(rng, data)
    if picked is None:
        return None
    kind, cid, cfg, path, old = picked
    new = rng.choice(
        [
            "${env:SET_TEXT}",
            "${SET_TEXT}",
            "${env:SET_PORT}",
            "${env:UNSET_VARIABLE}",
            "${env:UNSET_VARIABLE:-}",
            "${env:UNSET_VARIABLE:-5s}",
            "${env:1BAD}",
            "${unknown:x}",
            "${env:SET_TEXT",
            "$${env:SET_TEXT}",
            "prefix-${env:SET_PORT}",
        ]
    )
    _set(cfg, path, new)
    return f"{kind}::{cid}::{'::'.join(map(str, path))}: {old!r} -> {new!r}"


def _ottl_strings(value, path=()):
    """(path, text) of OTTL statements and conditions in a transform or filter config."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _ottl_strings(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            if isinstance(v, str) and any(
                p in ("statements", "conditions") or str(p).endswith(("_statements", "_conditions")) for p in path
            ):
                yield (*path, i), v
            else:
                yield from _ottl_strings(v, (*path, i))


def op_ottl(rng, data):
    """Break an OTTL statement: a quote or bracket, a function name, a context path."""
    found = []
    for kind, cid, cfg in _components(data):
        if kind == "processors" and str(cid).split("/")[0] in ("transform", "filter") and isinstance(cfg, dict):
            found += [(cfg, path, text) for path, text in _ottl_strings(cfg)]
    if not found:
        return None
    cfg, path, text = rng.choice(found)
    choices = [
        text.replace(")", "", 1),
        text.replace('"', "", 1),
        text + ")",
        re.sub(r"\b([a-z_]+)\(", lambda m: m.group(1) + "x(", text, count=1),
        re.sub(r"\b([A-Z][A-Za-z]+)\(", lambda m: m.group(1) + "s(", text, count=1),
        re.sub(r"\battributes\[", "span.attributes[", text, count=1),
        re.sub(r"\battributes\[", "datapoint.attributes[", text, count=1),
        re.sub(r"\bset\(", "Set(", text, count=1),
        text.replace("where", "whre", 1),
    ]
    new = rng.choice([c for c in choices if c != text] or [text + "("])
    _get(cfg, path[:-1])[path[-1]] = new
    return f"{'::'.join(map(str, path))}: {text!r} -> {new!r}"


OPERATORS = {
    "ottl": op_ottl,
    "wrong-type": op_wrong_type,
    "typed-setting": op_typed_setting,
    "rename-key": op_rename_key,
    "drop-key": op_drop_key,
    "pair": op_pair,
    "move-component": op_move_component,
    "signal": op_signal,
    "pipeline-ref": op_pipeline_ref,
    "env": op_env,
}


def mutants(bases, count, seed):
    """``count`` mutants of ``bases`` ([(name, data)]), the same for the same seed."""
    rng = random.Random(seed)
    names = sorted(OPERATORS)
    out, attempts = [], 0
    while len(out) < count and attempts < count * 20:
        attempts += 1
        name, data = rng.choice(bases)
        op = rng.choice(names)
        data = copy.deepcopy(data)
        detail = OPERATORS[op](rng, data)
        if detail is None:
            continue
        out.append(Mutant(name, op, detail, yaml.safe_dump(data, sort_keys=False, allow_unicode=True)))
    return out


# --- running both sides --------------------------------------------------------


def run_binary(binary, text):
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False, encoding="utf-8") as handle:
        handle.write(text)
    try:
        for attempt in range(20):
            try:
                proc = subprocess.run(
                    [binary, "validate", f"--config={handle.name}"],
                    env=ENV,
                    capture_output=True,
                    text=True,
                    timeout=60,
                    check=False,
                )
                break
            except OSError as exc:  # the test platform may be re-extracting the binary
                if exc.errno != errno.ETXTBSY or attempt == 19:
                    raise
                time.sleep(0.25)
    finally:
        os.unlink(handle.name)
    lines = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
    return proc.returncode == 0, (lines[-1] if lines else "")[:400]


@dataclass
class Outcome:
    mutant: Mutant
    engine_ok: bool
    engine_rules: tuple
    engine_first: str
    engine_warnings: tuple
    binary_ok: bool
    binary_message: str

    @property
    def verdict(self) -> str:
        if self.engine_ok == self.binary_ok:
            return "agree"
        if not self.engine_ok and set(self.engine_rules) <= set(STRICTER):
            return "stricter"
        if self.engine_ok:
            for _name, _reason, warning, text in LENIENT:
                if text in self.binary_message and (warning is None or warning in self.engine_warnings):
                    return "lenient"
        return "engine-passes" if self.engine_ok else "engine-fails"


def valid_bases(engine, binary, workers=2):
    """The bases both sides accept, parsed."""
    pool = base_configs()
    if pool and binary is None:
        return []

    def one(item):
        name, text = item
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            return None
        if not isinstance(data, dict) or not engine.validate(text, env=ENV).valid:
            return None
        ok, _msg = run_binary(binary, text)
        return (name, data) if ok else None

    with ThreadPoolExecutor(workers) as ex:
        return [b for b in ex.map(one, pool) if b is not None]


def differential(engine, binary, count, seed, workers=2, with_bases=True):
    """Run ``count`` mutants; return (bases, outcomes, seconds)."""
    start = time.perf_counter()
    bases = valid_bases(engine, binary, workers)
    batch = mutants(bases, count, seed)
    if with_bases:  # the unmutated configs are comparisons too
        batch = [Mutant(name, "none", "as published", text) for name, text in base_configs()] + batch

    def one(m):
        result = engine.validate(m.text, env=ENV)
        ok, msg = run_binary(binary, m.text)
        first = result.errors[0] if result.errors else None
        return Outcome(
            m,
            result.valid,
            tuple(sorted({f.rule for f in result.errors})),
            f"{first.rule}: {first.message}" if first else "",
            tuple(sorted({f.rule for f in result.warnings})),
            ok,
            msg,
        )

    with ThreadPoolExecutor(workers) as ex:
        outcomes = list(ex.map(one, batch))
    return bases, outcomes, time.perf_counter() - start


DOCUMENTED = ("agree", "stricter", "lenient")


def report(bases, outcomes, seconds) -> str:
    counts = {}
    for o in outcomes:
        counts[o.verdict] = counts.get(o.verdict, 0) + 1
    total = len(outcomes) or 1
    agree = counts.get("agree", 0)
    by_rule = {}
    for o in outcomes:
        if o.verdict == "stricter":
            for rule in o.engine_rules:
                by_rule[rule] = by_rule.get(rule, 0) + 1
    lines = [
        f"differential: {len(outcomes)} configs ({sum(o.mutant.operator == 'none' for o in outcomes)} as published, "
        f"the rest mutants of {len(bases)} valid ones) in {seconds:.1f}s",
        f"  agree: {agree} ({100.0 * agree / total:.1f}%), documented stricter: {counts.get('stricter', 0)} "
        f"({', '.join(f'{r} {n}' for r, n in sorted(by_rule.items())) or 'none'}), "
        f"documented lenient: {counts.get('lenient', 0)}, "
        f"undocumented: {counts.get('engine-passes', 0)} engine passes / {counts.get('engine-fails', 0)} engine fails",
    ]
    per_op = {}
    for o in outcomes:
        agree, total_op = per_op.get(o.mutant.operator, (0, 0))
        per_op[o.mutant.operator] = (agree + (o.verdict == "agree"), total_op + 1)
    lines.append("  by operator (agree/total): " + ", ".join(f"{op} {a}/{n}" for op, (a, n) in sorted(per_op.items())))
    for o in outcomes:
        if o.verdict in ("engine-passes", "engine-fails"):
            lines.append(
                f"  {o.verdict}: {o.mutant.base} [{o.mutant.operator}] {o.mutant.detail}\n"
                f"      engine: {o.engine_first or 'valid'}\n      binary: {o.binary_message or 'valid'}"
            )
    return "\n".join(lines)


def _import_engine():
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import conftest  # noqa: F401 - makes the collection importable

    return importlib.import_module(ENGINE_NAME)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=int(os.environ.get("CM_DIFF_COUNT", "200")))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("CM_DIFF_SEED", "15")))
    parser.add_argument("--binary", default=os.environ.get("CM_OTELCOL_BIN"))
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    if not args.binary:
        parser.error("no collector binary: pass --binary or set CM_OTELCOL_BIN")
    engine = _import_engine()
    bases, outcomes, seconds = differential(engine, args.binary, args.count, args.seed, args.workers)
    print(report(bases, outcomes, seconds))
    return 0 if all(o.verdict in DOCUMENTED for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
