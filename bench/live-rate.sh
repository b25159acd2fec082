#!/usr/bin/env bash
# How fast `rdpscope live` keeps up: replays a capture with tcpreplay at fixed packet rates
# onto a veth pair between two network namespaces made here, with rdpscope capturing on the
# far end, and prints what the kernel says it dropped at each rate. Needs root and tcpreplay.
#   usage: bash bench/live-rate.sh [RATE...]        (default 50000 100000 150000 200000)
#   env:   SHAPE=bulk|dense (bench/make-capture.py --shape, default bulk),
#          CAPTURE=file to replay (default bench/out/rdp-live-$SHAPE-100M.pcap, built if missing),
#          LOOPS=n replays per rate (default 3), BUFFER_MB=rdpscope's -B (default its own),
#          SNAPLEN=rdpscope's -s (default its own).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "bench/live-rate.sh: needs root (namespaces, raw sockets)" >&2; exit 2; }
command -v tcpreplay >/dev/null || { echo "bench/live-rate.sh: tcpreplay is missing" >&2; exit 2; }
RATES=("$@")
[ ${#RATES[@]} -gt 0 ] || RATES=(50000 100000 150000 200000)
SHAPE=${SHAPE:-bulk}
CAPTURE=${CAPTURE:-bench/out/rdp-live-$SHAPE-100M.pcap}
LOOPS=${LOOPS:-3}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet --bin rdpscope
# The target dir may be redirected (a cargo wrapper): ask cargo where the artifacts went.
TARGET=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
BIN="$TARGET/release/rdpscope"
if [ ! -s "$CAPTURE" ]; then
    mkdir -p "$(dirname "$CAPTURE")"
    python3 bench/make-capture.py --shape "$SHAPE" --size 100M -o "$CAPTURE"
fi

A="rdpscope-rate-a-$$"
B="rdpscope-rate-b-$$"
RDP_PID=""
cleanup() {
    [ -n "$RDP_PID" ] && kill "$RDP_PID" 2>/dev/null || true
    ip netns del "$A" 2>/dev/null || true
    ip netns del "$B" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$A"
ip netns add "$B"
ip link add va netns "$A" type veth peer name vb netns "$B"
ip -n "$A" link set va up
ip -n "$B" link set vb up

PACKETS=$(tcpdump -r "$CAPTURE" -qn 2>/dev/null | wc -l)
echo "capture: $CAPTURE, $PACKETS packets, replayed $LOOPS times per rate; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '| target packets/s | achieved packets/s | received | dropped by the kernel | rdpscope CPU s |\n|---:|---:|---:|---:|---:|\n'
for rate in "${RATES[@]}"; do
    err=$(mktemp)
    extra=()
    [ -n "${BUFFER_MB:-}" ] && extra=(-B "$BUFFER_MB")
    [ -n "${SNAPLEN:-}" ] && extra+=(-s "$SNAPLEN")
    # `ip netns exec` execs rdpscope: the PID is rdpscope's own, for SIGINT and CPU time.
    ip netns exec "$B" "$BIN" live -i vb --json "${extra[@]}" >/dev/null 2>"$err" &
    RDP_PID=$!
    for _ in $(seq 100); do grep -q "capturing on" "$err" && break; sleep 0.1; done
    replayed=$(ip netns exec "$A" tcpreplay -i va --pps="$rate" --loop="$LOOPS" "$CAPTURE" 2>&1 |
        awk '/Rated:/ {for (i = 1; i <= NF; i++) if ($i ~ /pps/) print $(i-1)}' | head -1)
    sleep 2
    cpu=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$RDP_PID/stat")
    kill -INT "$RDP_PID"
    wait "$RDP_PID" || true
    RDP_PID=""
    received=$(grep -o '[0-9]* packets received' "$err" | grep -o '^[0-9]*' || echo "?")
    dropped=$(grep -o '[0-9]* dropped by the kernel' "$err" | grep -o '^[0-9]*' || echo "?")
    printf '| %s | %s | %s | %s | %s |\n' "$rate" "${replayed:-?}" "$received" "$dropped" "$cpu"
    rm -f "$err"
done
