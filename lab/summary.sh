#!/bin/bash
# summary.sh [DIR] - one line per recorded fixture: size, frames, duration, and the
# handshake events tshark sees (X.224 negotiation, TLS messages and alerts,
# RST/FIN, retransmissions, ICMP). For reviewing recordings; needs tshark.
dir=${1:-$(dirname "$0")/../fixtures/lab}
for f in "$dir"/*.pcap; do
  n=$(basename "$f" .pcap)
  ev=$( { tshark -r "$f" -Y 'rdp.neg_type' -T fields -e rdp.neg_type -e rdp.negReq.requestedProtocols \
            -e rdp.negReq.selectedProtocol -e rdp.negFailure.failureCode 2>/dev/null |
          awk -F'\t' '$1=="0x01"{printf "CR(req=%s) ",$2} $1=="0x02"{printf "CC(sel=%s) ",$3} $1=="0x03"{printf "NEG_FAILURE(%s) ",$4}'
        tshark -r "$f" -d tcp.port==3389,tls -Y 'tls.handshake.type==1||tls.handshake.type==2||tls.handshake.type==11||tls.alert_message.desc' \
            -T fields -e ip.src -e tls.handshake.type -e tls.alert_message.desc 2>/dev/null |
          awk -F'\t' '{s=($1=="10.99.0.1")?"S":"C"; if($3!="") printf "%s:alert(%s) ",s,$3; else printf "%s:hs(%s) ",s,$2}'
        printf 'rst=%s fin=%s retx=%s icmp=%s' \
          "$(tshark -r "$f" -Y tcp.flags.reset==1 2>/dev/null | wc -l)" "$(tshark -r "$f" -Y tcp.flags.fin==1 2>/dev/null | wc -l)" \
          "$(tshark -r "$f" -Y tcp.analysis.retransmission 2>/dev/null | wc -l)" "$(tshark -r "$f" -Y icmp 2>/dev/null | wc -l)"; } )
  frames=$(tshark -r "$f" 2>/dev/null | wc -l)
  dur=$(tshark -r "$f" -T fields -e frame.time_relative 2>/dev/null | tail -1)
  printf '%-34s %7s B %4s fr %6.1f s  %s\n' "$n" "$(stat -c %s "$f")" "$frames" "${dur:-0}" "$ev"
done
