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
(cd "$root" && git ls-files -co --exclude-standard -z | grep -zv '^collections/' | xargs -0 cp --parents -t "$dest")
cd "$dest"
git init -q && git add -A >/dev/null
ansible-test sanity --python 3.11 --color no "$@" plugins/
