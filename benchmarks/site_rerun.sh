#!/usr/bin/env bash
# Time an idempotent re-run of site.yml on the homelab shape, over SSH with
# pipelining and ControlPersist, as a user runs it (docs/benchmarks.md,
# "Re-run of site.yml"):
#   benchmarks/site_rerun.sh          bring up, converge, time the re-run, tear down
#   benchmarks/site_rerun.sh --keep   leave the containers up (a later call reuses them)
#   benchmarks/site_rerun.sh down     remove the containers and the network
#   CM_RERUN_ONLY=1 benchmarks/site_rerun.sh --keep   only the timed run, on kept containers
# Needs the test platform (scripts/test platform: engine, images, mirror).
# Two systemd containers from cm-debian-bookworm (the server "telemetry" with
# every server role, the client "laptop"), each with sshd and a user with
# passwordless sudo and a generated key; inventories/homelab's shape and
# settings with the containers' addresses, the releases from the local mirror
# (as inventories/demo-offline.yml). The first run converges; the second is
# timed and must report changed=0. Prints the per-role and per-task-kind
# table of benchmarks/callback_plugins/rerun_profile.py.
. "$(dirname "$0")/../tests/platform/lib.sh"
cd "$CM_ROOT"

prefix=cm-rerun
network=cm-rerun
subnet=172.31.241.0/24
base=cm-debian-bookworm:latest
keep=false
# Bump when the derived image's recipe below changes.
recipe=1

case "${1:-}" in
  down)
    docker rm -f "$prefix-telemetry" "$prefix-laptop" >/dev/null 2>&1 || true
    docker network rm "$network" >/dev/null 2>&1 || true
    exit 0
    ;;
  --keep) keep=true ;;
  "") ;;
  *) die "usage: benchmarks/site_rerun.sh [--keep|down]" ;;
esac

VENV=$(bash tests/platform/python.sh)
export PATH="$VENV/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$CM_ROOT/collections" ANSIBLE_ROLES_PATH="$CM_ROOT/roles"
export ANSIBLE_FORCE_COLOR=false ANSIBLE_NOCOLOR=1
work="$CM_CACHE_DIR/site-rerun"
mkdir -p "$work"

# The base image has no SSH server: a derived image adds it, tagged by the base
# image's id and this recipe. apt runs in a container on the host's network
# (the host's resolver) with the host's own Acquire settings, read at run time.
base_id=$(docker image inspect -f '{{.Id}}' "$base" | sed 's/^sha256://' | cut -c1-12)
image="cm-rerun-sshd:$base_id-$recipe"
if ! docker image inspect "$image" >/dev/null 2>&1; then
  log "building $image (openssh-server on $base)"
  # Only the settings that decide whether the archive is reached and accepted:
  # its proxy and the date checks.
  acquire=$(apt-config dump 'Acquire' |
    sed -n -E 's/^(Acquire::(Check-[A-Za-z-]+|https?::Proxy[^ ]*)) "([^" $]+)";$/-o \1=\3/p' | tr '\n' ' ')
  docker rm -f "$prefix-build" >/dev/null 2>&1 || true
  # shellcheck disable=SC2086 # $acquire is a list of -o options
  docker run --name "$prefix-build" --network host "$base" sh -ec "
    apt-get $acquire update -qq
    DEBIAN_FRONTEND=noninteractive apt-get $acquire install -y -qq --no-install-recommends openssh-server >/dev/null
    rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
    useradd --create-home --shell /bin/bash deploy
    echo 'deploy ALL=(ALL) NOPASSWD:ALL' >/etc/sudoers.d/deploy && chmod 0440 /etc/sudoers.d/deploy
    install -d -m 0700 -o deploy -g deploy /home/deploy/.ssh" ||
    die "could not build $image"
  docker commit -c 'CMD ["/lib/systemd/systemd"]' "$prefix-build" "$image" >/dev/null
  docker rm -f "$prefix-build" >/dev/null
fi

key="$work/id_ed25519"
[ -s "$key" ] || ssh-keygen -q -t ed25519 -N '' -C site-rerun -f "$key"

docker network inspect "$network" >/dev/null 2>&1 || docker network create --subnet "$subnet" "$network" >/dev/null
for host in telemetry laptop; do
  name="$prefix-$host"
  if [ "$(docker inspect -f '{{.Config.Image}}' "$name" 2>/dev/null)" != "$image" ]; then
    docker rm -f "$name" >/dev/null 2>&1 || true
    docker run -d --name "$name" --hostname "$host" --network "$network" \
      --cgroupns host -v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock \
      --cap-add SYS_ADMIN --cap-add NET_ADMIN --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
      "$image" /lib/systemd/systemd >/dev/null
  fi
  docker exec -i "$name" sh -c 'cat >/home/deploy/.ssh/authorized_keys && chown deploy:deploy /home/deploy/.ssh/authorized_keys && chmod 0600 /home/deploy/.ssh/authorized_keys' <"$key.pub"
done
ip_of() { docker inspect -f "{{(index .NetworkSettings.Networks \"$network\").IPAddress}}" "$prefix-$1"; }
server=$(ip_of telemetry)
laptop=$(ip_of laptop)
for host in telemetry laptop; do
  for _ in $(seq 1 60); do
    state=$(docker exec "$prefix-$host" systemctl is-system-running 2>/dev/null || true)
    case "$state" in running | degraded) break ;; esac
    sleep 1
  done
  docker exec "$prefix-$host" systemctl start ssh
done

# The homelab inventory with the containers' addresses: all its files (hosts
# and every group's vars), the WireGuard subnet and the VM's address moved to
# the network's, generated secrets in place of the vault. The offline mirror's
# settings are extra vars, as scripts/demo passes them: they win over the
# inventory's (its grafana_install_method: apt among them).
inv="$work/inventory"
rm -rf "$inv"
cp -r inventories/homelab "$inv"
find "$inv" -name '*.example' -delete
find "$inv" -type f -name '*.yml' -exec sed -i -e "s#10\.8\.0\.0/24#$subnet#g" \
  -e "s/10\.8\.0\.1\b/$server/g" -e "s/10\.8\.0\.2\b/$laptop/g" {} +
secrets="$work/secrets.yml"
if [ ! -s "$secrets" ]; then
  (umask 077 && python3 - >"$secrets" <<'PY'
import secrets
print("vault_claude_monitoring_ingest_tokens:")
print(f'  - "{secrets.token_hex(32)}"')
print('vault_alertmanager_discord_webhook_url: "https://discord.invalid/api/webhooks/0/site-rerun"')
print(f'vault_alertmanager_smtp_password: "{secrets.token_urlsafe(18)}"')
print(f'vault_grafana_admin_password: "{secrets.token_urlsafe(18)}"')
PY
  )
fi
mkdir -p "$inv/group_vars/all"
cp "$secrets" "$inv/group_vars/all/vault.yml"
cat >"$inv/group_vars/all/connection.yml" <<YML
---
ansible_user: deploy
ansible_ssh_private_key_file: $key
ansible_ssh_common_args: -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes -o LogLevel=ERROR
YML
offline="$work/offline.yml"
cat >"$offline" <<YML
---
# As scripts/demo's offline extra vars and .config/molecule/config.yml.
release_service_base_url: $CM_MIRROR_URL
release_service_allow_http: true
release_service_pins_file: $CM_CACHE_DIR/mirror-pins.yml
release_service_cache_dir: $CM_CACHE_DIR/controller-cache
# User namespaces cannot be set up in these containers.
release_service_private_users: false
grafana_install_method: archive
grafana_archive_base_url: $CM_MIRROR_URL/grafana-dl/oss/release
YML

export ANSIBLE_CALLBACK_PLUGINS="$CM_ROOT/benchmarks/callback_plugins"
export ANSIBLE_CALLBACKS_ENABLED=rerun_profile
run() {
  local what=$1 start end rc
  shift
  start=$(date +%s.%N)
  set +e
  CM_RERUN_PROFILE_JSON="$work/$what.json" ansible-playbook site.yml -i "$inv" -e "@$offline" "$@" >"$work/$what.log" 2>&1
  rc=$?
  set -e
  end=$(date +%s.%N)
  python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$start" "$end" >"$work/$what.seconds"
  log "$what: $(cat "$work/$what.seconds") s, rc=$rc (log: $work/$what.log)"
  return "$rc"
}

# CM_RERUN_ONLY=1 skips the converging run (containers kept from --keep).
[ "${CM_RERUN_ONLY:-}" = 1 ] || run converge || { tail -40 "$work/converge.log" >&2; die "the converging run failed"; }
run rerun || { tail -40 "$work/rerun.log" >&2; die "the re-run failed"; }
sed -n '/^PLAY RECAP/,$p' "$work/rerun.log"
changed=$(sed -n '/^PLAY RECAP/,$p' "$work/rerun.log" | grep -o 'changed=[0-9]*' | awk -F= '{n += $2} END {print n + 0}')
echo "RERUN $(cat "$work/rerun.seconds") s changed=$changed (converge $(cat "$work/converge.seconds") s)"
[ "$keep" = true ] || "$0" down
[ "$changed" = 0 ] || die "the re-run changed $changed things: not idempotent"
