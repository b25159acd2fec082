#!/usr/bin/env bash
# Throughput of `rdpscope analyze --json` against a bare libpcap read and tshark, on a 1 GB
# and a 100 MB capture built from the lab fixtures (bench/make-capture.py). Prints a markdown
# table. Usage: bash bench/run.sh            (RUNS=5 for more repetitions, best run counts)
#   env: OUT=dir for the captures (default bench/out), RUNS (default 3),
#        SIZES="1G 100M", TSHARK_MAX_MB=2000 (tshark is skipped on larger files).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/out}
RUNS=${RUNS:-3}
SIZES=${SIZES:-"1G 100M"}
TSHARK_MAX_MB=${TSHARK_MAX_MB:-2000}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}

for tool in tshark tcpdump python3; do
    command -v "$tool" >/dev/null || { echo "bench/run.sh: $tool is missing" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "bench/run.sh: /usr/bin/time is missing (apt-get install -y time)" >&2; exit 2; }

cargo build --release --quiet --bin rdpscope --example bare_read
BIN="$CARGO_TARGET_DIR/release/rdpscope"
BARE="$CARGO_TARGET_DIR/release/examples/bare_read"
mkdir -p "$OUT"

# best WALL CPU RSS of $RUNS runs of a command (stdout discarded); sets W, C, M.
measure() {
    local runs=$1; shift
    local tf best=""
    tf=$(mktemp)
    for _ in $(seq "$runs"); do
        local t0 t1
        t0=$(date +%s%N)
        /usr/bin/time -f "%U %S %M" -o "$tf" "$@" >/dev/null 2>/dev/null || true
        t1=$(date +%s%N)
        local wall cpu rss
        wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", (b-a)/1e9}')
        read -r u s rss < <(tail -1 "$tf")
        cpu=$(awk -v u="$u" -v s="$s" 'BEGIN{printf "%.2f", u+s}')
        if [ -z "$best" ] || awk -v a="$wall" -v b="$best" 'BEGIN{exit !(a<b)}'; then
            best=$wall; W=$wall; C=$cpu; M=$rss
        fi
    done
    rm -f "$tf"
}

row() { # tool wall cpu rss
    awk -v f="$NAME" -v t="$1" -v w="$2" -v c="$3" -v r="$4" -v p="$PACKETS" -v b="$BYTES" 'BEGIN{
        printf "| %s | %s | %.1f | %.2f | %.2f | %.0f | %.1f | %s |\n", f, t, b/1e6, w, c, p/w, b/1e6/w, (r=="-") ? "-" : sprintf("%.1f", r/1024)
    }'
}

declare -A RATE RSS
TABLE="| file | tool | MB | wall s (best of $RUNS) | CPU s | packets/s | MB/s | peak RSS MB |
|---|---|---:|---:|---:|---:|---:|---:|"
NOTES=""
for size in $SIZES; do
    F="$OUT/rdp-$size.pcap"
    if [ ! -s "$F" ]; then
        python3 bench/make-capture.py --size "$size" -o "$F"
    fi
    NAME=$(basename "$F")
    BYTES=$(stat -c %s "$F")
    PACKETS=$("$BARE" "$F" | awk '{print $1}')
    cat "$F" >/dev/null # page cache: every tool reads from memory

    measure "$RUNS" "$BARE" "$F"; TABLE+=$'\n'$(row "bare read (libpcap, examples/bare_read)" "$W" "$C" "$M")
    RATE[$size,bare]=$(awk -v p="$PACKETS" -v w="$W" 'BEGIN{print p/w}')
    measure "$RUNS" tcpdump -r "$F" -w /dev/null; TABLE+=$'\n'$(row "tcpdump -r F -w /dev/null" "$W" "$C" "$M")
    measure "$RUNS" "$BIN" analyze --json "$F"; TABLE+=$'\n'$(row "rdpscope analyze --json" "$W" "$C" "$M")
    RATE[$size,rdpscope]=$(awk -v p="$PACKETS" -v w="$W" 'BEGIN{print p/w}')
    RSS[$size]=$M
    if [ "$((BYTES / 1000000))" -le "$TSHARK_MAX_MB" ]; then
        measure 1 tshark -r "$F" -2 -d tcp.port==3389,tls -Y 'rdp || tls.handshake || tls.alert_message' \
            -T fields -e frame.number -e tcp.stream
        TABLE+=$'\n'$(row "tshark -2 (1 run)" "$W" "$C" "$M")
        RATE[$size,tshark]=$(awk -v p="$PACKETS" -v w="$W" 'BEGIN{print p/w}')
    else
        NOTES+="- $NAME: tshark skipped (larger than TSHARK_MAX_MB=$TSHARK_MAX_MB MB)."$'\n'
    fi
    NOTES+="- $NAME: $PACKETS packets, $BYTES bytes."
    NOTES+=" rdpscope/bare-read packets/s: $(awk -v a="${RATE[$size,rdpscope]}" -v b="${RATE[$size,bare]}" 'BEGIN{printf "%.0f%%", 100*a/b}')."
    if [ -n "${RATE[$size,tshark]:-}" ]; then
        NOTES+=" rdpscope/tshark packets/s: $(awk -v a="${RATE[$size,rdpscope]}" -v b="${RATE[$size,tshark]}" 'BEGIN{printf "%.1fx", a/b}')."
    fi
    NOTES+=$'\n'
done
set -- $SIZES
if [ $# -ge 2 ]; then
    NOTES+="- rdpscope peak RSS $1 / $2: $(awk -v a="${RSS[$1]}" -v b="${RSS[$2]}" 'BEGIN{printf "%.1f MB / %.1f MB = %.2f", a/1024, b/1024, a/b}')"$'\n'
fi

echo
echo "$TABLE"
echo
printf '%s' "$NOTES"
echo
echo "Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), load average $(cut -d' ' -f1-3 /proc/loadavg)."
