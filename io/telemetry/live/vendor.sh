#!/usr/bin/env bash
# Re-fetches the live page's vendored npm packages and verifies them.
#
#   io/telemetry/live/vendor.sh            fetch each package below with
#       `npm pack`, check the tarball's integrity (sha512, as the npm
#       registry records it) against the one written here, copy the files
#       the page uses into assets/vendor/ and check them against
#       assets/vendor/SHA256SUMS. Any mismatch: exit 1, nothing kept.
#   io/telemetry/live/vendor.sh --check    only check assets/vendor/
#       against SHA256SUMS (no network; TestVendorChecksums does the same).
#   io/telemetry/live/vendor.sh --accept   after changing a version
#       below: fetch, copy, rewrite SHA256SUMS and print each tarball's
#       integrity to paste here. Review the diff before committing.
#
# Needs npm (Debian's npm package) and sha256sum.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
vendor="$here/assets/vendor"

# name@version | tarball integrity | package path:vendored name ...
packages=(
  "mqtt@5.16.0|sha512-G0VsEtuJz5sJUgZJaaADMVfW7SIFPzkIuHR+d6rk+tBeSwdCfd9BaIRycRfd2AbyFDEmLlFM+SDQeti/+IbOnw==|dist/mqtt.min.js:mqtt.min.js LICENSE.md:LICENSE.mqtt.md"
  "@msgpack/msgpack@3.1.3|sha512-47XIizs9XZXvuJgoaJUIE2lFoID8ugvc0jzSHP+Ptfk8nTbnR8g788wv48N03Kx0UkAv559HWRQ3yzOgzlRNUA==|dist.umd/msgpack.min.js:msgpack.min.js LICENSE:LICENSE.msgpack"
  "uplot@1.6.32|sha512-KIMVnG68zvu5XXUbC4LQEPnhwOxBuLyW1AHtpm6IKTXImkbLgkMy+jabjLgSLMasNuGGzQm/ep3tOkyTxpiQIw==|dist/uPlot.iife.min.js:uPlot.iife.min.js dist/uPlot.min.css:uPlot.min.css LICENSE:LICENSE.uplot"
)

mode="${1:-fetch}"
if [ "$mode" = --check ]; then
  cd "$vendor" && sha256sum --quiet -c SHA256SUMS && echo "assets/vendor matches SHA256SUMS"
  exit
fi
case "$mode" in fetch|--accept) ;; *) echo "usage: $0 [--check|--accept]" >&2; exit 2;; esac

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/out"
for p in "${packages[@]}"; do
  IFS='|' read -r spec want files <<<"$p"
  got="$(cd "$tmp" && npm pack "$spec" --json 2>/dev/null | sed -n 's/.*"integrity": *"\([^"]*\)".*/\1/p')"
  tgz="$(ls -t "$tmp"/*.tgz | head -1)"
  if [ "$mode" = --accept ]; then
    echo "$spec integrity: $got"
  elif [ "$got" != "$want" ]; then
    echo "$spec: tarball integrity $got, want $want" >&2; exit 1
  fi
  mkdir -p "$tmp/x" && rm -rf "$tmp/x/package" && tar xzf "$tgz" -C "$tmp/x"
  rm -f "$tgz"
  for f in $files; do
    cp "$tmp/x/package/${f%%:*}" "$tmp/out/${f##*:}"
  done
done
if [ "$mode" = --accept ]; then
  (cd "$tmp/out" && sha256sum * | sort -k2) > "$tmp/SHA256SUMS"
else
  cp "$vendor/SHA256SUMS" "$tmp/SHA256SUMS"
  (cd "$tmp/out" && sha256sum --quiet -c "$tmp/SHA256SUMS") || { echo "fetched files differ from SHA256SUMS" >&2; exit 1; }
fi
cp "$tmp"/out/* "$vendor/" && cp "$tmp/SHA256SUMS" "$vendor/SHA256SUMS"
echo "assets/vendor: $(ls "$tmp/out" | wc -l) files fetched and verified"
