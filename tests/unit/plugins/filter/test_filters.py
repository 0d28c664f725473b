"""The collection's filters: peer_address and sample_words.

Nothing of Ansible's controller is imported in this process: it would switch
ansible-core into controller mode for the module tests that share it (their
AnsibleModule warnings then go to the display, not the result).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"_cm_filter_{name}", ROOT / "plugins" / "filter" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


peer_address = load("peer_address")
sample_words = load("sample_words")

HOSTVARS = {
    "wg-list": {"ansible_host": "192.0.2.1", "claude_monitoring_wireguard_address": ["10.9.0.1", "fd09::1"]},
    "wg-cidr": {"ansible_host": "192.0.2.2", "claude_monitoring_wireguard_address": "10.9.0.2/32"},
    "wg-v6": {"ansible_host": "192.0.2.3", "claude_monitoring_wireguard_address": ["fd09::3/128", "10.9.0.3"]},
    "wg-empty": {"ansible_host": "192.0.2.4", "claude_monitoring_wireguard_address": []},
    "host-only": {"ansible_host": "otel.lan.example.internal"},
    "v6-host": {"ansible_host": "2001:db8::5"},
    "name-only": {},
}


@pytest.mark.parametrize(
    ("name", "url", "want"),
    [
        ("wg-list", False, "10.9.0.1"),
        ("wg-cidr", False, "10.9.0.2"),
        ("wg-v6", False, "fd09::3"),
        ("wg-v6", True, "[fd09::3]"),
        ("wg-empty", False, "192.0.2.4"),
        ("host-only", True, "otel.lan.example.internal"),
        ("v6-host", True, "[2001:db8::5]"),
        ("name-only", False, "name-only"),
        ("not-in-inventory", True, "not-in-inventory"),
    ],
)
def test_peer_address(name, url, want):
    assert peer_address.peer_address(name, HOSTVARS, url=url) == want


def test_peer_address_needs_a_name():
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('pa', {str(ROOT / 'plugins/filter/peer_address.py')!r})\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        "from ansible.errors import AnsibleFilterError\n"
        "try:\n    m.peer_address('', {})\nexcept AnsibleFilterError as e:\n    print('refused:', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "refused: peer_address: expected an inventory host name" in out.stdout, out.stdout + out.stderr


def test_filter_names():
    assert set(peer_address.FilterModule().filters()) == {"peer_address"}
    assert set(sample_words.FilterModule().filters()) == {"sample_words"}


@pytest.mark.parametrize(
    ("value", "want"),
    [
        ("CHANGE-ME: output of openssl rand -base64 24", ["change-me"]),
        ("https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX", ["xxxxxxxx"]),
        ("replace-with-the-smtp-password", ["replace"]),
        (["a-real-looking-value-1", "http://alerts.example.org/hook"], ["example"]),
        ({"ops": "Your-Token-Here", "grafana": "fine-long-password-1"}, ["your-token"]),
        ("kJ8s0dQe2Yv6rW1nP4tZ7bX3cF5gH9mL", []),
        (42, []),
        (None, []),
    ],
)
def test_sample_words(value, want):
    assert sample_words.sample_words(value) == want


def test_sample_words_known_lists_them_all():
    words = sample_words.sample_words(None, known=True)
    assert "change-me" in words and "placeholder" in words and len(words) == len(set(words)) == 9
    # The module's docs name every word.
    for word in words:
        assert f"C({word})" in sample_words.DOCUMENTATION
