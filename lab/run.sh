#!/bin/bash
# run.sh - record the rdpscope lab fixtures.
#   lab/run.sh list        list scenarios
#   lab/run.sh all         record every scenario, then write fixtures/lab/MANIFEST.toml
#   lab/run.sh NAME...     record the named scenarios, then rewrite the manifest
#   lab/run.sh check [NAME...]  re-run the tshark checks on existing recordings + manifest
#   lab/run.sh manifest    only rewrite the manifest from the recorded, checked fixtures
# Needs root and lab/setup.sh (packages + build/nfqdelay). OUT_DIR overrides fixtures/lab.
set -euo pipefail
cd "$(dirname "$0")"
source ./lib.sh
source ./scenarios.sh
source ./scenarios-evidence.sh
source ./scenarios-keys.sh
source ./scenarios-kerberos.sh
OUT_DIR=${OUT_DIR:-$ROOT_DIR/fixtures/lab}
STATUS_DIR=${STATUS_DIR:-$LAB_DIR/build/status}
mkdir -p "$OUT_DIR" "$STATUS_DIR"

check_one() {  # re-run the tshark check of an existing recording
  local name=$1; PCAP=$OUT_DIR/$name.pcap; CHECK_OK=1
  [ -f "$PCAP" ] || { log "$name: no recording"; echo missing > "$STATUS_DIR/$name"; return; }
  "chk_$name"
  if [ "$CHECK_OK" = 1 ]; then echo ok; else echo check-failed; fi > "$STATUS_DIR/$name"
}

run_one() {
  local name=$1
  declare -F "sc_$name" >/dev/null || die "unknown scenario: $name (see: lab/run.sh list)"
  local t0=$SECONDS
  log "=== $name"
  rm -f "$STATUS_DIR/$name"
  if ( set -euo pipefail
       WORK=$(mktemp -d /tmp/rdplab.XXXXXX)
       trap cleanup EXIT
       trap 'exit 130' INT TERM
       [ -n "${LAB_TRACE:-}" ] && set -x
       ns_up
       PCAP=$WORK/$name.pcap
       "sc_$name"
       capture_stop
       cp "$PCAP" "$OUT_DIR/$name.pcap.tmp"
       # scenarios recorded with TLS secrets leave WORK/NAME.keys (NSS key log)
       if [ -n "${KEYED[$name]:-}" ]; then
         [ -s "$WORK/$name.keys" ] || die "$name: no TLS secrets were logged"
         cp "$WORK/$name.keys" "$OUT_DIR/$name.keys.tmp"
         editcap --inject-secrets "tls,$WORK/$name.keys" "$PCAP" "$OUT_DIR/$name.pcapng.tmp"
       fi
       if [ -n "${LAB_VERBOSE:-}" ]; then tail -n 15 "$WORK"/*.log "$WORK"/*.out >&2 || true; fi
       exit 0 ); then
    mv "$OUT_DIR/$name.pcap.tmp" "$OUT_DIR/$name.pcap"
    if [ -n "${KEYED[$name]:-}" ]; then
      mv "$OUT_DIR/$name.keys.tmp" "$OUT_DIR/$name.keys"; mv "$OUT_DIR/$name.pcapng.tmp" "$OUT_DIR/$name.pcapng"
    fi
    PCAP=$OUT_DIR/$name.pcap; CHECK_OK=1
    "chk_$name"
    if [ "$CHECK_OK" = 1 ]; then echo ok > "$STATUS_DIR/$name"; log "--- $name: OK ($((SECONDS-t0)) s, $(stat -c %s "$PCAP") bytes)"
    else echo check-failed > "$STATUS_DIR/$name"; log "--- $name: CHECK FAILED ($((SECONDS-t0)) s)"; fi
  else
    rm -f "$OUT_DIR/$name".pcap{,ng}.tmp "$OUT_DIR/$name.keys.tmp" "$OUT_DIR/$name.pcap"
    echo run-failed > "$STATUS_DIR/$name"; log "--- $name: RUN FAILED"
  fi
}

toml_str() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"; }
toml_list() { local out="" c; for c in $1; do out="$out${out:+, }\"$c\""; done; printf '[%s]' "$out"; }

write_manifest() {
  local m=$OUT_DIR/MANIFEST.toml name
  { echo "# Fixtures recorded by lab/run.sh between real peers in two network namespaces."
    echo "# Expectations (verdict, codes) come from the fault each scenario injects, not from any tool."
    echo "# Only scenarios whose recording passed its tshark check are listed."
    echo "# file is relative to the directory of this manifest. Rebuild: lab/run.sh all (as root)."
    echo "# keys: the NSS key log of the client (lab-only throwaway secrets); pcapng: the same"
    echo "# packets with those secrets embedded (editcap --inject-secrets, a Decryption Secrets Block)."
    echo "# pending: the expected codes need work tracked in that issue (tests skip the entry)."
    for name in "${SCENARIOS[@]}"; do
      [ "$(cat "$STATUS_DIR/$name" 2>/dev/null)" = ok ] && [ -f "$OUT_DIR/$name.pcap" ] || continue
      echo; echo "[[fixture]]"
      echo "name = $(toml_str "$name")"
      echo "file = $(toml_str "$name.pcap")"
      echo "description = $(toml_str "${DESC[$name]}")"
      echo "verdict = $(toml_str "${VERDICT[$name]}")"
      echo "codes = $(toml_list "${CODES[$name]}")"
      [ -n "${INFO[$name]}" ] && echo "info_codes = $(toml_list "${INFO[$name]}")"
      if [ -n "${KEYED[$name]:-}" ]; then
        echo "keys = $(toml_str "$name.keys")"
        echo "pcapng = $(toml_str "$name.pcapng")"
      fi
      [ -n "${PENDING[$name]:-}" ] && echo "pending = $(toml_str "${PENDING[$name]}")"
    done; } > "$m.tmp"
  mv "$m.tmp" "$m"
  log "wrote $m ($(grep -c '^\[\[fixture' "$m") fixtures)"
}

[ $# -ge 1 ] || { sed -n 2,9p "$0"; exit 2; }
case "$1" in
  list) for s in "${SCENARIOS[@]}"; do printf '%-28s %-10s %s\n' "$s" "${VERDICT[$s]}" "${CODES[$s]}"; done; exit 0;;
  manifest) write_manifest; exit 0;;
  check) shift; [ $# -gt 0 ] || set -- "${SCENARIOS[@]}"
         for s in "$@"; do check_one "$s"; printf '%-36s %s\n' "$s" "$(cat "$STATUS_DIR/$s")"; done
         write_manifest; exit 0;;
esac
[ "$(id -u)" = 0 ] || die "must run as root"
# one lab at a time: the namespace names are fixed
exec 9>/run/rdplab.lock
flock -w 900 9 || die "another lab run holds /run/rdplab.lock"
[ -x "$LAB_DIR/build/nfqdelay" ] || "$LAB_DIR/setup.sh"
pki_make
T0=$SECONDS
if [ "$1" = all ]; then set -- "${SCENARIOS[@]}"; fi
for s in "$@"; do run_one "$s"; done
write_manifest
log "done in $((SECONDS-T0)) s"
for s in "$@"; do printf '%-36s %s\n' "$s" "$(cat "$STATUS_DIR/$s")"; done
