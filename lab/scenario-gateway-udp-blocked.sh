#!/usr/bin/env bash
# scenario-gateway-udp-blocked.sh OUT.pcap - DTLS to an RD Gateway's UDP port 3391 that a
# firewall drops: openssl s_client -dtls1_2 (a real DTLS client) sends its ClientHello to
# 10.98.0.1:3391 and retransmits it; iptables in the server namespace drops UDP 3391, so
# nothing comes back (no ICMP either). The keyless shape of a blocked UDP transport.
# Own namespaces (gwk-srv, gwk-cli), as scenario-gateway-refused.sh.
set -euo pipefail
OUT=${1:?usage: $0 OUT.pcap}
NS_S=gwk-srv NS_C=gwk-cli SRV_IP=10.98.0.1 CLI_IP=10.98.0.2
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  ip netns del "$NS_S" 2>/dev/null || true
  ip netns del "$NS_C" 2>/dev/null || true
  rm -rf "$WORK"
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
ip netns exec "$NS_S" iptables -A INPUT -p udp --dport 3391 -j DROP
ip netns exec "$NS_C" tcpdump -i gwk-c -U --immediate-mode -w "$WORK/cap.pcap" \
  "host $SRV_IP" >"$WORK/tcpdump.log" 2>&1 &
CAP=$!
PIDS+=($CAP)
sleep 1
set +e
sleep 20 | ip netns exec "$NS_C" timeout 8 openssl s_client -dtls1_2 -connect $SRV_IP:3391 \
  -servername rdg.gwlab.test >"$WORK/client.log" 2>&1
echo "client rc=$?" >&2
set -e
sleep 0.5
kill -INT $CAP; wait $CAP 2>/dev/null || true
cp "$WORK/cap.pcap" "$OUT"
