#!/usr/bin/env bash
# Publish a second version of the collector on the local mirror: the same
# program with different bytes (trailing data after the ELF image keeps it
# runnable), under the upstream paths, with its checksum list. The version
# bumps of the Molecule scenarios (platform, stack) install it.
#   tests/platform/bump-release.sh 0.161.1
# Idempotent and safe to run from scenarios side by side (one at a time under
# a lock; the archive replaces the old one only when whole).
. "$(dirname "$0")/lib.sh"
bumped=${1:?usage: bump-release.sh VERSION}
release_dir=open-telemetry/opentelemetry-collector-releases/releases/download
src="$CM_MIRROR_DIR/$release_dir/v$OTELCOL_VERSION"
dst="$CM_MIRROR_DIR/$release_dir/v$bumped"
archive="otelcol-contrib_${bumped}_linux_amd64.tar.gz"
mkdir -p "$dst"
exec 9>"$dst/.lock"
flock 9
base=$(sha256sum "$src/otelcol-contrib_${OTELCOL_VERSION}_linux_amd64.tar.gz" | cut -d' ' -f1)
if [ -s "$dst/$archive" ] && [ "$(cat "$dst/.base" 2>/dev/null)" = "$base" ]; then exit 0; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar -xzf "$src/otelcol-contrib_${OTELCOL_VERSION}_linux_amd64.tar.gz" -C "$tmp"
printf '\nplatform test release %s\n' "$bumped" >>"$tmp/otelcol-contrib"
tar -C "$tmp" -cf - . | gzip -1 >"$dst/$archive.part"
mv "$dst/$archive.part" "$dst/$archive"
(cd "$dst" && sha256sum "$archive" >opentelemetry-collector-releases_otelcol-contrib_checksums.txt)
echo "$base" >"$dst/.base"
# A cached copy of an older build of this version would no longer match.
rm -rf "$CM_CACHE_DIR/controller-cache/otelcol-contrib/$bumped"
log "bump-release: otelcol-contrib $bumped on the mirror"
