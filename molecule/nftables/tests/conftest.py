"""Tally of the verifier's TCP probes, printed at the end of the run."""

import pytest

TALLY = {"allowed": 0, "denied": 0}


@pytest.fixture(scope="session")
def probe_tally():
    return TALLY


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(
        f"nftables probes: {TALLY['allowed']} allowed (connected), "
        f"{TALLY['denied']} denied (dropped: timed out, not refused)"
    )
