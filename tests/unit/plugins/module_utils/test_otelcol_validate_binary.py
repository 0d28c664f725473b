"""Cross-check against the real collector: for every config in the corpus,
``otelcol validate`` and the engine must agree wherever the binary can see
the fault. The binary comes from CM_OTELCOL_BIN (tests/platform/binaries.sh
otelcol builds it); deselect with ``-m "not binary"``.
"""

from __future__ import annotations

import subprocess

import pytest

pytestmark = pytest.mark.binary

# Errors `otelcol validate` does not report, found by running it on the corpus:
# the collector only fails on these at start (listen, extension lookup), or
# resolves an unset variable to "" without complaint.
BINARY_BLIND = frozenset(
    {
        "env-unset",  # an unset ${env:X} becomes "" with a log line
        "port-conflict",  # listeners bind at start
        "endpoint-scheme",  # "http://0.0.0.0:4317" fails only at listen
        "endpoint-syntax",  # a missing port fails only at listen
        "extension-undeclared",  # authenticators and storage are looked up at start
        "extension-not-enabled",
        "int-overflow",  # decoding wraps an integer too large for its setting without a word
    }
)
# Warnings for which the binary is stricter than the engine: a component type
# the engine does not know is an error to a collector that lacks it.
BINARY_STRICTER = frozenset({"unknown-component-type"})


@pytest.fixture(scope="session")
def binary_version(otelcol_bin):
    out = subprocess.run([otelcol_bin, "--version"], capture_output=True, text=True, check=True).stdout
    return out.split()[-1]


def test_binary_agrees_with_engine(engine, otelcol_bin, binary_version, corpus_case):
    # Judge the config for the collector that is actually run.
    result = engine.validate(corpus_case.text, env=corpus_case.env or {}, version=binary_version)
    finding = engine.run_binary(otelcol_bin, str(corpus_case.path), env=corpus_case.env or {})
    error_rules = {f.rule for f in result.errors}
    visible = error_rules - BINARY_BLIND
    stricter = {f.rule for f in result.warnings} & BINARY_STRICTER
    binary_message = finding.message if finding else "accepted"
    if visible or stricter:
        assert finding is not None, f"engine: {sorted(visible | stricter)}, but the binary accepted the config"
    else:
        assert finding is None, (
            f"engine errors {sorted(error_rules)} (none visible to the binary), binary: {binary_message}"
        )


def test_blind_rules_are_exercised(engine):
    """Every rule declared blind has a broken config that shows it (so the claim is tested)."""
    from conftest import load_cases

    only_blind = {
        rule for case in load_cases("bad") for rule, _ in case.expects if {r for r, _ in case.expects} <= BINARY_BLIND
    }
    assert only_blind == BINARY_BLIND


def test_check_merges_binary_verdict(engine, otelcol_bin):
    from conftest import FIXTURES

    text = (FIXTURES / "bad" / "unknown-key-otlp-grpc-protocol.yaml").read_text()
    result = engine.check(text, env={}, binary=otelcol_bin)
    (merged,) = [f for f in result.errors if f.rule == "binary-validate"]
    assert "max_recv_msg_size" in merged.message
    assert (
        engine.check(text, env={}, binary=otelcol_bin, ignore=["binary-validate"]).errors[-1].rule != "binary-validate"
    )
    good = (FIXTURES / "good" / "minimal-agent.yaml").read_text()
    assert engine.check(good, env={}, binary=otelcol_bin).valid


def test_binary_finding_points_at_the_component(engine, otelcol_bin):
    from conftest import FIXTURES

    text = (FIXTURES / "bad" / "missing-required-otlp-endpoint.yaml").read_text()
    result = engine.check(text, env={}, binary=otelcol_bin)
    (merged,) = [f for f in result.errors if f.rule == "binary-validate"]
    assert (merged.path, merged.line) == ("exporters::otlp/tempo", 13)
