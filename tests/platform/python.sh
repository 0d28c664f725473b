#!/usr/bin/env bash
# Create (once per requirements hash) the virtualenv the tests run in and print
# its path. Re-running with unchanged requirements reuses it.
. "$(dirname "$0")/lib.sh"

req="$CM_ROOT/tests/requirements.txt"
venv="$CM_CACHE_DIR/venv-$(recipe_hash "$req")"
# One creator at a time: a second caller waits, then finds it complete.
exec 9>"$venv.lock"
flock 9
if [ ! -x "$venv/bin/python" ] || [ ! -f "$venv/.complete" ]; then
  need_cmd python3 || die "python3 is needed"
  python3 -c 'import venv' 2>/dev/null || apt_install python3-venv
  rm -rf "$venv"
  log "creating $venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q --upgrade pip >&2
  "$venv/bin/pip" install -q -r "$req" >&2
  touch "$venv/.complete"
fi
echo "$venv"
