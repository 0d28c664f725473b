#!/usr/bin/env bash
# Build the systemd-capable Debian images Molecule's containers run, with
# debootstrap (no registry is reachable). An image is rebuilt only when this
# recipe changes: its tag carries the recipe hash.
#   images.sh [bookworm|trixie ...]   (default: DEBIAN_SUITES)
. "$(dirname "$0")/lib.sh"

# What every test host needs up front: systemd as PID 1, Python for Ansible,
# and the tools verifiers and roles use, so converge needs no package download
# (python3-aiosmtpd: the real SMTP server the alertmanager scenario mails to).
PACKAGES=systemd,systemd-sysv,dbus,python3,python3-apt,sudo,iproute2,ca-certificates,curl,nftables,procps,netcat-openbsd,unzip,gnupg,python3-aiosmtpd
# debootstrap's own default archive unless DEBIAN_MIRROR names another.
DEBIAN_MIRROR=${DEBIAN_MIRROR:-}

apt_install debootstrap
key=$(printf '%s|%s|%s' "$PACKAGES" "$DEBIAN_MIRROR" "$(cat "$0")" | sha256sum | cut -c1-12)

build_image() {
  local suite=$1 image="cm-debian-$1" tarball root
  tarball="$CM_CACHE_DIR/images/$image-$key.tar"
  if docker image inspect "$image:$key" >/dev/null 2>&1; then
    log "image $image:$key: present"
  elif [ -s "$tarball" ]; then
    log "image $image:$key: importing cached rootfs"
    docker import -c 'CMD ["/lib/systemd/systemd"]' -c 'ENV container=docker' "$tarball" "$image:$key" >/dev/null
  else
    root=$(mktemp -d "$CM_CACHE_DIR/rootfs-$suite.XXXXXX")
    debootstrap --variant=minbase --include="$PACKAGES" "$suite" "$root" ${DEBIAN_MIRROR:+"$DEBIAN_MIRROR"} >"$root.log" 2>&1 ||
      { tail -20 "$root.log" >&2; die "debootstrap $suite failed (log: $root.log)"; }
    # Units that cannot work in a container only add noise to the journal.
    chroot "$root" systemctl mask systemd-firstboot.service getty@tty1.service \
      systemd-udevd.service systemd-modules-load.service sys-kernel-config.mount >/dev/null 2>&1 || true
    # Containers do not inherit the host's resolver overrides; the archive is
    # not needed at converge time because PACKAGES already holds the tools.
    rm -rf "$root/var/cache/apt/archives/"*.deb
    mkdir -p "$(dirname "$tarball")"
    tar -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$root" "$root.log"
    docker import -c 'CMD ["/lib/systemd/systemd"]' -c 'ENV container=docker' "$tarball" "$image:$key" >/dev/null
  fi
  docker tag "$image:$key" "$image:latest"
  # Old recipes' rootfs tarballs only take space.
  find "$CM_CACHE_DIR/images" -name "$image-*.tar" ! -name "$image-$key.tar" -delete
}

suites=("$@")
[ "${#suites[@]}" -gt 0 ] || read -r -a suites <<<"$DEBIAN_SUITES"
for s in "${suites[@]}"; do
  stage "image-$s" build_image "$s"
done
