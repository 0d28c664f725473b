# shellcheck shell=bash
# Common helpers for the test platform scripts. Source it; do not run it.
set -euo pipefail

CM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CM_PLATFORM_DIR="$CM_ROOT/tests/platform"
# Outside the work tree on purpose: a fresh clone reuses what an earlier run built.
CM_CACHE_DIR=${CM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/claude-monitoring-stack}
CM_MIRROR_DIR="$CM_CACHE_DIR/mirror"
CM_MIRROR_PORT=${CM_MIRROR_PORT:-18080}
CM_MIRROR_URL=${CM_MIRROR_URL:-http://127.0.0.1:$CM_MIRROR_PORT}
# Pinned checksums of the mirror's releases (mirror.sh start writes them).
CM_PINS_FILE="$CM_CACHE_DIR/mirror-pins.yml"
export CM_ROOT CM_CACHE_DIR CM_MIRROR_DIR CM_MIRROR_PORT CM_MIRROR_URL CM_PINS_FILE

# shellcheck source=tests/platform/versions.env
. "$CM_PLATFORM_DIR/versions.env"
export OTELCOL_VERSION LOKI_VERSION PROMETHEUS_VERSION ALERTMANAGER_VERSION GRAFANA_VERSION DEBIAN_SUITES

mkdir -p "$CM_CACHE_DIR"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# stage NAME CMD...: run a stage and print how long it took (the figures the
# README and closing notes quote come from these lines).
stage() {
  local name=$1 start rc=0 errexit=false
  shift
  # Back to the caller's `set -e` afterwards: a caller that collects failures
  # (scripts/test) runs with it off; the platform scripts stop at the first.
  [[ $- == *e* ]] && errexit=true
  start=$(date +%s)
  log "stage $name: start"
  # A subshell keeps `set -e` in force inside the stage. Callers must not call
  # stage from an `||`/`&&` list or `if`: bash ignores `set -e` there, even in
  # subshells.
  set +e
  (set -e; "$@")
  rc=$?
  if $errexit; then set -e; fi
  printf 'STAGE %-22s %4ss rc=%s\n' "$name" "$(($(date +%s) - start))" "$rc" | tee -a "$CM_CACHE_DIR/stage-times.log" >&2
  return "$rc"
}

# Short content hash of files, used as a cache key.
recipe_hash() { cat "$@" | sha256sum | cut -c1-12; }

# The release layout the roles expect, per upstream project.
otelcol_release_dir() { echo "$CM_MIRROR_DIR/open-telemetry/opentelemetry-collector-releases/releases/download/v$OTELCOL_VERSION"; }
loki_release_dir() { echo "$CM_MIRROR_DIR/grafana/loki/releases/download/v$LOKI_VERSION"; }
prometheus_release_dir() { echo "$CM_MIRROR_DIR/prometheus/prometheus/releases/download/v$PROMETHEUS_VERSION"; }
alertmanager_release_dir() { echo "$CM_MIRROR_DIR/prometheus/alertmanager/releases/download/v$ALERTMANAGER_VERSION"; }
# Grafana's two upstream layouts, for the grafana role's two install methods
# (both hold the project's stand-in, see build_grafana in binaries.sh): the
# standalone tarballs (dl.grafana.com/oss/release/...) and the APT repository.
grafana_release_dir() { echo "$CM_MIRROR_DIR/grafana-dl/oss/release"; }
grafana_apt_dir() { echo "$CM_MIRROR_DIR/grafana-apt"; }

need_cmd() { command -v "$1" >/dev/null 2>&1; }

apt_install() {
  local missing=()
  for pkg in "$@"; do
    # Installed, not merely known: a removed package keeps a "deinstall" record.
    [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" = "install ok installed" ] || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  # One apt at a time: the platform's scripts run side by side (scripts/test).
  (
    flock 8
    log "apt-get install ${missing[*]}"
    if [ ! -f "$CM_CACHE_DIR/.apt-updated" ] || [ -n "$(find "$CM_CACHE_DIR/.apt-updated" -mmin +1440)" ]; then
      apt-get update -qq
      touch "$CM_CACHE_DIR/.apt-updated"
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  ) 8>"$CM_CACHE_DIR/.apt.lock"
}
