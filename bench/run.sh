#!/usr/bin/env bash
# Throughput of `rdpscope analyze --json` against a bare libpcap read and tshark, on captures
# built from the lab fixtures (bench/make-capture.py) in two shapes:
#   bulk   a connection every 600 ms, ~110 packets each (data phases), few open at once;
#   dense  a logon storm: the fixtures' failure and success mix, a connection every ~4 ms,
#          most under 30 packets, thousands open at once.
# Prints a markdown table, then per file: packets, rdpscope's share of the bare read and its
# speed-up over tshark, rdpscope's instruction count (perf stat, steadier than wall time on a
# busy machine), peak open connections and bytes per open connection.
# Usage: bash bench/run.sh            (RUNS=5 for more repetitions, best run counts)
#   env: OUT=dir for the captures (default bench/out, cached there), RUNS (default 3),
#        SHAPES="bulk dense" (SHAPES= : the keyed part only), SIZES="1G 100M", TSHARK_MAX_MB=2000 (tshark is skipped on
#        larger files), TSHARK_TIMEOUT=600 (seconds; a slower tshark run is reported as
#        skipped), FEATURES (cargo features for the rdpscope build).
#   A pre-generated capture OUT/<shape>-<size>.pcap (e.g. OUT=/work/bench-captures with
#   dense-100M.pcap) is used as it is instead of generating rdp-<shape>-<size>-<gen>.pcap.
#   Keyed part (decryption cost): KEYED_SIZE (default 200M; KEYED_SIZE=0 skips it),
#   KEYED_RUNS (default 5), CALLGRIND (auto: when valgrind is installed, 1, 0). Times
#   `analyze --json` on OUT/keyed-<size>.pcap (bench/make-keyed-capture.py, key log beside
#   it) with --keylog and with --no-keys, and prints the keyed/keyless ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/out}
RUNS=${RUNS:-3}
SHAPES=${SHAPES-"bulk dense"}
SIZES=${SIZES:-"1G 100M"}
TSHARK_MAX_MB=${TSHARK_MAX_MB:-2000}
TSHARK_TIMEOUT=${TSHARK_TIMEOUT:-600}
FEATURES=${FEATURES:-}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}

for tool in tshark tcpdump python3 timeout; do
    command -v "$tool" >/dev/null || { echo "bench/run.sh: $tool is missing" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "bench/run.sh: /usr/bin/time is missing (apt-get install -y time)" >&2; exit 2; }

cargo build --release --quiet --bin rdpscope --example bare_read --example open_connections \
    ${FEATURES:+--features "$FEATURES"}
# The target dir may be redirected (a cargo wrapper): ask cargo where the artifacts went.
TARGET=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
[ -x "$TARGET/release/rdpscope" ] || TARGET=$CARGO_TARGET_DIR
BIN="$TARGET/release/rdpscope"
BARE="$TARGET/release/examples/bare_read"
OPEN="$TARGET/release/examples/open_connections"
mkdir -p "$OUT"
# Captures are cached under a name that changes with the generator, so an edit rebuilds them.
GEN=$(sha1sum bench/make-capture.py | cut -c1-8)

# best WALL CPU RSS of $RUNS runs of a command (stdout discarded); sets W, C, M. A run that
# exceeds $LIMIT seconds (when set) is stopped and W is set to "timeout".
measure() {
    local runs=$1; shift
    local tf best=""
    tf=$(mktemp)
    for _ in $(seq "$runs"); do
        local t0 t1 rc=0
        t0=$(date +%s%N)
        if [ -n "${LIMIT:-}" ]; then
            timeout "$LIMIT" /usr/bin/time -f "%U %S %M" -o "$tf" "$@" >/dev/null 2>/dev/null || rc=$?
        else
            /usr/bin/time -f "%U %S %M" -o "$tf" "$@" >/dev/null 2>/dev/null || rc=$?
        fi
        t1=$(date +%s%N)
        if [ "$rc" = 124 ]; then W=timeout; C=-; M=-; rm -f "$tf"; return; fi
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

# rdpscope's resident memory with nothing open: threads, buffers, code (a one-connection capture).
measure 3 "$BIN" analyze --json fixtures/lab/tls12_ok.pcap
BASE_RSS=$M

declare -A RATE RSS
TABLE="| file | tool | MB | wall s (best of $RUNS) | CPU s | packets/s | MB/s | peak RSS MB |
|---|---|---:|---:|---:|---:|---:|---:|"
NOTES=""
for shape in $SHAPES; do
for size in $SIZES; do
    F="$OUT/rdp-$shape-$size-$GEN.pcap"
    [ -s "$OUT/$shape-$size.pcap" ] && F="$OUT/$shape-$size.pcap"
    if [ ! -s "$F" ]; then
        python3 bench/make-capture.py --shape "$shape" --size "$size" -o "$F.part"
        mv "$F.part" "$F"
    fi
    NAME="$shape $size"
    BYTES=$(stat -L -c %s "$F") # -L: a cached capture may be a symlink
    PACKETS=$("$BARE" "$F" | awk '{print $1}')
    cat "$F" >/dev/null # page cache: every tool reads from memory

    measure "$RUNS" "$BARE" "$F"; TABLE+=$'\n'$(row "bare read (libpcap, examples/bare_read)" "$W" "$C" "$M")
    RATE[$shape$size,bare]=$(awk -v p="$PACKETS" -v w="$W" 'BEGIN{print p/w}')
    measure "$RUNS" tcpdump -r "$F" -w /dev/null; TABLE+=$'\n'$(row "tcpdump -r F -w /dev/null" "$W" "$C" "$M")
    measure "$RUNS" "$BIN" analyze --json "$F"; TABLE+=$'\n'$(row "rdpscope analyze --json" "$W" "$C" "$M")
    RATE[$shape$size,rdpscope]=$(awk -v p="$PACKETS" -v w="$W" 'BEGIN{print p/w}')
    RSS[$shape$size]=$M
    if [ "$((BYTES / 1000000))" -le "$TSHARK_MAX_MB" ]; then
        LIMIT=$TSHARK_TIMEOUT measure 1 tshark -r "$F" -2 -d tcp.port==3389,tls -Y 'rdp || tls.handshake || tls.alert_message' \
            -T fields -e frame.number -e tcp.stream
        if [ "$W" = timeout ]; then
            NOTES+="- $NAME: tshark skipped (stopped after TSHARK_TIMEOUT=$TSHARK_TIMEOUT s)."$'\n'
        else
            TABLE+=$'\n'$(row "tshark -2 (1 run)" "$W" "$C" "$M")
            RATE[$shape$size,tshark]=$(awk -v p="$PACKETS" -v w="$W" 'BEGIN{print p/w}')
        fi
    else
        NOTES+="- $NAME: tshark skipped (larger than TSHARK_MAX_MB=$TSHARK_MAX_MB MB)."$'\n'
    fi
    read -r OPEN_PEAK _ _ CONNS _ < <("$OPEN" "$F")
    NOTES+="- $NAME ($(basename "$F")): $PACKETS packets, $BYTES bytes, $CONNS connections, at most $OPEN_PEAK open at once."
    NOTES+=" rdpscope/bare-read packets/s: $(awk -v a="${RATE[$shape$size,rdpscope]}" -v b="${RATE[$shape$size,bare]}" 'BEGIN{printf "%.0f%%", 100*a/b}')."
    if [ -n "${RATE[$shape$size,tshark]:-}" ]; then
        NOTES+=" rdpscope/tshark packets/s: $(awk -v a="${RATE[$shape$size,rdpscope]}" -v b="${RATE[$shape$size,tshark]}" 'BEGIN{printf "%.1fx", a/b}')."
    fi
    NOTES+=" Bytes per open connection: (peak RSS - $(awk -v b="$BASE_RSS" 'BEGIN{printf "%.1f", b/1024}') MB baseline) / $OPEN_PEAK = $(awk -v r="${RSS[$shape$size]}" -v b="$BASE_RSS" -v n="$OPEN_PEAK" 'BEGIN{printf "%.0f", (r-b)*1024/(n>0?n:1)}')."
    # Instruction counts where the machine has a PMU (a VM often has none: then nothing).
    INSNS=$(perf stat -x, -e instructions:u "$BIN" analyze --json "$F" 2>&1 >/dev/null | awk -F, '/instructions/{print $1}' || true)
    if [[ "$INSNS" =~ ^[0-9]+$ ]]; then
        NOTES+=" rdpscope instructions (user, perf stat): $(awk -v i="$INSNS" -v p="$PACKETS" 'BEGIN{printf "%.2f G, %.0f per packet", i/1e9, i/p}')."
    fi
    NOTES+=$'\n'
done
set -- $SIZES
if [ $# -ge 2 ]; then
    NOTES+="- $shape: rdpscope peak RSS $1 / $2: $(awk -v a="${RSS[$shape$1]}" -v b="${RSS[$shape$2]}" 'BEGIN{printf "%.1f MB / %.1f MB = %.2f", a/1024, b/1024, a/b}')"$'\n'
fi
done

# Keyed part: the same sessions decrypted (--keylog) and not (--no-keys).
KEYED_SIZE=${KEYED_SIZE:-200M}
KEYED_RUNS=${KEYED_RUNS:-5}
CALLGRIND=${CALLGRIND:-auto}
if [ "$KEYED_SIZE" != 0 ]; then
    K="$OUT/keyed-$KEYED_SIZE.pcap"
    if [ ! -s "$K" ] || [ ! -s "$K.keys" ]; then
        python3 bench/make-keyed-capture.py --size "$KEYED_SIZE" -o "$K.part"
        mv "$K.part.keys" "$K.keys"
        mv "$K.part" "$K"
    fi
    cat "$K" >/dev/null
    NAME="keyed $KEYED_SIZE"
    BYTES=$(stat -L -c %s "$K")
    PACKETS=$("$BARE" "$K" | awk '{print $1}')
    measure "$KEYED_RUNS" "$BIN" analyze --json --keylog "$K.keys" "$K"; KW=$W; KC=$C
    TABLE+=$'\n'$(row "rdpscope analyze --json --keylog (decrypted)" "$W" "$C" "$M")
    measure "$KEYED_RUNS" "$BIN" analyze --json --no-keys "$K"; NW=$W; NC=$C
    TABLE+=$'\n'$(row "rdpscope analyze --json --no-keys" "$W" "$C" "$M")
    NOTES+="- $NAME ($(basename "$K"), key log $(basename "$K").keys): keyed/keyless wall $(awk -v a="$KW" -v b="$NW" 'BEGIN{printf "%.2fx", a/b}'), CPU $(awk -v a="$KC" -v b="$NC" 'BEGIN{printf "%.2fx", a/b}') (best of $KEYED_RUNS)."
    if [ "$CALLGRIND" = 1 ] || { [ "$CALLGRIND" = auto ] && command -v valgrind >/dev/null; }; then
        cg() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null | awk '/Collected/{print $NF}'; }
        KI=$(cg "$BIN" analyze --json --keylog "$K.keys" "$K")
        NI=$(cg "$BIN" analyze --json --no-keys "$K")
        NOTES+=" Instructions (callgrind): keyed $(awk -v i="$KI" 'BEGIN{printf "%.2f G", i/1e9}'), keyless $(awk -v i="$NI" 'BEGIN{printf "%.2f G", i/1e9}'), ratio $(awk -v a="$KI" -v b="$NI" 'BEGIN{printf "%.2fx", a/b}')."
    fi
    NOTES+=$'\n'
fi

echo
echo "$TABLE"
echo
printf '%s' "$NOTES"
echo
echo "Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), load average $(cut -d' ' -f1-3 /proc/loadavg) at the end (other work was running: see the CPU s column)."
