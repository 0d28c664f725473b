#!/usr/bin/env bash
# Serve the locally built release archives over HTTP on loopback, laid out as
# upstream serves them, so the roles' real download-and-verify path runs.
#   mirror.sh start|stop|status
. "$(dirname "$0")/lib.sh"

pidfile="$CM_CACHE_DIR/mirror.pid"
# Up, and serving this cache's directory (not another checkout's or HOME's).
up() { [ "$(curl -fsS "$CM_MIRROR_URL/.mirror-ok" 2>/dev/null)" = "$CM_MIRROR_DIR" ]; }

case "${1:-start}" in
  start)
    mkdir -p "$CM_MIRROR_DIR"
    echo "$CM_MIRROR_DIR" >"$CM_MIRROR_DIR/.mirror-ok"
    if up; then
      log "mirror: already serving $CM_MIRROR_URL"
      exit 0
    fi
    if curl -fsS -o /dev/null "$CM_MIRROR_URL/.mirror-ok" 2>/dev/null; then
      die "another mirror (another cache directory) already serves $CM_MIRROR_URL: stop it, or set CM_MIRROR_PORT"
    fi
    setsid nohup python3 -m http.server "$CM_MIRROR_PORT" --bind 127.0.0.1 --directory "$CM_MIRROR_DIR" \
      >"$CM_CACHE_DIR/mirror.log" 2>&1 </dev/null &
    echo $! >"$pidfile"
    for _ in $(seq 1 50); do
      up && { log "mirror: serving $CM_MIRROR_DIR at $CM_MIRROR_URL"; exit 0; }
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
