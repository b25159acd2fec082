#!/usr/bin/env bash
# Builds the HTML report of every lab fixture and renders it with headless Chromium into
# docs/report.png (the picture the README shows). Needs chromium (scripts/setup.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."

target="${CARGO_TARGET_DIR:-target}"
cargo build -q
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

# The lab files hold failing connections: exit status 1 is the expected one.
"$target/debug/rdpscope" report -o "$out/report.html" fixtures/lab/*.pcap || test $? -eq 1

chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$out/profile" --hide-scrollbars \
    --screenshot="$PWD/docs/report.png" --window-size=1280,2400 \
    "file://$out/report.html" 2>/dev/null
echo "wrote docs/report.png" >&2
