#!/bin/bash
# e2e-test.sh - record one quick lab scenario (tls13_ok: xrdp TLS 1.3 + xfreerdp
# +auth-only, about 5 s) into a fresh temporary directory and print the path of
# the capture on stdout (progress goes to stderr). Needs root and lab/setup.sh.
# Usage: lab/e2e-test.sh [SCENARIO]
set -euo pipefail
LAB=$(cd "$(dirname "$0")" && pwd)
name=${1:-tls13_ok}
[ "$(id -u)" = 0 ] || { echo "e2e-test.sh: needs root" >&2; exit 77; }
out=$(mktemp -d /tmp/rdplab-e2e.XXXXXX)
OUT_DIR=$out STATUS_DIR=$out/.status "$LAB/run.sh" "$name" >&2
[ "$(cat "$out/.status/$name" 2>/dev/null)" = ok ] || { echo "e2e-test.sh: scenario $name failed" >&2; exit 1; }
echo "$out/$name.pcap"
