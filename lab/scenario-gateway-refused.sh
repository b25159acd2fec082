#!/usr/bin/env bash
# scenario-gateway-refused.sh OUT.pcap - FreeRDP's RD Gateway client (/g:, HTTP transport)
# against a TLS peer on 443 that is no gateway: openssl s_server (TLS 1.2, a lab certificate
# for rdg.gwlab.test) completes TLS, reads the client's first HTTP request (RDG_OUT_DATA)
# and closes the connection: the keyless shape of a gateway that refuses the client after
# a short exchange. No fake gateway: the peer is a plain TLS server; what is recorded is the
# real client's behaviour against a peer that closes.
#
# Self-contained: its own namespaces (gwk-srv, gwk-cli), addresses 10.98.0.0/24 and Xvfb
# display, so it runs beside the main lab. Everything started is ended by PID.
set -euo pipefail
OUT=${1:?usage: $0 OUT.pcap}
NS_S=gwk-srv NS_C=gwk-cli SRV_IP=10.98.0.1 CLI_IP=10.98.0.2 DISP=:97 NAME=rdg.gwlab.test
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.3
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  ip netns del "$NS_S" 2>/dev/null || true
  ip netns del "$NS_C" 2>/dev/null || true
  rm -rf "/etc/netns/$NS_C" "$WORK"
}
trap cleanup EXIT
ip netns del "$NS_S" 2>/dev/null || true
ip netns del "$NS_C" 2>/dev/null || true
ip netns add "$NS_S"; ip netns add "$NS_C"
ip link add gwk-s netns "$NS_S" type veth peer name gwk-c netns "$NS_C"
for ns in "$NS_S" "$NS_C"; do
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  ip -n "$ns" link set lo up
done
ip -n "$NS_S" addr add $SRV_IP/24 dev gwk-s; ip -n "$NS_S" link set gwk-s up
ip -n "$NS_C" addr add $CLI_IP/24 dev gwk-c; ip -n "$NS_C" link set gwk-c up
ip netns exec "$NS_S" ethtool -K gwk-s tso off gso off gro off >/dev/null 2>&1 || true
ip netns exec "$NS_C" ethtool -K gwk-c tso off gso off gro off >/dev/null 2>&1 || true
# The client resolves the gateway's name: ip netns exec mounts /etc/netns/NS/hosts.
mkdir -p "/etc/netns/$NS_C"
printf '127.0.0.1 localhost\n%s %s\n' "$SRV_IP" "$NAME" >"/etc/netns/$NS_C/hosts"

openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=$NAME" \
  -addext "subjectAltName=DNS:$NAME" -keyout "$WORK/gw.key" -out "$WORK/gw.pem" 2>/dev/null
# s_server ends a connection when its stdin ends: stdin is a FIFO held open by a sleep
# that the script ends once the client's request is in (2 s after the client starts).
mkfifo "$WORK/stdin"
sleep 60 >"$WORK/stdin" &
HOLD=$!
PIDS+=($HOLD)
ip netns exec "$NS_S" openssl s_server -accept $SRV_IP:443 -tls1_2 -cert "$WORK/gw.pem" \
  -key "$WORK/gw.key" -naccept 1 -quiet <"$WORK/stdin" >"$WORK/s_server.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do ip netns exec "$NS_S" ss -ltn | grep -q ":443 " && break; sleep 0.1; done
ip netns exec "$NS_C" Xvfb $DISP -noreset -nolisten tcp -screen 0 1024x768x24 >"$WORK/xvfb.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do [ -S /tmp/.X11-unix/X${DISP#:} ] && break; sleep 0.1; done
ip netns exec "$NS_C" tcpdump -i gwk-c -U --immediate-mode -w "$WORK/cap.pcap" \
  "host $SRV_IP" >"$WORK/tcpdump.log" 2>&1 &
CAP=$!
PIDS+=($CAP)
sleep 1
mkdir -p "$WORK/home"
ip netns exec "$NS_C" env HOME="$WORK/home" DISPLAY=$DISP SSL_CERT_FILE="$WORK/gw.pem" \
  timeout -k 2 15 xfreerdp /v:target.gwlab.test /u:labuser /p:LabPass123 \
  /g:$NAME:443 /gu:labuser /gp:LabPass123 /gt:http /cert:ignore +auth-only >"$WORK/client.log" 2>&1 &
CLIENT=$!
PIDS+=($CLIENT)
sleep 2
kill $HOLD 2>/dev/null || true   # the peer closes now, after the client's first request
set +e
wait $CLIENT
echo "client rc=$?" >&2
set -e
sleep 1
kill -INT $CAP; wait $CAP 2>/dev/null || true
cp "$WORK/cap.pcap" "$OUT"
tail -5 "$WORK/client.log" >&2
