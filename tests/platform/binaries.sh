#!/usr/bin/env bash
# Build the real release binaries from their Go modules and lay them out as the
# upstream releases do (archive names and checksum files), under the mirror dir.
# Each build is cached by version and recipe; a cached build is reused as is.
#   binaries.sh [otelcol|loki|prometheus|alertmanager|grafana ...]   (default: all;
#   loki and grafana are the project's stand-ins, see build_loki and build_grafana)
. "$(dirname "$0")/lib.sh"

GO_ARCH=amd64
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false
BUILD_DIR="$CM_CACHE_DIR/build"
GOBIN_DIR="$CM_CACHE_DIR/go/bin"
mkdir -p "$BUILD_DIR" "$GOBIN_DIR"

need_cmd go || die "go is not installed (Go 1.24+ is needed to build the test binaries)"

# up_to_date DIR KEY FILES...: the cached release in DIR was built from KEY.
up_to_date() {
  local dir=$1 key=$2 f
  shift 2
  [ "$(cat "$dir/.recipe" 2>/dev/null)" = "$key" ] || return 1
  for f in "$@"; do [ -s "$dir/$f" ] || return 1; done
  (cd "$dir" && sha256sum --quiet -c "$(basename "$dir").sha256") >/dev/null 2>&1
}

# seal DIR KEY SUMSFILE ASSETS...: write the upstream checksum list and the
# cache stamp. The stamp's own checksum list catches a truncated cache entry.
seal() {
  local dir=$1 key=$2 sums=$3
  shift 3
  (cd "$dir" && sha256sum "$@" >"$sums" && sha256sum "$@" "$sums" >"$(basename "$dir").sha256")
  echo "$key" >"$dir/.recipe"
}

# stamp DIR KEY FILES...: the cache stamp alone, for layouts without an
# upstream checksum list (Grafana's per-file .sha256, an APT repository).
stamp() {
  local dir=$1 key=$2
  shift 2
  (cd "$dir" && sha256sum "$@" >"$(basename "$dir").sha256")
  echo "$key" >"$dir/.recipe"
}

build_otelcol() {
  local v=$OTELCOL_VERSION dir key work archive sums
  dir=$(otelcol_release_dir)
  archive="otelcol-contrib_${v}_linux_${GO_ARCH}.tar.gz"
  sums="opentelemetry-collector-releases_otelcol-contrib_checksums.txt"
  key="$v-$(recipe_hash "$CM_PLATFORM_DIR/otelcol-builder.yaml" "$0")"
  if up_to_date "$dir" "$key" "$archive" "$sums"; then
    log "otelcol $v: cached"
    return 0
  fi
  work="$BUILD_DIR/otelcol-$v"
  rm -rf "$work" && mkdir -p "$work/out" "$work/pkg" "$dir"
  GOBIN="$GOBIN_DIR" go install "go.opentelemetry.io/collector/cmd/builder@v$v"
  sed -e "s|@VERSION@|$v|g" -e "s|@OUTPUT@|$work/out|g" \
    "$CM_PLATFORM_DIR/otelcol-builder.yaml" >"$work/manifest.yaml"
  # The builder's own `go mod get` step runs a strict `go mod tidy`, which also
  # fetches the test-only dependencies of every component; some of those are
  # not served by the module proxy. Generate with the builder, then resolve
  # with `tidy -e` (test-only gaps tolerated) and compile as upstream does.
  "$GOBIN_DIR/builder" --config "$work/manifest.yaml" --skip-compilation >"$work/builder.log" 2>&1 ||
    grep -q 'tested by' "$work/builder.log" || { cat "$work/builder.log" >&2; die "otelcol builder failed"; }
  [ -s "$work/out/go.mod" ] || die "otelcol builder wrote no go.mod (log: $work/builder.log)"
  (cd "$work/out" && go mod tidy -e)
  # What the builder's strict versioning would check: every component resolved
  # to exactly the version the manifest names.
  local mod want got
  while read -r mod want; do
    got=$(cd "$work/out" && go list -m -f '{{.Version}}' "$mod")
    [ "$got" = "$want" ] || die "otelcol: $mod resolved to $got, manifest wants $want"
  done < <(awk '$1 == "-" && $2 == "gomod:" {print $3, $4}' "$work/manifest.yaml")
  (cd "$work/out" && go build -trimpath -ldflags "-s -w" -o otelcol-contrib .)
  cp "$work/out/otelcol-contrib" "$work/pkg/"
  printf 'otelcol-contrib %s built from its Go modules for tests.\n' "$v" >"$work/pkg/README.md"
  tar -C "$work/pkg" -czf "$dir/$archive" otelcol-contrib README.md
  seal "$dir" "$key" "$sums" "$archive"
  rm -rf "$work"
}

# Loki is AGPL: no Loki code is fetched, built or run here. The roles' Loki
# install path is exercised with the project's own stand-in
# (tests/standins/loki, permissive modules only), packed under Loki's upstream
# archive name and checksum list so the loki role installs it unchanged. A
# real Loki left in this cache by an earlier recipe fails up_to_date and is
# replaced; its build directory goes too.
build_loki() {
  local v=$LOKI_VERSION dir key work src="$CM_ROOT/tests/standins/loki" asset="loki-linux-${GO_ARCH}"
  dir=$(loki_release_dir)
  key="standin-$v-$(recipe_hash "$0" "$src"/go.mod "$src"/go.sum "$src"/*.go "$src"/config-reference.yaml)"
  rm -rf "$BUILD_DIR"/loki-*
  if up_to_date "$dir" "$key" "$asset.zip" SHA256SUMS; then
    log "loki stand-in (as $v): cached"
    return 0
  fi
  work="$BUILD_DIR/loki-standin-$v"
  rm -rf "$work" "$dir" && mkdir -p "$work" "$dir"
  (cd "$src" && go build -trimpath -ldflags "-s -w -X main.version=$v" -o "$work/$asset" .)
  (cd "$work" && python3 -m zipfile -c "$dir/$asset.zip" "$asset")
  seal "$dir" "$key" SHA256SUMS "$asset.zip"
  rm -rf "$work"
}

build_prometheus() {
  local v=$PROMETHEUS_VERSION dir key work name modv
  dir=$(prometheus_release_dir)
  name="prometheus-$v.linux-${GO_ARCH}"
  modv="v0.$(echo "$v" | awk -F. '{printf "%d%02d.%d", $1, $2, $3}')"
  key="$v-$(recipe_hash "$0")"
  if up_to_date "$dir" "$key" "$name.tar.gz" sha256sums.txt; then
    log "prometheus $v: cached"
    return 0
  fi
  work="$BUILD_DIR/prometheus-$v"
  rm -rf "$work" && mkdir -p "$work/$name" "$dir"
  printf 'module example.invalid/prometheus-build\n\ngo 1.24\n\nrequire github.com/prometheus/prometheus %s\n' "$modv" >"$work/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport (\n\t_ "github.com/prometheus/prometheus/cmd/prometheus"\n\t_ "github.com/prometheus/prometheus/cmd/promtool"\n)\n' >"$work/tools.go"
  # Only static and file service discovery are needed by the roles; leaving
  # out the cloud SDKs halves the build. Version info as upstream sets it.
  local ldflags="-s -w -X github.com/prometheus/common/version.Version=$v -X github.com/prometheus/common/version.Branch=HEAD"
  (cd "$work" && go mod tidy &&
    go build -trimpath -tags netgo,remove_all_sd -ldflags "$ldflags" -o "$name/prometheus" github.com/prometheus/prometheus/cmd/prometheus &&
    go build -trimpath -tags netgo,remove_all_sd -ldflags "$ldflags" -o "$name/promtool" github.com/prometheus/prometheus/cmd/promtool)
  printf 'Prometheus %s built from its Go module for tests.\n' "$v" >"$work/$name/README.md"
  tar -C "$work" -czf "$dir/$name.tar.gz" "$name"
  seal "$dir" "$key" sha256sums.txt "$name.tar.gz"
  rm -rf "$work"
}

build_alertmanager() {
  local v=$ALERTMANAGER_VERSION dir key work name src
  dir=$(alertmanager_release_dir)
  name="alertmanager-$v.linux-${GO_ARCH}"
  key="$v-$(recipe_hash "$0")"
  # The module does not ship the web UI's built assets that ui/web.go embeds:
  # build from a copy of the module's source with a one-page placeholder there
  # (the API, which the tests use, is complete). The copy stays beside the
  # build cache: the licence guard reads its LICENSE.
  src="$BUILD_DIR/alertmanager-src-$v"
  if up_to_date "$dir" "$key" "$name.tar.gz" sha256sums.txt && [ -s "$src/LICENSE" ]; then
    log "alertmanager $v: cached"
    return 0
  fi
  work="$BUILD_DIR/alertmanager-$v"
  rm -rf "$work" "$src" && mkdir -p "$work/$name" "$dir"
  cp -r "$(cd "$work" && go mod download -json "github.com/prometheus/alertmanager@v$v" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')" "$src"
  chmod -R u+w "$src"
  for ui in elm mantine; do
    mkdir -p "$src/ui/app/dist/$ui"
    echo '<p>Alertmanager web UI not built in this test build; the API is complete.</p>' >"$src/ui/app/dist/$ui/index.html"
  done
  printf 'module example.invalid/alertmanager-build\n\ngo 1.24\n\nrequire github.com/prometheus/alertmanager v%s\n\nreplace github.com/prometheus/alertmanager => %s\n' "$v" "$src" >"$work/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport (\n\t_ "github.com/prometheus/alertmanager/cmd/alertmanager"\n\t_ "github.com/prometheus/alertmanager/cmd/amtool"\n)\n' >"$work/tools.go"
  local ldflags="-s -w -X github.com/prometheus/common/version.Version=$v -X github.com/prometheus/common/version.Branch=HEAD"
  (cd "$work" && go mod tidy &&
    go build -trimpath -tags netgo -ldflags "$ldflags" -o "$name/alertmanager" github.com/prometheus/alertmanager/cmd/alertmanager &&
    go build -trimpath -tags netgo -ldflags "$ldflags" -o "$name/amtool" github.com/prometheus/alertmanager/cmd/amtool)
  printf 'Alertmanager %s built from its Go module for tests.\n' "$v" >"$work/$name/README.md"
  tar -C "$work" -czf "$dir/$name.tar.gz" "$name"
  seal "$dir" "$key" sha256sums.txt "$name.tar.gz"
  rm -rf "$work"
}

# Grafana is AGPL: no Grafana code is fetched, built or run here. The grafana
# role's two install paths run against the project's stand-in
# (tests/standins/grafana, stdlib and yaml.v3 only), packaged with Grafana's
# upstream layout:
#   - grafana-<v>.linux-amd64.tar.gz (top directory grafana-v<v>/: bin/grafana,
#     conf/defaults.ini, ...) with its bare-digest .sha256, as dl.grafana.com
#     serves them, for grafana_install_method: archive;
#   - an APT repository (dists/stable/main, pool/) holding grafana_<v>_amd64.deb
#     (/usr/share/grafana, the grafana-server unit and /etc/default file, a
#     postinst creating user grafana), signed with a test key and its public
#     key as gpg.key, for grafana_install_method: apt.
# The signing key is generated once and kept in $CM_CACHE_DIR/grafana-apt-key
# (its fingerprint is in the recipe, and in fingerprint.txt next to gpg.key for
# the tests' inventories); the repository is re-signed when the stand-in
# changes.
grafana_key() {
  local home="$CM_CACHE_DIR/grafana-apt-key"
  if [ ! -s "$home/fingerprint" ]; then
    rm -rf "$home" && mkdir -p "$home" && chmod 0700 "$home"
    gpg --homedir "$home" --batch --quiet --passphrase '' --quick-generate-key \
      "claude_monitoring.stack test APT key (Grafana stand-in repository, not Grafana's key) <tests@example.invalid>" \
      ed25519 sign never
    gpg --homedir "$home" --quiet --with-colons --list-keys 2>/dev/null | awk -F: '$1 == "fpr" {print $10; exit}' >"$home/fingerprint.tmp"
    mv "$home/fingerprint.tmp" "$home/fingerprint"
  fi
  cat "$home/fingerprint"
}

build_grafana() {
  local v=$GRAFANA_VERSION src="$CM_ROOT/tests/standins/grafana" dl apt key fpr work top tarball deb keyhome="$CM_CACHE_DIR/grafana-apt-key"
  need_cmd gpg && need_cmd dpkg-deb && need_cmd dpkg-scanpackages || apt_install gnupg dpkg-dev
  dl=$(grafana_release_dir)
  apt=$(grafana_apt_dir)
  fpr=$(grafana_key)
  key="standin-$v-$fpr-$(recipe_hash "$0" "$src"/go.mod "$src"/go.sum "$src"/*.go "$src"/README.md $(find "$src/package" -type f | sort))"
  tarball="grafana-$v.linux-${GO_ARCH}.tar.gz"
  deb="pool/main/g/grafana/grafana_${v}_${GO_ARCH}.deb"
  if up_to_date "$dl" "$key" "$tarball" "$tarball.sha256" &&
    up_to_date "$apt" "$key" gpg.key fingerprint.txt dists/stable/InRelease "$deb"; then
    log "grafana stand-in (as $v): cached"
    return 0
  fi
  work="$BUILD_DIR/grafana-standin-$v"
  top="grafana-v$v"
  rm -rf "$work" "$dl" "$apt" && mkdir -p "$work/$top/bin" "$dl" "$apt"
  (cd "$src" && go build -trimpath -ldflags "-s -w -X main.version=$v" -o "$work/$top/bin/grafana" .)
  ln -s grafana "$work/$top/bin/grafana-server"
  cp -r "$src/package/conf" "$work/$top/conf"
  cp "$src/README.md" "$work/$top/README.md"
  echo "$v" >"$work/$top/VERSION"

  # The standalone tarball and its checksum (a bare digest, as upstream's).
  tar -C "$work" --owner=0 --group=0 -czf "$dl/$tarball" "$top"
  sha256sum "$dl/$tarball" | cut -d' ' -f1 >"$dl/$tarball.sha256"
  stamp "$dl" "$key" "$tarball" "$tarball.sha256"

  # The .deb: Grafana's package layout, with the stand-in's maintainer scripts.
  local root="$work/deb"
  mkdir -p "$root/usr/share" "$root/lib/systemd/system" "$root/etc/default" "$root/DEBIAN" "$apt/$(dirname "$deb")"
  cp -a "$work/$top" "$root/usr/share/grafana"
  cp "$src/package/deb/grafana-server.service" "$root/lib/systemd/system/"
  cp "$src/package/deb/grafana-server.default" "$root/etc/default/grafana-server"
  install -m 0755 "$src/package/deb/postinst" "$src/package/deb/prerm" "$src/package/deb/postrm" "$root/DEBIAN/"
  echo /etc/default/grafana-server >"$root/DEBIAN/conffiles"
  cat >"$root/DEBIAN/control" <<CONTROL
Package: grafana
Version: $v
Architecture: ${GO_ARCH}
Maintainer: claude_monitoring.stack tests <tests@example.invalid>
Installed-Size: $(du -sk "$root/usr" | cut -f1)
Section: default
Priority: optional
Homepage: https://grafana.com
Description: Grafana STAND-IN for tests (not Grafana)
 A small program that takes Grafana's place in the claude_monitoring.stack
 collection's tests, with Grafana's package layout. It is not Grafana.
CONTROL
  dpkg-deb --root-owner-group -Zgzip --build "$root" "$apt/$deb" >/dev/null

  # The repository: Packages, a Release file, signed inline and detached.
  local dist="$apt/dists/stable"
  mkdir -p "$dist/main/binary-${GO_ARCH}"
  (cd "$apt" && dpkg-scanpackages --multiversion pool /dev/null 2>/dev/null) >"$dist/main/binary-${GO_ARCH}/Packages"
  gzip -9nc "$dist/main/binary-${GO_ARCH}/Packages" >"$dist/main/binary-${GO_ARCH}/Packages.gz"
  {
    printf 'Origin: claude_monitoring.stack tests\nLabel: Grafana stand-in (not Grafana)\nSuite: stable\nCodename: stable\n'
    printf 'Date: %s\nArchitectures: %s\nComponents: main\n' "$(LC_ALL=C date -Ru)" "${GO_ARCH}"
    printf 'Description: APT repository of the Grafana stand-in for tests (not Grafana)\n'
    local sum f
    for sum in MD5Sum:md5sum SHA256:sha256sum; do
      echo "${sum%%:*}:"
      for f in main/binary-${GO_ARCH}/Packages main/binary-${GO_ARCH}/Packages.gz; do
        printf ' %s %s %s\n' "$(${sum#*:} "$dist/$f" | cut -d' ' -f1)" "$(stat -c %s "$dist/$f")" "$f"
      done
    done
  } >"$dist/Release"
  gpg --homedir "$keyhome" --batch --yes --quiet --local-user "$fpr" --clearsign -o "$dist/InRelease" "$dist/Release"
  gpg --homedir "$keyhome" --batch --yes --quiet --local-user "$fpr" --armor --detach-sign -o "$dist/Release.gpg" "$dist/Release"
  gpg --homedir "$keyhome" --armor --export "$fpr" >"$apt/gpg.key"
  echo "$fpr" >"$apt/fingerprint.txt"
  gpgconf --homedir "$keyhome" --kill gpg-agent 2>/dev/null || true
  stamp "$apt" "$key" gpg.key fingerprint.txt dists/stable/Release dists/stable/InRelease \
    dists/stable/Release.gpg "dists/stable/main/binary-${GO_ARCH}/Packages" "dists/stable/main/binary-${GO_ARCH}/Packages.gz" "$deb"
  rm -rf "$work"
}

targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=(otelcol loki prometheus alertmanager grafana)
for t in "${targets[@]}"; do
  stage "build-$t" "build_$t"
done
