#!/usr/bin/env bash
# Build the real release binaries from their Go modules and lay them out as the
# upstream releases do (archive names and checksum files), under the mirror dir.
# Each build is cached by version and recipe; a cached build is reused as is.
#   binaries.sh [otelcol|loki|prometheus|alertmanager ...]   (default: all; loki is
#   the project's stand-in, see build_loki)
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

targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=(otelcol loki prometheus alertmanager)
for t in "${targets[@]}"; do
  stage "build-$t" "build_$t"
done
