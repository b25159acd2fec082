#!/usr/bin/env bash
# Runs libFuzzer on every target (or the ones named) for SECS seconds each, seeded from the
# stable harness's corpus, and prints executions, speed and findings per target.
#   usage: fuzz/run.sh [SECS] [TARGET...]     (default 600 s, every target)
#   env:   JOBS=2 runs that many targets at once; CORPUS=dir keeps the corpora (default
#          fuzz/corpus); crashes, timeouts and OOMs land in fuzz/artifacts/TARGET/.
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
set -euo pipefail
cd "$(dirname "$0")"
SECS=${1:-600}
shift || true
JOBS=${JOBS:-1}
CORPUS=${CORPUS:-corpus}
LOGS=logs
mkdir -p "$CORPUS" "$LOGS"

command -v cargo-fuzz >/dev/null || [ -x "$HOME/.cargo/bin/cargo-fuzz" ] ||
    { echo "fuzz/run.sh: cargo-fuzz is missing (cargo install cargo-fuzz)" >&2; exit 2; }

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

# Which seed directory of the stable harness (FUZZ_CORPUS_OUT) feeds which target.
seed_dir() {
    case $1 in
        tpkt) echo tpkt_parse ;;
        x224) echo x224_parse_tpdu ;;
        mcs) echo mcs_parse_pdu ;;
        gcc_client) echo gcc_client_data ;;
        gcc_server) echo gcc_server_data ;;
        tls_record_size) echo tls_find_record_size ;;
        tls_conversation) echo tls_conversation ;;
        tls_certificate) echo tls_parse_certificate ;;
        fastpath) echo fastpath ;;
        rdpeudp) echo rdpeudp ;;
        pipeline) echo pipeline ;;
        *) echo "$1" ;;
    esac
}

SEEDS=$(mktemp -d)
trap 'rm -rf "$SEEDS"' EXIT
(cd .. && FUZZ_CORPUS_OUT="$SEEDS" cargo test -q --test fuzz_parsers --test fuzz_pipeline >/dev/null)

for t in "${targets[@]}"; do
    cargo +nightly fuzz build -O "$t" >/dev/null 2>&1 ||
        { echo "fuzz/run.sh: $t does not build" >&2; exit 2; }
done

run_one() {
    local t=$1 seeds
    seeds="$SEEDS/$(seed_dir "$t")"
    mkdir -p "$CORPUS/$t" "artifacts/$t"
    cargo +nightly fuzz run -O "$t" "$CORPUS/$t" "$seeds" -- \
        -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        >"$LOGS/$t.log" 2>&1 || true
}

running=0
for t in "${targets[@]}"; do
    run_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$JOBS" ]; then
        wait -n
        running=$((running - 1))
    fi
done
wait

printf '| target | seconds | executions | exec/s | corpus | crashes/timeouts/OOMs |\n|---|---:|---:|---:|---:|---:|\n'
for t in "${targets[@]}"; do
    log="$LOGS/$t.log"
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    corpus=$(find "$CORPUS/$t" -type f | wc -l)
    found=$(find "artifacts/$t" -type f | wc -l)
    printf '| %s | %s | %s | %s | %s | %s |\n' "$t" "$SECS" "$runs" "$speed" "$corpus" "$found"
done
