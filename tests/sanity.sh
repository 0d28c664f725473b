#!/usr/bin/env bash
# ansible-test sanity for the collection's plugins. ansible-test needs the
# collection at .../ansible_collections/<namespace>/<name>: copy the tracked
# (and new, unignored) files there and run it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dest="$work/ansible_collections/claude_monitoring/stack"
mkdir -p "$dest"
# Files deleted in the working tree but still tracked are left out.
(cd "$root" && git ls-files -co --exclude-standard -z | grep -zv '^collections/' |
  while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done | xargs -0 cp --parents -t "$dest")
cd "$dest"
git init -q && git add -A >/dev/null

# ansible-test bootstraps pip in the virtualenvs it manages with a script it
# downloads from a host the test platform cannot reach. This stand-in does the
# same from Python's bundled pip and the package index.
cache="$HOME/.ansible/test/cache"
if [ ! -s "$cache/get_pip_24_2.py" ]; then
  mkdir -p "$cache"
  cat >"$cache/get_pip_24_2.py" <<'PY'
# Offline stand-in for the pip bootstrap script: bundled pip, then the pinned pip from the package index.
import subprocess
import sys

subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "pip==24.2", "setuptools", "wheel"])
PY
  : >"$cache/get_pip_24_2.py.download"
fi

# --venv: each sanity test's requirements go into ansible-test's own cached
# virtualenvs, not into the test virtualenv.
ansible-test sanity --venv --requirements --python "$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')" \
  --color no "$@" plugins/
