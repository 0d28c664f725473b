"""The plan and its ground truth, without a network: --dry-run."""

from __future__ import annotations

import json

import pytest

from tools.emulator import ground_truth, plan
from tools.emulator.cli import main


def dry(tmp_path, capsys, *args) -> dict:
    out = tmp_path / f"truth-{len(list(tmp_path.iterdir()))}.json"
    assert main(["--dry-run", "--truth", str(out), *args]) == 0
    printed = capsys.readouterr().out
    assert "dry run: nothing sent" in printed
    return json.loads(out.read_text())


def test_dry_run_is_deterministic_for_a_seed(tmp_path, capsys):
    first = dry(tmp_path, capsys, "--seed", "7")
    again = dry(tmp_path, capsys, "--seed", "7")
    assert first == again
    other = dry(tmp_path, capsys, "--seed", "8")
    assert other["cost_usd"] != first["cost_usd"]
    assert other["event_keys"] != first["event_keys"]
    assert {u.split("-")[0] for u in first["users"]} == {"emu7"}  # the run id comes from the seed


def test_default_mix(tmp_path, capsys):
    t = dry(tmp_path, capsys, "--endpoint", "http://a:4318", "--endpoint", "http://b:4318")
    assert t["run"] == "emu1" and t["seed"] == 1 and t["temporality"] == "delta"
    assert t["protocol"] == "http/protobuf" and t["endpoints"] == ["http://a:4318", "http://b:4318"]
    assert len(t["users"]) == 6 and len(t["teams"]) == 2
    assert {m for u in t["users"].values() for m in u["machines"]} == {f"emu1-m{k}" for k in range(1, 5)}
    assert t["sessions"]["total"] == 18 and set(t["sessions"]["by_user"].values()) == {3}
    assert t["events"]["by_type"]["api_request"] == 6 * 3 * 4
    for kind in ("user_prompt", "api_error", "tool_decision", "tool_result"):
        assert t["events"]["by_type"][kind] > 0, kind
    for what in ("commits", "pull_requests", "lines_added", "lines_removed", "edit_decisions_accept"):
        assert t["activity"][what] > 0, what
    assert t["events"]["total"] == len(t["event_keys"]) == len({tuple(k) for k in t["event_keys"]})
    # Resumed sessions: a new process with the same session.id, after the first one ended,
    # and at least one of them on another collector.
    procs = t["processes"]
    resumed = [p for p in procs if p["start_type"] == "resume"]
    assert resumed and t["sessions"]["processes"] == 18 + len(resumed)
    for r in resumed:
        first = next(p for p in procs if p["session_id"] == r["session_id"] and p["start_type"] == "fresh")
        assert r["start"] >= first["end"]
    assert any(
        r["endpoint"] != next(p["endpoint"] for p in procs if p["session_id"] == r["session_id"]) for r in resumed
    )
    # Parallel sessions of one user.
    assert any(
        a["user"] == b["user"]
        and a["session_id"] != b["session_id"]
        and a["start"] < b["end"]
        and b["start"] < a["end"]
        for a in procs
        for b in procs
    )
    # Never more than --parallel processes at once.
    for p in procs:
        assert sum(q["start"] <= p["start"] < q["end"] for q in procs) <= 4


def test_truth_sums_are_exact(tmp_path, capsys):
    t = dry(tmp_path, capsys, "--seed", "3")
    micros = t["cost_usd_micros"]
    for table in ("by_user", "by_team", "by_model"):
        assert sum(micros[table].values()) == micros["total"]
        assert t["cost_usd"][table] == {k: v / 1_000_000 for k, v in micros[table].items()}
        assert sum(t["tokens"][table].values()) == t["tokens"]["total"]
    assert sum(t["tokens"]["by_type"].values()) == t["tokens"]["total"]
    assert t["cost_usd"]["total"] == micros["total"] / 1_000_000
    assert t["exports"] == []


def test_team_names_and_run_prefix():
    p = plan(seed=2, users=4, teams=2, machines=2, run="r42", team_names=["platform", "data"])
    assert p.teams == ["platform", "data"]
    assert all(u.startswith("r42-u") for u in p.users)
    assert all(proc.session_id.startswith(f"{proc.user}-s") for proc in p.processes)
    t = ground_truth(p)
    assert set(t["cost_usd"]["by_team"]) == {"platform", "data"}


def test_bad_mix_is_refused(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--dry-run", "--teams", "3", "--machines", "2"])
    assert exit_info.value.code == 2
    assert "every team needs a machine" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--dry-run", "--team-token", "t9=/nonexistent"])
    assert "no such team" in capsys.readouterr().err
