#!/usr/bin/env bash
# Renders the two pictures of repeats grouped (README "Connections that repeat"), from real
# runs on ../shared/captures/initconf_RDP-bruteforce/RDP-bruteforce.pcap:
#   docs/terminal-80-columns.png  the terminal at 80 columns (a pseudo-terminal via script,
#                                 colours kept, turned into HTML by aha)
#   docs/report-grouped.png       the HTML report, grouped
# Needs chromium, aha and script (apt-get install chromium aha util-linux).
set -euo pipefail
cd "$(dirname "$0")/.."

# The binary cargo built (wherever its target directory is).
bin=$(cargo build -q --message-format=json |
    grep -o '"executable":"[^"]*/rdpscope"' | head -1 | cut -d'"' -f4)
[ -x "$bin" ] || { echo "no rdpscope binary built" >&2; exit 1; }
dir=../shared/captures/initconf_RDP-bruteforce
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

shot() { # html png width height
    chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$out/profile" --hide-scrollbars \
        --screenshot="$PWD/$2" --window-size="$3,$4" "file://$1" 2>/dev/null
}

# The table and the first group's block: the lines before the second group's block.
(cd "$dir" && script -qec "stty cols 80 rows 200; $bin RDP-bruteforce.pcap" /dev/null) \
    | tr -d '\r' >"$out/term.ansi" || true
lines=$(grep -n '^#3 and' "$out/term.ansi" | head -1 | cut -d: -f1)
total=$(grep -c . "$out/term.ansi")
{
    printf '$ rdpscope RDP-bruteforce.pcap        # stty cols 80\n'
    head -n $((lines - 2)) "$out/term.ansi"
    printf '  … (one block per group; %s lines for 71 connections)\n' "$total"
} | aha --black --title "rdpscope at 80 columns" >"$out/term.html"
sed -i 's|<pre>|<pre style="font-family:DejaVu Sans Mono,monospace;font-size:14px;line-height:1.2;margin:8px">|' \
    "$out/term.html"
shot "$out/term.html" docs/terminal-80-columns.png 720 1830

# A brute force holds failing connections: exit status 1 is the expected one.
(cd "$dir" && "$bin" report -o "$out/report.html" RDP-bruteforce.pcap) || test $? -eq 1
shot "$out/report.html" docs/report-grouped.png 1200 1600
echo "wrote docs/terminal-80-columns.png and docs/report-grouped.png" >&2
