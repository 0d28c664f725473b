#!/usr/bin/env bash
# Serve the locally built release archives over HTTP on loopback, laid out as
# upstream serves them, so the roles' real download-and-verify path runs.
#   mirror.sh start|stop|status
. "$(dirname "$0")/lib.sh"

pidfile="$CM_CACHE_DIR/mirror.pid"
# Up, and serving this cache's directory (not another checkout's or HOME's).
up() { [ "$(curl -fsS "$CM_MIRROR_URL/.mirror-ok" 2>/dev/null)" = "$CM_MIRROR_DIR" ]; }
# The checksums the roles pin for what this mirror serves, written by the same
# script that pins upstream's (the Molecule base config passes the file as
# release_service_pins_file). The mirror's builds are not upstream's archives.
pins() {
  python3 "$CM_ROOT/scripts/refresh-checksums" --allow-http --base-url "$CM_MIRROR_URL" \
    --archive-base-url "grafana=$CM_MIRROR_URL/grafana-dl/oss/release" --output "$CM_PINS_FILE" 2>/dev/null ||
    die "could not pin the mirror's releases (scripts/refresh-checksums)"
  log "mirror: pins in $CM_PINS_FILE"
}

case "${1:-start}" in
  start)
    mkdir -p "$CM_MIRROR_DIR"
    echo "$CM_MIRROR_DIR" >"$CM_MIRROR_DIR/.mirror-ok"
    if up; then
      log "mirror: already serving $CM_MIRROR_URL"
      pins
      exit 0
    fi
    if curl -fsS -o /dev/null "$CM_MIRROR_URL/.mirror-ok" 2>/dev/null; then
      die "another mirror (another cache directory) already serves $CM_MIRROR_URL: stop it, or set CM_MIRROR_PORT"
    fi
    setsid nohup python3 -m http.server "$CM_MIRROR_PORT" --bind 127.0.0.1 --directory "$CM_MIRROR_DIR" \
      >"$CM_CACHE_DIR/mirror.log" 2>&1 </dev/null &
    echo $! >"$pidfile"
    for _ in $(seq 1 50); do
      up && { log "mirror: serving $CM_MIRROR_DIR at $CM_MIRROR_URL"; pins; exit 0; }
      sleep 0.2
    done
    die "mirror did not start (log: $CM_CACHE_DIR/mirror.log)"
    ;;
  stop)
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
    ;;
  status) up ;;
  *) die "usage: mirror.sh start|stop|status" ;;
esac
