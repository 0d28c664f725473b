# Copyright: contributors to the claude_monitoring.stack collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: peer_address
short_description: The address the stack's services use to reach another host of the inventory
version_added: "1.0.0"
description:
  - Returns the address a service uses to reach the inventory host O(_input) (Prometheus' scrape targets, the
    collectors' Loki endpoint, Grafana's datasources, the Alertmanager peers and targets, the client's collector
    endpoint).
  - The host's C(claude_monitoring_wireguard_address) comes first (its first element when it is a list, a CIDR
    prefix length dropped), then its C(ansible_host), then the inventory name itself. The firewall (the
    C(nftables) role) admits a peer by the same C(claude_monitoring_wireguard_address), so the address a service
    connects from and the address the firewall lets in agree.
  - A host the inventory does not know is returned as given.
options:
  _input:
    description: The inventory name of the host to reach.
    type: str
    required: true
  hostvars:
    description: The play's C(hostvars).
    type: dict
    required: true
  url:
    description: Put an IPv6 address in brackets, as URLs and C(host:port) strings need it.
    type: bool
    default: false
"""

EXAMPLES = r"""
# "10.20.0.21" for a host with claude_monitoring_wireguard_address [10.20.0.21, "fd20::21"]
loki_address: "{{ groups['loki'][0] | claude_monitoring.stack.peer_address(hostvars) }}"

# Scrape targets of a group: ["10.20.0.11:8889", "[fd20::12]:8889"]
targets: >-
  {{ groups['otel_collectors'] | map('claude_monitoring.stack.peer_address', hostvars, url=true)
     | map('regex_replace', '$', ':8889') | list }}
"""

RETURN = r"""
_value:
  description: The address (or host name) to connect to; an IPv6 address in brackets with O(url=true).
  type: str
"""

from collections.abc import Mapping  # noqa: E402 - Ansible plugins start with their documentation


def _fail(message: str):
    # Imported here, not at the top: the controller's modules switch ansible-core into controller mode in the
    # importing process, which a unit test of this file would carry into the module tests that share it.
    from ansible.errors import AnsibleFilterError

    raise AnsibleFilterError(message)


def _first(value) -> str:
    """The first non-empty address of a string or a list, without a CIDR prefix length."""
    if value is None:
        return ""
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    for item in items:
        text = str(item).strip() if item is not None else ""
        if text:
            return text.split("/", 1)[0]
    return ""


def peer_address(name, hostvars, url=False):
    if not isinstance(name, str) or not name:
        _fail(f"peer_address: expected an inventory host name, got {name!r}")
    if not isinstance(hostvars, Mapping) and not hasattr(hostvars, "__getitem__"):
        _fail("peer_address: the argument must be hostvars")
    try:
        known = name in hostvars
    except TypeError:
        known = False
    host = hostvars[name] if known else {}
    address = _first(host.get("claude_monitoring_wireguard_address")) or _first(host.get("ansible_host")) or name
    if url and ":" in address and not address.startswith("["):
        address = f"[{address}]"
    return address


class FilterModule:
    def filters(self):
        return {"peer_address": peer_address}
