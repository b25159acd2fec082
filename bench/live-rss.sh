#!/usr/bin/env bash
# Memory of `rdpscope live` without --json on a long capture: the lab fixtures are replayed
# onto the loopback interface in a bounded tcpreplay loop (fixed packet rate) for DURATION
# seconds while `rdpscope live -i lo` (release build) prints each connection as it
# finishes; its resident set size is sampled every INTERVAL seconds and printed as a table.
# A flat RSS means memory is bounded by the active connections, not by the connections seen.
# Needs root (raw sockets on lo) and tcpreplay. Traffic stays on this machine.
#   usage: bash bench/live-rss.sh [BINARY]     (default: the release build of this checkout)
#   env:   DURATION=s (60), INTERVAL=s (5), PPS=replay rate (1000), LOOPS=bound (1000)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "bench/live-rss.sh: needs root (raw sockets on lo)" >&2; exit 2; }
command -v tcpreplay >/dev/null || { echo "bench/live-rss.sh: tcpreplay is missing" >&2; exit 2; }
DURATION=${DURATION:-60}
INTERVAL=${INTERVAL:-5}
PPS=${PPS:-1000}
LOOPS=${LOOPS:-1000}
if [ $# -gt 0 ]; then
    BIN=$1
else
    export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
    cargo build --release --quiet --bin rdpscope
    BIN="$CARGO_TARGET_DIR/release/rdpscope"
fi
FIXTURES=(fixtures/lab/*.pcap)
OUT=$(mktemp)
ERR=$(mktemp)
RDP_PID=""
REPLAY_PID=""
cleanup() {
    [ -n "$REPLAY_PID" ] && kill "$REPLAY_PID" 2>/dev/null || true
    [ -n "$RDP_PID" ] && kill "$RDP_PID" 2>/dev/null || true
    rm -f "$OUT" "$ERR"
}
trap cleanup EXIT

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
finished() { grep -c ': finished, ' "$OUT" || true; }

"$BIN" live -i lo >"$OUT" 2>"$ERR" &
RDP_PID=$!
for _ in $(seq 100); do grep -q "capturing on" "$ERR" && break; sleep 0.1; done
# Bounded both ways: at most LOOPS passes over the fixtures, and DURATION seconds.
timeout "$((DURATION + 5))" tcpreplay -q -i lo --pps="$PPS" --loop="$LOOPS" \
    --duration="$DURATION" "${FIXTURES[@]}" >/dev/null 2>&1 &
REPLAY_PID=$!

echo "rdpscope live -i lo ($BIN), ${#FIXTURES[@]} lab fixtures replayed at $PPS packets/s for ${DURATION} s; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '| t (s) | RSS (MB) | connections finished |\n|---:|---:|---:|\n'
start=$(date +%s)
for t in $(seq 0 "$INTERVAL" "$DURATION"); do
    while [ $(($(date +%s) - start)) -lt "$t" ]; do sleep 0.2; done
    printf '| %s | %.1f | %s |\n' "$t" "$(echo "$(rss_kb "$RDP_PID") / 1024" | bc -l)" "$(finished)"
done
wait "$REPLAY_PID" 2>/dev/null || true
REPLAY_PID=""
hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$RDP_PID/status")
kill -INT "$RDP_PID"
wait "$RDP_PID" || true
RDP_PID=""
printf 'peak RSS %.1f MB; %s connections finished; %s\n' "$(echo "$hwm / 1024" | bc -l)" \
    "$(finished)" "$(grep -o '[0-9]* packets received.*' "$ERR" || echo 'no capture statistics')"
