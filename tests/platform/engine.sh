#!/usr/bin/env bash
# Make sure a Docker engine answers. Installs Debian's docker.io and starts
# dockerd in the background when none does (the CI host has no systemd).
. "$(dirname "$0")/lib.sh"

engine_up() { docker info >/dev/null 2>&1; }

if engine_up; then
  log "docker engine: already answering"
  exit 0
fi
need_cmd dockerd || apt_install docker.io
need_cmd docker || apt_install docker.io
# A systemd-managed host starts it the usual way; otherwise run it detached so
# it outlives this script but holds none of its file descriptors.
if [ -d /run/systemd/system ] && systemctl start docker 2>/dev/null; then
  :
else
  setsid nohup dockerd --storage-driver=overlay2 >"$CM_CACHE_DIR/dockerd.log" 2>&1 </dev/null &
fi
for _ in $(seq 1 60); do
  if engine_up; then
    log "docker engine: up ($(docker version --format '{{.Server.Version}}'))"
    exit 0
  fi
  sleep 1
done
tail -20 "$CM_CACHE_DIR/dockerd.log" >&2 || true
die "docker engine did not come up within 60 s (log: $CM_CACHE_DIR/dockerd.log)"
