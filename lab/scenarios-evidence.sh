# scenarios-evidence.sh - shapes whose verdict must come from what the packets prove
# (issue 18): a black-holed segment, loss invisible from the capture point, a reset
# after a legacy request, an NLA refusal closed by the client's RST, duplicated frames
# from a bridge, and a non-RDP service on the RDP port. Same conventions as scenarios.sh.

# first frame number matching a filter (for checks that refer to one frame)
first_frame() { tshark -r "$PCAP" -d tcp.port==$PORT,tls -Y "$1" -T fields -e frame.number 2>/dev/null | head -1; }

def client_hello_blackholed_7s stalled "segment-black-holed" "" \
 "CLIENT-side capture stopped after 7 s. xrdp security_layer=tls; iptables (u32) in the server namespace drops every TCP segment carrying a TLS ClientHello, as an IPS or content filter on the path would: the client's capture shows the X.224 exchange, then the ClientHello retransmitted with doubling timeouts (about 0.2, 0.4, 0.8, 1.6, 3.2 s) and never acknowledged; no ServerHello. The capture ends long before any 23 s stall threshold."
pending client_hello_blackholed_7s "issue 18"
sc_client_hello_blackholed_7s() {
  xrdp_start security_layer=tls
  in_s iptables -A INPUT -p tcp --dport $PORT -m u32 --u32 "$U32_CLIENT_HELLO" -j DROP
  capture_start "$PCAP" c
  client_bg 20 /sec:tls /cert:deny +auth-only /timeout:40000
  sleep 7
  capture_stop
}
chk_client_hello_blackholed_7s() {
  want 'cotp.type == 0x0d'; want 'tls.handshake.type == 1'
  want "ip.src==$CLI_IP && tcp.analysis.retransmission && tcp.len > 200" 4
  none 'tls.handshake.type == 2'; span_ge 6
  local ch; ch=$(first_frame 'tls.handshake.type == 1')
  none "tcp.analysis.acks_frame == ${ch:-0}"
}

def lossy_client_side ok "packet-loss" "" \
 "CLIENT-side capture. xrdp security_layer=tls TLSv1.2; in the server namespace NFQUEUE (lab/nfqdelay.c, fixed seed 5) drops 25% of the server's port-3389 segments after the server's TCP counted them as sent, and 15% of the client's segments after they left the client (INPUT, seed 9), the first 3 packets spared: the client's capture shows its own retransmissions, but the server's lost segments only as sequence gaps, duplicate ACKs and the server's retransmissions; xfreerdp /sec:tls +auth-only /cert:deny: the connection completes."
sc_lossy_client_side() {
  xrdp_start security_layer=tls "ssl_protocols=TLSv1.2"
  in_s iptables -A OUTPUT -p tcp --sport $PORT -j NFQUEUE --queue-num 1 --queue-bypass
  in_s iptables -A INPUT -p tcp --dport $PORT -j NFQUEUE --queue-num 2 --queue-bypass
  nfq_start "$NS_S" 1 -l ${LOSS_S:-25} -s ${SEED_S:-5} -k 3
  nfq_start "$NS_S" 2 -l ${LOSS_C:-15} -s ${SEED_C:-9} -k 3
  capture_start "$PCAP" c
  client 40 /sec:tls +auth-only /cert:deny /timeout:30000
  client_ok
}
chk_lossy_client_side() {
  want 'tls.handshake.type == 2'; none 'tls.alert_message.desc'
  want "ip.src==$SRV_IP && (tcp.analysis.lost_segment || tcp.analysis.retransmission || tcp.analysis.out_of_order)" 1
  want "ip.src==$CLI_IP && (tcp.analysis.duplicate_ack || tcp.options.sack_le)" 1
  want "ip.src==$CLI_IP && tls.app_data" 5
}

def legacy_cr_refused failed "server-abort" "" \
 "xrdp security_layer=tls (TLS required); xfreerdp /sec:rdp sends a legacy X.224 Connection Request without RDP_NEG_REQ (Standard RDP Security only): xrdp answers within 2 ms with a bare Connection Confirm (no RDP_NEG_RSP, no failure code), a cleartext MCS Disconnect Provider Ultimatum and a FIN; the client's MCS Connect Initial then draws the server's RST. A refusal of that request, not a hung service."
sc_legacy_cr_refused() {
  xrdp_start security_layer=tls
  capture_start "$PCAP"
  client 20 /sec:rdp /cert:deny +auth-only
  client_fail
}
chk_legacy_cr_refused() {
  want "ip.src==$CLI_IP && cotp.type == 0x0e && !rdp.negReq.requestedProtocols"
  want "ip.src==$SRV_IP && cotp.type == 0x0d && !rdp.negReq.selectedProtocol && !rdp.negFailure.failureCode"
  want "ip.src==$SRV_IP && tcp.payload contains 03:00:00:09:02:f0:80:21:80"
  want "ip.src==$SRV_IP && tcp.flags.reset==1"
  none 'tls.handshake'
}

# u32: a TCP payload that is a TPKT (version 3) of 37 bytes carrying an X.224 CR (0xE0):
# FreeRDP's legacy Connection Request with the cookie mstshash=labuser and no RDP_NEG_REQ
# (the same request with an RDP_NEG_REQ is 45 bytes and does not match)
U32_LEGACY_CR='0>>22&0x3C@12>>26&0x3C@0=0x03000025&&0>>22&0x3C@12>>26&0x3C@5>>24&0xF0=0xE0'

def legacy_cr_reset failed "server-abort" "" \
 "xrdp security_layer=tls; iptables (u32) in the server namespace answers a legacy X.224 Connection Request (no RDP_NEG_REQ; xfreerdp /sec:rdp) with REJECT --reject-with tcp-reset, the shape Windows servers that require NLA show (a RST a few ms after the legacy request): TCP handshake, the CR, then the server side's RST 10 µs later. No Connection Confirm. (Neither lab server resets by itself: see legacy_cr_refused and legacy_cr_nla_server.)"
pending legacy_cr_reset "issue 18"
sc_legacy_cr_reset() {
  xrdp_start security_layer=tls
  in_s iptables -A INPUT -p tcp --dport $PORT -m u32 --u32 "$U32_LEGACY_CR" -j REJECT --reject-with tcp-reset
  capture_start "$PCAP"
  client 20 /sec:rdp /cert:deny +auth-only
  client_fail
}
chk_legacy_cr_reset() {
  want "ip.src==$CLI_IP && cotp.type == 0x0e && !rdp.negReq.requestedProtocols"
  want "ip.src==$SRV_IP && tcp.flags.reset==1"; none 'cotp.type == 0x0d'; none "ip.src==$SRV_IP && tcp.len > 0"
}

def legacy_cr_nla_server failed "negotiation-failure" "" \
 "freerdp-shadow-cli /sec:nla (CredSSP required); xfreerdp /sec:rdp sends a legacy X.224 Connection Request without RDP_NEG_REQ: the shadow server answers, 150 ms later, with RDP_NEG_FAILURE HYBRID_REQUIRED_BY_SERVER (5) although the client never sent a negotiation request; the client closes."
sc_legacy_cr_nla_server() {
  shadow_start /sec:nla
  capture_start "$PCAP"
  client 20 /sec:rdp /cert:deny +auth-only
  client_fail
}
chk_legacy_cr_nla_server() { want "ip.src==$CLI_IP && cotp.type == 0x0e && !rdp.negReq.requestedProtocols"; want 'rdp.negFailure.failureCode == 5'; none 'tls.handshake'; }

def nla_refused_client_rst failed "nla-failed" "" \
 "CLIENT-side capture. freerdp-shadow-cli /sec:nla with an NTLM SAM file; xfreerdp /sec:nla +auth-only with a wrong password, its sockets set to SO_LINGER 0 (lab/keylog/lingerzero.c, an abortive close as Windows clients do); the server's FIN and RST are dropped on the path (NFQUEUE in the server namespace, after the server's TCP counted them as sent): CredSSP messages 1-3, the server's encrypted alert (close_notify refusing the credentials), the client's own close_notify, then the client's RST. The server never sends an error TSRequest."
pending nla_refused_client_rst "issue 18"
sc_nla_refused_client_rst() {
  shadow_start /sec:nla
  in_s iptables -A OUTPUT -p tcp --sport $PORT --tcp-flags FIN FIN -j NFQUEUE --queue-num 1
  in_s iptables -A OUTPUT -p tcp --sport $PORT --tcp-flags RST RST -j NFQUEUE --queue-num 1
  nfq_start "$NS_S" 1 -l 100
  CLIENT_ENV+=("LD_PRELOAD=$LINGER_LIB")
  capture_start "$PCAP" c
  CLIENT_PASS=WrongPass999 client 30 /sec:nla +auth-only /cert:deny
  client_fail
}
chk_nla_refused_client_rst() {
  want 'rdp.negReq.selectedProtocol == 2'; want 'tls.handshake.type == 2'
  want "ip.src==$CLI_IP && tls.app_data" 3
  want "ip.src==$CLI_IP && tcp.flags.reset==1"
  none "ip.src==$SRV_IP && (tcp.flags.fin==1 || tcp.flags.reset==1)"
}

def bridge_duplicates ok "" "duplicate-frames" \
 "xrdp security_layer=tls TLSv1.3 with the lab-CA certificate; the two namespaces are joined by a Linux bridge in a third namespace (rdplab-br: br0 with one veth port towards each peer) and tcpdump -i any runs there, so every packet is recorded twice, on the port it enters and on the port it leaves, microseconds apart with the same IP ID and bytes (Linux cooked capture). xfreerdp /sec:tls +auth-only /cert:deny: a healthy connection."
sc_bridge_duplicates() {
  ns_bridge
  xrdp_start security_layer=tls "ssl_protocols=TLSv1.3"
  capture_start "$PCAP" b
  client 30 /sec:tls +auth-only /cert:deny
  client_ok
}
chk_bridge_duplicates() {
  want 'tls.handshake.type == 2'; want 'tcp.flags.syn==1 && tcp.flags.ack==0' 2 2
  want 'sll.ifindex' 10; none 'tls.alert_message.desc'
  # every TCP segment twice: same IP ID, source, sequence number, length and flags
  # (tcpdump -i any may miss a copy now and then: allow 2 unpaired frames)
  local unpaired all
  all=$(tshark -r "$PCAP" -Y tcp 2>/dev/null | wc -l)
  unpaired=$(tshark -r "$PCAP" -Y tcp -T fields -e ip.id -e ip.src -e tcp.seq_raw -e tcp.len -e tcp.flags 2>/dev/null \
     | awk '{c[$0]++} END{u=0; for (k in c) if (c[k] != 2) u += c[k]; print u}')
  [ "$all" -ge 40 ] && [ "$unpaired" -le 2 ] || { log "check failed: $all TCP frames, $unpaired not seen exactly twice"; CHECK_OK=0; }
}

def not_rdp_http failed "not-rdp-service" "" \
 "No RDP server: Python's http.server (python3 -m http.server) listens on 10.99.0.1:3389; xfreerdp /sec:tls sends its X.224 Connection Request and the port answers with an HTML error page (code 400; http.server takes the request line, which has no HTTP version, for an HTTP/0.9 request and sends the body without a status line) instead of a Connection Confirm, then closes."
pending not_rdp_http "issue 18"
sc_not_rdp_http() {
  spawn "$NS_S" "$WORK/http.out" python3 -m http.server --bind $SRV_IP $PORT
  SRV_PID=$LAST_PID; wait_listen
  capture_start "$PCAP"
  client 20 /sec:tls /cert:deny +auth-only
  client_fail
}
chk_not_rdp_http() { want "ip.src==$CLI_IP && cotp.type == 0x0e"; want "ip.src==$SRV_IP && tcp.len > 100 && frame contains \"<!DOCTYPE HTML\""; none 'cotp.type == 0x0d'; }

def not_rdp_tls_server failed "server-abort" "" \
 "No RDP server: openssl s_server (a TLS-only service with the lab-CA certificate) listens on 10.99.0.1:3389; xfreerdp /sec:tls sends its X.224 Connection Request, which the TLS server cannot parse as a TLS record: it closes the connection (FIN) within a millisecond without sending a byte. The packets prove a close right after the request, not a silent server."
pending not_rdp_tls_server "issue 18"
sc_not_rdp_tls_server() {
  spawn "$NS_S" "$WORK/s_server.out" openssl s_server -accept $SRV_IP:$PORT -cert "$PKI/server.pem" -key "$PKI/server.key" -naccept 4 -quiet
  SRV_PID=$LAST_PID; wait_listen
  capture_start "$PCAP"
  client 20 /sec:tls /cert:deny +auth-only
  client_fail
}
chk_not_rdp_tls_server() { want "ip.src==$CLI_IP && cotp.type == 0x0e"; want "ip.src==$SRV_IP && (tcp.flags.fin==1 || tcp.flags.reset==1 || tcp.len > 0)"; none 'cotp.type == 0x0d'; }

def not_rdp_ssh failed "not-rdp-service" "" \
 "No RDP server: OpenSSH's sshd (own host key, no config file) listens on 10.99.0.1:3389 and speaks first: its SSH-2.0 banner arrives right after the TCP handshake, before or while xfreerdp /sec:tls sends its X.224 Connection Request; no Connection Confirm ever comes and sshd closes the connection on the non-SSH bytes."
pending not_rdp_ssh "issue 18"
sc_not_rdp_ssh() {
  mkdir -p /run/sshd   # sshd's privilege-separation directory
  [ -f "$WORK/hostkey" ] || ssh-keygen -q -t ed25519 -N '' -f "$WORK/hostkey"
  spawn "$NS_S" "$WORK/sshd.out" /usr/sbin/sshd -D -e -f /dev/null -h "$WORK/hostkey" \
     -o ListenAddress=$SRV_IP -o Port=$PORT -o PidFile=none
  SRV_PID=$LAST_PID; wait_listen
  capture_start "$PCAP"
  client 20 /sec:tls /cert:deny +auth-only
  client_fail
}
chk_not_rdp_ssh() { want "ip.src==$SRV_IP && frame contains \"SSH-2.0-\""; want "ip.src==$CLI_IP && cotp.type == 0x0e"; none 'cotp.type == 0x0d'; }
