#!/usr/bin/env python3
"""Regenerate the validator's component catalogue from the collector's Go sources.

    python3 tests/platform/otelcol-catalogue.py [--version X.Y.Z] [--work DIR] [--check]

Renders tests/platform/otelcol-builder.yaml at the version (default:
OTELCOL_VERSION from tests/platform/versions.env), lets the OpenTelemetry
Collector Builder write the distribution's sources (--skip-compilation; the
modules land in the Go module cache, `go env GOMODCACHE`), then compiles
tests/platform/otelcol-catalogue/main.go next to the builder's components.go.
That program asks every factory of the build for its default configuration
and walks the Go config structs as confmap decodes them (mapstructure tags,
squash and remain, pointers, configoptional.Optional, time.Duration,
TextUnmarshaler scalars), probes enums (the words a TextUnmarshaler or a
component's Validate() accepts) and lower bounds Validate() enforces, and
prints JSON. This script prunes it and writes
plugins/module_utils/otelcol_validate/catalogue.py, which the engine imports.

Run it whenever the collector version or the manifest changes; --check exits 1
when the committed catalogue differs from a fresh one. Needs Go and the Go
module proxy (or a warm module cache); takes about a minute with a warm cache.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLATFORM = ROOT / "tests" / "platform"
OUTPUT = ROOT / "plugins" / "module_utils" / "otelcol_validate" / "catalogue.py"
# Below service::telemetry the otelconf schema nests deeply (samplers,
# exporters of exporters); past this depth its settings are left unchecked.
TELEMETRY_DEPTH = 4
KEEP = (
    *("k", "struct", "f", "e", "opt", "absent", "custom", "remain", "lax", "split", "enum", "fold", "nums", "min"),
    *("nonempty", "bits", "base", "d"),
)


def pinned_version() -> str:
    text = (PLATFORM / "versions.env").read_text(encoding="utf-8")
    return re.search(r"^OTELCOL_VERSION=(\S+)$", text, re.M).group(1)


def run(cmd, cwd=None, env=None):
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"otelcol-catalogue: {' '.join(map(str, cmd))} failed")
    return proc.stdout


def generate(version: str, work: Path) -> dict:
    env = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-buildvcs=false", "GOBIN": str(work / "bin")}
    run(["go", "install", f"go.opentelemetry.io/collector/cmd/builder@v{version}"], env=env)
    out = work / "out"
    shutil.rmtree(out, ignore_errors=True)
    manifest = (PLATFORM / "otelcol-builder.yaml").read_text(encoding="utf-8")
    manifest = manifest.replace("@VERSION@", version).replace("@OUTPUT@", str(out))
    (work / "manifest.yaml").write_text(manifest, encoding="utf-8")
    # As tests/platform/binaries.sh: the builder's strict tidy may trip over
    # test-only modules the proxy does not serve; tidy -e resolves the rest.
    proc = subprocess.run(
        [str(work / "bin" / "builder"), "--config", str(work / "manifest.yaml"), "--skip-compilation"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if not (out / "go.mod").is_file():
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit("otelcol-catalogue: the builder wrote no go.mod")
    run(["go", "mod", "tidy", "-e"], cwd=out, env=env)
    gen = out / "cataloguegen"
    gen.mkdir()
    shutil.copy(out / "components.go", gen / "components.go")
    shutil.copy(PLATFORM / "otelcol-catalogue" / "main.go", gen / "main.go")
    run(["go", "build", "-o", str(work / "cataloguegen"), "./cataloguegen"], cwd=out, env=env)
    return json.loads(run([str(work / "cataloguegen")]))


# --- OTTL functions, from the Go sources in the module cache ----------------------

CONTRIB = "github.com/open-telemetry/opentelemetry-collector-contrib"
# (processor, context) -> (package dir under the contrib module, function that
# lists the context's functions). Standard editors and converters come from
# pkg/ottl/ottlfuncs (StandardFuncs, StandardConverters).
OTTL_SOURCES = {
    "transform": {
        "resource": ("processor/transformprocessor/internal/common", "ResourceFunctions"),
        "scope": ("processor/transformprocessor/internal/common", "ScopeFunctions"),
        "span": ("processor/transformprocessor/internal/traces", "SpanFunctions"),
        "spanevent": ("processor/transformprocessor/internal/traces", "SpanEventFunctions"),
        "metric": ("processor/transformprocessor/internal/metrics", "MetricFunctions"),
        "datapoint": ("processor/transformprocessor/internal/metrics", "DataPointFunctions"),
        "log": ("processor/transformprocessor/internal/logs", "LogFunctions"),
        "profile": ("processor/transformprocessor/internal/profiles", "ProfileFunctions"),
    },
    "filter": {
        "resource": ("internal/filter/filterottl", "StandardResourceFuncs"),
        "scope": ("internal/filter/filterottl", "StandardScopeFuncs"),
        "span": ("internal/filter/filterottl", "StandardSpanFuncs"),
        "spanevent": ("internal/filter/filterottl", "StandardSpanEventFuncs"),
        "metric": ("internal/filter/filterottl", "StandardMetricFuncs"),
        "datapoint": ("internal/filter/filterottl", "StandardDataPointFuncs"),
        "log": ("internal/filter/filterottl", "StandardLogFuncs"),
        "profile": ("internal/filter/filterottl", "StandardProfileFuncs"),
    },
}


def _module_dir(gomodcache: Path, module: str, version: str) -> Path:
    escaped = re.sub(r"[A-Z]", lambda m: "!" + m.group(0).lower(), module)
    return gomodcache / f"{escaped}@v{version}"


def _factory_names(directory: Path) -> dict:
    """Constructor name -> OTTL function name, for every NewFactory call in a package."""
    texts = [p.read_text(encoding="utf-8") for p in sorted(directory.glob("*.go")) if not p.name.endswith("_test.go")]
    consts = {m.group(1): m.group(2) for text in texts for m in re.finditer(r'(\w+)\s*=\s*"(\w+)"', text)}
    names = {}
    for text in texts:
        for match in re.finditer(
            r"func (\w+)(?:\[[^\]]*\])?\(\)[^{]*\{\s*return ottl\.NewFactory\(\s*(\"\w+\"|\w+)", text
        ):
            name = match.group(2)
            name = name.strip('"') if name.startswith('"') else consts.get(name)
            if name:
                names[match.group(1)] = name
    return names


def _function_body(directory: Path, func: str) -> str:
    for path in sorted(directory.glob("*.go")):
        text = path.read_text(encoding="utf-8")
        match = re.search(rf"func {func}(?:\[[^\]]*\])?\([^)]*\)[^{{]*\{{(.*?)\n\}}", text, re.S)
        if match:
            return match.group(1)
    return ""


def ottl_functions(version: str) -> dict:
    """{"editors": [...], "converters": [...], processor: {context: [extra functions]}}."""
    gomodcache = Path(run(["go", "env", "GOMODCACHE"]).strip())
    funcs_dir = _module_dir(gomodcache, CONTRIB + "/pkg/ottl", version) / "ottlfuncs"
    standard = _factory_names(funcs_dir)
    editors = sorted(
        {
            standard[c]
            for c in re.findall(r"(\w+)\[K\]\(\)", _function_body(funcs_dir, "StandardFuncs"))
            if c in standard
        }
    )
    converters = sorted(
        {standard[c] for c in re.findall(r"(\w+)\[K\]\(\)", _function_body(funcs_dir, "converters")) if c in standard}
    )
    out = {"editors": editors, "converters": converters}
    for processor, contexts in OTTL_SOURCES.items():
        out[processor] = {}
        for context, (subdir, func) in contexts.items():
            module, _sep, rest = subdir.partition("/internal/") if subdir.startswith("processor/") else ("", "", "")
            if module:
                directory = _module_dir(gomodcache, f"{CONTRIB}/{module}", version) / "internal" / rest
            else:
                directory = _module_dir(gomodcache, f"{CONTRIB}/internal/filter", version) / subdir.split("/", 2)[2]
            body = _function_body(directory, func)
            known = {**standard, **_factory_names(directory)}
            for sibling in ("logparsingfuncs",):
                if (directory.parent / sibling).is_dir():
                    known.update(_factory_names(directory.parent / sibling))
            called = re.findall(r"(?:\w+\.)?(\w+?)(?:\[[^\]]*\])?\(\)", body)
            out[processor][context] = sorted({known[c] for c in called if c in known} - set(editors) - set(converters))
    return out


def prune(node: dict, depth=None) -> dict:
    out = {k: node[k] for k in KEEP if k in node and node[k] is not None and node[k] is not False}
    out = {k: v for k, v in out.items() if not (isinstance(v, (list, dict)) and not v)}
    if "debug2" in out.get("enum", ()):
        # Numbered words (log severities: debug2, info4, ...): more are accepted
        # than the probe tried, so no enum.
        out.pop("enum")
        out.pop("fold", None)
    if out.get("base") == "string":
        del out["base"]
    if depth is not None and depth <= 0 and out["k"] in ("struct", "map", "list"):
        return {"k": "any"}
    nxt = None if depth is None else depth - 1
    if "f" in out:
        out["f"] = {key: prune(sub, nxt) for key, sub in sorted(out["f"].items())}
    if "e" in out:
        out["e"] = prune(out["e"], nxt)
    if "d" in out and not isinstance(out["d"], (str, int, float, bool)):
        del out["d"]
    return out


def literal(value, indent=0) -> str:
    """A Python literal with hanging indents (what pep8 and ruff accept), sorted keys."""
    flat = repr(value) if not isinstance(value, dict) else None
    if isinstance(value, dict) and all(not isinstance(v, (dict, list)) for v in value.values()):
        flat = "{" + ", ".join(f"{k!r}: {v!r}" for k, v in sorted(value.items())) + "}"
    if flat is not None and len(flat) + indent <= 100:
        return flat
    pad = " " * (indent + 4)
    if isinstance(value, dict):
        items = [f"{pad}{k!r}: {literal(v, indent + 4)}," for k, v in sorted(value.items())]
        return "{\n" + "\n".join(items) + "\n" + " " * indent + "}"
    if isinstance(value, list):
        items = [f"{pad}{literal(v, indent + 4)}," for v in value]
        return "[\n" + "\n".join(items) + "\n" + " " * indent + "]"
    return repr(value)


def render(version: str, raw: dict, ottl: dict) -> str:
    catalogue = {}
    for kind in ("receivers", "processors", "exporters", "extensions", "connectors"):
        catalogue[kind] = {type_: prune(node) for type_, node in sorted(raw.get(kind, {}).items())}
    telemetry = raw.get("service", {}).get("telemetry")
    head = (
        "# Copyright: contributors to the claude_monitoring.stack collection\n"
        "# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)\n"
        '"""Typed settings of every component in the test build, GENERATED by\n'
        "tests/platform/otelcol-catalogue.py from the collector's Go config structs at\n"
        f"v{version}. Do not edit: regenerate when the collector version or the manifest\n"
        "changes.\n\n"
        "A node is a dict: k (struct, map, list, duration, bool, int, uint, float, string,\n"
        "text, any), f (struct fields by mapstructure key), e (list or map element), opt\n"
        "(configoptional.Optional: also takes enabled), custom (own Unmarshal), remain\n"
        "(takes any further key), enum and fold (accepted words, case-insensitively),\n"
        "min (Validate() refuses lower values), bits (integer width), base (the Go kind\n"
        "under a text type) and nums (the numbers it takes), struct (its Go type), absent\n"
        "(an Optional that is None by default), lax (unknown keys ignored), split (a\n"
        "[]string: a string is split on commas), nonempty\n"
        '(Validate() refuses an empty value), d (default)."""\n\n'
        "# fmt: off\n"
    )
    body = f"VERSION = {version!r}\n\nCOMPONENTS = {literal(catalogue)}\n\n"
    body += f"TELEMETRY = {literal(prune(telemetry, TELEMETRY_DEPTH) if telemetry else None)}\n\n"
    body += "# OTTL functions: standard editors and converters (pkg/ottl/ottlfuncs) and, per\n"
    body += "# processor and context, the functions it adds.\n"
    body += f"OTTL = {literal(ottl)}\n"
    return head + body


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default=None, help="collector version (default: versions.env)")
    parser.add_argument("--work", default=None, help="work directory (default: a temporary one)")
    parser.add_argument("--json", default=None, help="read the Go program's JSON from this file instead")
    parser.add_argument("--check", action="store_true", help="compare with the committed catalogue")
    args = parser.parse_args()
    version = (args.version or pinned_version()).lstrip("v")
    if args.json:
        raw = json.loads(Path(args.json).read_text(encoding="utf-8"))
    else:
        with tempfile.TemporaryDirectory(prefix="otelcol-catalogue-") as tmp:
            work = Path(args.work or tmp)
            work.mkdir(parents=True, exist_ok=True)
            raw = generate(version, work)
    text = render(version, raw, ottl_functions(version))
    if args.check:
        same = OUTPUT.read_text(encoding="utf-8") == text
        print(f"{OUTPUT.relative_to(ROOT)}: {'up to date' if same else 'STALE: regenerate it'}")
        return 0 if same else 1
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)} (v{version}, {sum(len(v) for v in raw.values())} components)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
