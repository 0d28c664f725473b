#!/usr/bin/env bash
# Install (once per lockfile hash) the npm packages the unit tests use and
# print the node_modules directory. Re-running with an unchanged lockfile
# reuses it.
#   bash tests/platform/node.sh          install when needed, print the path
#   bash tests/platform/node.sh --path   only print the path (may not exist yet)
# The packages are pinned in tests/platform/node/package-lock.json (no
# registry URL in it: npm fetches from the registry it is configured with and
# checks each package's integrity hash). Today: @grafana/lezer-logql, Grafana's
# own LogQL grammar (Apache-2.0), for tests/unit/grafana.
. "$(dirname "$0")/lib.sh"

src="$CM_PLATFORM_DIR/node"
dir="$CM_CACHE_DIR/node-$(recipe_hash "$src/package.json" "$src/package-lock.json")"
if [ "${1:-}" = --path ]; then
  echo "$dir/node_modules"
  exit 0
fi

# One installer at a time: a second caller waits, then finds it complete.
exec 9>"$dir.lock"
flock 9
if [ ! -f "$dir/.complete" ]; then
  need_cmd npm || apt_install nodejs npm
  rm -rf "$dir"
  mkdir -p "$dir"
  cp "$src/package.json" "$src/package-lock.json" "$dir/"
  log "npm ci in $dir"
  # No install scripts run; engines are advisory (the grammar is plain JavaScript).
  (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
  touch "$dir/.complete"
fi
echo "$dir/node_modules"
