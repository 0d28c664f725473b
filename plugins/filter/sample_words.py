# Copyright: contributors to the claude_monitoring.stack collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: sample_words
short_description: The placeholder words of the collection's examples that a secret holds
version_added: "1.0.0"
description:
  - Returns the sample words (the placeholders of the collection's examples and inventories, such as
    C(CHANGE-ME), C(example), C(replace)) that O(_input) contains, compared without regard to case. An empty
    list means none.
  - The roles refuse a secret (an ingest token, a key, a password, a webhook URL, a routing key) for which this
    is not empty, naming the variable and never the value.
  - The words are C(change-me), C(changeme), C(change_me), C(example), C(sample), C(replace), C(placeholder),
    C(your-token) and C(xxxxxxxx).
options:
  _input:
    description:
      - A string, or a list of strings or a dict (each string, or each string value, is checked; other values are
        ignored).
    type: raw
    required: true
  known:
    description: Return every sample word, whatever O(_input) is (for messages that list them).
    type: bool
    default: false
"""

EXAMPLES = r"""
# [] for a real token, ["change-me"] for "CHANGE-ME: output of openssl rand -base64 32"
- name: Note which sample words the token holds
  ansible.builtin.set_fact:
    found: "{{ vault_token | claude_monitoring.stack.sample_words }}"
  no_log: true

# Refuse, without showing the value; the message lists every sample word.
- name: Check the password
  ansible.builtin.assert:
    that:
      - my_password | claude_monitoring.stack.sample_words | length == 0
    fail_msg: >-
      my_password is a sample value (it holds one of
      {{ none | claude_monitoring.stack.sample_words(known=true) | join(', ') }})
  no_log: true
"""

RETURN = r"""
_value:
  description: The sample words found (or, with O(known=true), every sample word), in the order listed above.
  type: list
  elements: str
"""

from collections.abc import Iterable, Mapping  # noqa: E402 - Ansible plugins start with their documentation

# Keep in step with the description above.
SAMPLE_WORDS = (
    "change-me",
    "changeme",
    "change_me",
    "example",
    "sample",
    "replace",
    "placeholder",
    "your-token",
    "xxxxxxxx",
)


def sample_words(value, known=False):
    if known:
        return list(SAMPLE_WORDS)
    if isinstance(value, str):
        texts = [value]
    elif isinstance(value, Mapping):
        texts = [v for v in value.values() if isinstance(v, str)]
    elif isinstance(value, Iterable):
        texts = [v for v in value if isinstance(v, str)]
    else:
        texts = []
    lowered = [t.lower() for t in texts]
    return [w for w in SAMPLE_WORDS if any(w in t for t in lowered)]


class FilterModule:
    def filters(self):
        return {"sample_words": sample_words}
