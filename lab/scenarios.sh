# scenarios.sh - one function sc_NAME (records) and chk_NAME (tshark checks) per
# scenario, registered with def NAME VERDICT "CODES" "INFO_CODES" "DESCRIPTION".
# Server-side capture unless stated. SRV=10.99.0.1:3389, client 10.99.0.2.
declare -A DESC VERDICT CODES INFO PENDING KEYED
SCENARIOS=()
def() { SCENARIOS+=("$1"); VERDICT[$1]=$2; CODES[$1]=$3; INFO[$1]=$4; DESC[$1]=$5; }
pending() { PENDING[$1]=$2; }   # pending NAME "issue N": rdpscope cannot meet the expectation yet
keyed() { KEYED[$1]=1; }        # keyed NAME: recorded with TLS secrets (NAME.keys, NAME.pcapng)

# common tshark predicates
CC_OK='rdp.neg_type == 0x02'
TLS_FIN_OK='tls.handshake.type == 2'

def tls13_ok ok "" "" \
 "xrdp 0.9.21 security_layer=tls ssl_protocols=TLSv1.3, certificate signed by the lab CA for 10.99.0.1; xfreerdp /sec:tls +auth-only /cert:deny (lab CA trusted via SSL_CERT_FILE): full TLS 1.3 handshake and RDP connection sequence, clean close. No fault."
sc_tls13_ok() {
  xrdp_start security_layer=tls "ssl_protocols=TLSv1.3"
  capture_start "$PCAP"
  client 30 /sec:tls +auth-only /cert:deny
  client_ok
}
chk_tls13_ok() { want "$TLS_FIN_OK"; want 'tls.handshake.extensions.supported_version == 0x0304'; none 'tls.alert_message.desc'; none "ip.src==$SRV_IP && tcp.flags.reset==1"; }

def tls12_ok ok "" "" \
 "xrdp security_layer=tls ssl_protocols=TLSv1.2, lab-CA certificate for 10.99.0.1; xfreerdp /sec:tls +auth-only /cert:deny: TLS 1.2 handshake, connection sequence, clean close. No fault."
sc_tls12_ok() {
  xrdp_start security_layer=tls "ssl_protocols=TLSv1.2"
  capture_start "$PCAP"
  client 30 /sec:tls +auth-only /cert:deny
  client_ok
}
chk_tls12_ok() { want 'tls.handshake.type == 2 && tls.handshake.version == 0x0303 && !tls.handshake.extensions.supported_version'; want 'tls.handshake.type == 20 || tls.record.content_type == 20'; none 'tls.alert_message.desc'; none "ip.src==$SRV_IP && tcp.flags.reset==1"; }

def rdp_security_ok ok "" "" \
 "freerdp-shadow-cli /sec:rdp (Standard RDP Security only) under Xvfb; xfreerdp /sec:rdp +auth-only: no RDP_NEG_REQ, Standard RDP Security with RC4 session keys, connection sequence completes. No fault (Standard security was what the client asked for)."
sc_rdp_security_ok() {
  shadow_start /sec:rdp
  capture_start "$PCAP"
  client 30 /sec:rdp +auth-only /cert:ignore
  client_ok
}
chk_rdp_security_ok() { want 'cotp.type == 0x0d'; none 'tls.handshake'; none "ip.src==$SRV_IP && tcp.flags.reset==1"; want 'tcp.len > 100' 6; }

def nla_ok ok "" "" \
 "freerdp-shadow-cli /sec:nla with an NTLM SAM file (winpr-hash), lab-CA certificate; xfreerdp /sec:nla +auth-only with the right password: TLS 1.3 + CredSSP succeed, clean close. No fault."
sc_nla_ok() {
  shadow_start /sec:nla
  capture_start "$PCAP"
  client 30 /sec:nla +auth-only /cert:deny
  client_ok
}
chk_nla_ok() { want 'rdp.negReq.selectedProtocol == 2'; want "$TLS_FIN_OK"; none "ip.src==$SRV_IP && tcp.flags.reset==1"; none 'tls.alert_message'; }

def nla_wrong_password failed "nla-failed" "" \
 "freerdp-shadow-cli /sec:nla with an NTLM SAM file; xfreerdp /sec:nla +auth-only with a wrong password: TLS completes, CredSSP/NTLM round trips, then the server closes the connection."
sc_nla_wrong_password() {
  shadow_start /sec:nla
  capture_start "$PCAP"
  CLIENT_PASS=WrongPass999 client 30 /sec:nla +auth-only /cert:deny
  client_fail
}
chk_nla_wrong_password() { want 'rdp.negReq.selectedProtocol == 2'; want "$TLS_FIN_OK"; want "ip.src==$CLI_IP && tls.app_data" 3; want "ip.src==$SRV_IP && (tcp.flags.fin==1 || tcp.flags.reset==1)"; }

def neg_failure_hybrid_required failed "negotiation-failure" "" \
 "freerdp-shadow-cli /sec:nla (NLA required); xfreerdp /sec:tls (TLS only, no CredSSP): the Connection Confirm carries RDP_NEG_FAILURE HYBRID_REQUIRED_BY_SERVER (5), then the connection closes."
sc_neg_failure_hybrid_required() {
  shadow_start /sec:nla
  capture_start "$PCAP"
  client 30 /sec:tls /cert:deny +auth-only
}
chk_neg_failure_hybrid_required() { want 'rdp.negFailure.failureCode == 5'; none 'tls.handshake'; }

def neg_failure_ssl_required failed "negotiation-failure" "" \
 "freerdp-shadow-cli /sec:tls (TLS required); xfreerdp /sec:rdp (Standard RDP Security only): the Connection Confirm carries RDP_NEG_FAILURE SSL_REQUIRED_BY_SERVER (1)."
sc_neg_failure_ssl_required() {
  shadow_start /sec:tls
  capture_start "$PCAP"
  client 30 /sec:rdp /cert:deny +auth-only
}
chk_neg_failure_ssl_required() { want 'rdp.negFailure.failureCode == 1'; none 'tls.handshake'; }

def neg_failure_ssl_not_allowed failed "negotiation-failure" "" \
 "freerdp-shadow-cli /sec:rdp (Standard RDP Security only); xfreerdp /sec:tls (TLS only): the Connection Confirm carries RDP_NEG_FAILURE SSL_NOT_ALLOWED_BY_SERVER (2)."
sc_neg_failure_ssl_not_allowed() {
  shadow_start /sec:rdp
  capture_start "$PCAP"
  client 30 /sec:tls /cert:deny +auth-only
}
chk_neg_failure_ssl_not_allowed() { want 'rdp.negFailure.failureCode == 2'; none 'tls.handshake'; }

def neg_failure_cert_not_on_server failed "negotiation-failure" "" \
 "xrdp security_layer=tls with certificate= pointing to a file that does not exist; xfreerdp /sec:tls: the Connection Confirm carries RDP_NEG_FAILURE SSL_CERT_NOT_ON_SERVER (3)."
sc_neg_failure_cert_not_on_server() {
  xrdp_start security_layer=tls "certificate=$WORK/missing.pem" "key_file=$WORK/missing.key"
  capture_start "$PCAP"
  client 30 /sec:tls /cert:deny +auth-only
}
chk_neg_failure_cert_not_on_server() { want 'rdp.negFailure.failureCode == 3'; none 'tls.handshake'; }

def tls_cipher_mismatch failed "tls-cipher-mismatch" "" \
 "xrdp security_layer=tls ssl_protocols=TLSv1.2 tls_ciphers=AES128-SHA; xfreerdp /sec:tls /tls-ciphers:ECDHE-RSA-AES256-GCM-SHA384 +enforce-tlsv1_2 (no common cipher suite): server answers the ClientHello with alert handshake_failure (40)."
sc_tls_cipher_mismatch() {
  xrdp_start security_layer=tls "ssl_protocols=TLSv1.2" "tls_ciphers=AES128-SHA"
  capture_start "$PCAP"
  client 30 /sec:tls /cert:deny +auth-only /tls-ciphers:ECDHE-RSA-AES256-GCM-SHA384 +enforce-tlsv1_2
  client_fail
}
chk_tls_cipher_mismatch() { want 'tls.handshake.type == 1'; want "ip.src==$SRV_IP && tls.alert_message.desc == 40"; none 'tls.handshake.type == 2'; }

def tls_version_mismatch failed "tls-version-mismatch" "" \
 "xrdp security_layer=tls ssl_protocols=TLSv1.3 (TLS 1.3 only); xfreerdp /sec:tls +enforce-tlsv1_2 (offers at most TLS 1.2): server answers the ClientHello with alert protocol_version (70)."
sc_tls_version_mismatch() {
  xrdp_start security_layer=tls "ssl_protocols=TLSv1.3"
  capture_start "$PCAP"
  client 30 /sec:tls /cert:deny +auth-only +enforce-tlsv1_2
  client_fail
}
chk_tls_version_mismatch() { want 'tls.handshake.type == 1'; want "ip.src==$SRV_IP && tls.alert_message.desc == 70"; none 'tls.handshake.type == 2'; }

def port_closed failed "connection-refused" "" \
 "No server listening on 10.99.0.1:3389; xfreerdp /sec:tls: each SYN is answered by RST/ACK from the server's kernel (FreeRDP retries once from a new port)."
sc_port_closed() {
  capture_start "$PCAP"
  client 20 /sec:tls /cert:deny +auth-only
}
chk_port_closed() { want 'tcp.flags.syn==1 && tcp.flags.ack==0'; want "ip.src==$SRV_IP && tcp.flags.reset==1"; none 'tcp.len > 0'; }

def firewall_drop failed "port-filtered" "" \
 "xrdp running, but iptables in the server namespace DROPs TCP SYNs to port 3389; xfreerdp /sec:tls /timeout:25000 under timeout 28: client SYN retransmissions only, never answered."
sc_firewall_drop() {
  xrdp_start security_layer=tls
  in_s iptables -A INPUT -p tcp --dport $PORT --syn -j DROP
  capture_start "$PCAP"
  client 28 /sec:tls /cert:deny +auth-only /timeout:25000
}
chk_firewall_drop() { want 'tcp.flags.syn==1 && tcp.flags.ack==0' 3; none "ip.src==$SRV_IP"; }

def icmp_reject failed "connection-refused" "" \
 "xrdp running, but iptables in the server namespace REJECTs TCP to port 3389 with icmp-admin-prohibited; xfreerdp /sec:tls: each SYN is answered by ICMP type 3 code 13."
sc_icmp_reject() {
  xrdp_start security_layer=tls
  in_s iptables -A INPUT -p tcp --dport $PORT -j REJECT --reject-with icmp-admin-prohibited
  capture_start "$PCAP"
  client 20 /sec:tls /cert:deny +auth-only
}
chk_icmp_reject() { want 'icmp.type==3 && icmp.code==13'; none "ip.src==$SRV_IP && tcp && !icmp"; }

# u32 match for a TCP segment whose payload starts with a TLS handshake record
# carrying a ClientHello (record type 0x16, handshake type 0x01)
U32_CLIENT_HELLO='0>>22&0x3C@12>>26&0x3C@0>>24=0x16&&0>>22&0x3C@12>>26&0x3C@5>>24=0x01'

def server_hung stalled "server-unresponsive handshake-stalled" "" \
 "xrdp security_layer=tls started, then SIGSTOPped by PID before the client connects: the kernel completes the TCP handshake and ACKs the X.224 Connection Request, the Connection Confirm never comes; xfreerdp /sec:tls waits (keepalives) until it is killed by timeout 30."
sc_server_hung() {
  xrdp_start security_layer=tls
  kill -STOP "$SRV_PID"
  capture_start "$PCAP"
  client 30 /sec:tls /cert:deny +auth-only /timeout:60000
}
chk_server_hung() { want "ip.src==$CLI_IP && cotp.type == 0x0e"; none 'cotp.type == 0x0d'; none "ip.src==$SRV_IP && tcp.len > 0"; span_ge 25; }

def client_hello_dropped stalled "handshake-stalled packet-loss" "" \
 "xrdp security_layer=tls; iptables (u32) in the server namespace drops every TCP segment carrying a TLS ClientHello (the server-side capture sees it arrive, the server never ACKs it); xfreerdp /sec:tls /timeout:40000 retransmits the ClientHello until it is killed by timeout 32."
sc_client_hello_dropped() {
  xrdp_start security_layer=tls
  in_s iptables -A INPUT -p tcp --dport $PORT -m u32 --u32 "$U32_CLIENT_HELLO" -j DROP
  capture_start "$PCAP"
  client 32 /sec:tls /cert:deny +auth-only /timeout:40000
}
chk_client_hello_dropped() { want 'cotp.type == 0x0d'; want 'tls.handshake.type == 1'; want "ip.src==$CLI_IP && tcp.analysis.retransmission && tcp.len > 200" 5; none 'tls.handshake.type == 2'; span_ge 25; }

def server_reset_after_client_hello failed "server-reset-after-client-hello" "" \
 "xrdp security_layer=tls; iptables (u32) in the server namespace answers the TCP segment carrying the TLS ClientHello with REJECT --reject-with tcp-reset: X.224 negotiation succeeds (TLS selected), then a RST right after the ClientHello, no ServerHello, no alert."
sc_server_reset_after_client_hello() {
  xrdp_start security_layer=tls
  in_s iptables -A INPUT -p tcp --dport $PORT -m u32 --u32 "$U32_CLIENT_HELLO" -j REJECT --reject-with tcp-reset
  capture_start "$PCAP"
  client 20 /sec:tls /cert:deny +auth-only
}
chk_server_reset_after_client_hello() { want 'tls.handshake.type == 1'; want "ip.src==$SRV_IP && tcp.flags.reset==1"; none 'tls.handshake.type == 2'; none 'tls.alert_message'; }

def cert_corrupt failed "server-reset-after-client-hello" "" \
 "xrdp security_layer=tls with a corrupt (truncated) certificate file; xfreerdp /sec:tls: X.224 selects TLS, then right after the ClientHello xrdp sends a cleartext MCS Disconnect Provider Ultimatum and resets the connection; no ServerHello, no alert."
sc_cert_corrupt() {
  xrdp_start security_layer=tls "certificate=$PKI/corrupt.pem"
  capture_start "$PCAP"
  client 20 /sec:tls /cert:deny +auth-only
  client_fail
}
chk_cert_corrupt() { want 'tls.handshake.type == 1'; want "ip.src==$SRV_IP && (tcp.flags.reset==1 || tcp.flags.fin==1)"; none 'tls.handshake.type == 2'; }

def cert_key_mismatch failed "server-reset-after-client-hello" "" \
 "xrdp security_layer=tls with key_file= a private key that does not belong to the certificate; xfreerdp /sec:tls: X.224 selects TLS, then right after the ClientHello xrdp sends a cleartext MCS Disconnect Provider Ultimatum and resets; no ServerHello, no alert."
sc_cert_key_mismatch() {
  xrdp_start security_layer=tls "key_file=$PKI/other.key"
  capture_start "$PCAP"
  client 20 /sec:tls /cert:deny +auth-only
  client_fail
}
chk_cert_key_mismatch() { want 'tls.handshake.type == 1'; want "ip.src==$SRV_IP && (tcp.flags.reset==1 || tcp.flags.fin==1)"; none 'tls.handshake.type == 2'; }

def expired_cert_deny failed "client-rejected-certificate server-certificate-problem" "" \
 "xrdp security_layer=tls ssl_protocols=TLSv1.2 with an expired self-signed certificate (notAfter 2021-01-01, CN=10.99.0.1); xfreerdp /sec:tls /cert:deny: full TLS 1.2 handshake, then the client refuses the certificate and closes."
sc_expired_cert_deny() {
  xrdp_start security_layer=tls "ssl_protocols=TLSv1.2" "certificate=$PKI/expired.pem" "key_file=$PKI/expired.key"
  capture_start "$PCAP"
  client 20 /sec:tls /cert:deny +auth-only
  client_fail
}
chk_expired_cert_deny() { want 'tls.handshake.type == 11'; want "ip.src==$CLI_IP && tcp.flags.fin==1"; none "ip.src==$CLI_IP && tls.app_data && tcp.len > 60"; }

def security_downgrade failed "security-downgrade" "" \
 "xrdp security_layer=negotiate with certificate= pointing to a missing file; xfreerdp /sec:tls (requests TLS only): xrdp silently answers selectedProtocol 0 (Standard RDP Security) instead of a failure, and the client, which did not request it, gives up."
sc_security_downgrade() {
  xrdp_start security_layer=negotiate "certificate=$WORK/missing.pem" "key_file=$WORK/missing.key"
  capture_start "$PCAP"
  client 20 /sec:tls /cert:deny +auth-only
}
chk_security_downgrade() { want 'rdp.negReq.requestedProtocols == 1'; want 'rdp.negReq.selectedProtocol == 0'; none 'tls.handshake'; }

def security_downgrade_negotiated failed "security-downgrade server-abort" "" \
 "xrdp security_layer=negotiate with certificate= pointing to a missing file; xfreerdp with its default security (requests TLS and CredSSP, also allows Standard RDP Security): xrdp silently selects Standard RDP Security (selectedProtocol 0) and the client follows; after the Client Info PDU xrdp sends an MCS Disconnect Provider Ultimatum and closes (Debian's xrdp rejects FreeRDP 2's salted MAC: 'MAC checksum error' in its log, nothing on the wire says why)."
sc_security_downgrade_negotiated() {
  xrdp_start security_layer=negotiate "certificate=$WORK/missing.pem" "key_file=$WORK/missing.key"
  capture_start "$PCAP"
  client 20 /cert:deny +auth-only
}
chk_security_downgrade_negotiated() { want 'rdp.negReq.requestedProtocols == 3'; want 'rdp.negReq.selectedProtocol == 0'; none 'tls.handshake'; want 'tcp.len > 100' 2; }

def tls_version_mismatch_tls10_server failed "tls-version-mismatch" "" \
 "xrdp security_layer=tls ssl_protocols=TLSv1 (TLS 1.0 only); xfreerdp /sec:tls (offers TLS 1.2 and 1.3): no common version; xrdp (OpenSSL 3) answers the ClientHello with a plaintext alert internal_error (80), no ServerHello, then a cleartext MCS Disconnect Provider Ultimatum."
sc_tls_version_mismatch_tls10_server() {
  xrdp_start security_layer=tls "ssl_protocols=TLSv1"
  capture_start "$PCAP"
  client 20 /sec:tls /cert:deny +auth-only
}
chk_tls_version_mismatch_tls10_server() { want 'tls.handshake.type == 1'; want "ip.src==$SRV_IP && tls.alert_message.desc == 80"; none 'tls.handshake.type == 2'; }

def self_signed_cert_ignored ok "server-certificate-problem" "" \
 "xrdp security_layer=tls ssl_protocols=TLSv1.2 with its stock self-signed certificate from the Debian package (/etc/xrdp/cert.pem, CN is not 10.99.0.1); xfreerdp /sec:tls /cert:ignore +auth-only: the connection succeeds although the certificate is self-signed and names another host."
sc_self_signed_cert_ignored() {
  xrdp_start security_layer=tls "ssl_protocols=TLSv1.2" "certificate=/etc/xrdp/cert.pem" "key_file=/etc/xrdp/key.pem"
  capture_start "$PCAP"
  client 20 /sec:tls /cert:ignore +auth-only
  client_ok
}
chk_self_signed_cert_ignored() { want 'tls.handshake.type == 11'; want 'tls.handshake.type == 2'; want "ip.src==$CLI_IP && tls.app_data" 5; none 'tls.alert_message.desc'; }

# NFQUEUE delay/drop queue in the client namespace (the "path" seen from the
# server): outgoing client segments and incoming server segments of port 3389.
path_queue() {  # path_queue nfqdelay-options...
  in_c iptables -A OUTPUT -p tcp --dport $PORT -j NFQUEUE --queue-num 0 --queue-bypass
  in_c iptables -A INPUT  -p tcp --sport $PORT -j NFQUEUE --queue-num 0 --queue-bypass
  nfq_start "$NS_C" 0 "$@"
}

def high_latency slow "high-latency handshake-slow" "" \
 "xrdp security_layer=tls TLSv1.3, lab-CA certificate; 300 ms added each way (RTT 600 ms) by the NFQUEUE delay queue (lab/nfqdelay.c) in the client namespace; xfreerdp /sec:tls +auth-only /cert:deny /timeout:30000: the connection succeeds, the handshake takes several seconds."
sc_high_latency() {
  xrdp_start security_layer=tls "ssl_protocols=TLSv1.3"
  path_queue -d 300
  capture_start "$PCAP"
  client 40 /sec:tls +auth-only /cert:deny /timeout:30000
  client_ok
}
chk_high_latency() { want 'tls.handshake.type == 2'; want 'tcp.analysis.ack_rtt > 0.55' 3; span_ge 5; none 'tls.alert_message.desc'; }

def lossy_ok ok "packet-loss" "" \
 "xrdp security_layer=tls TLSv1.3, lab-CA certificate; NFQUEUE queue in the client namespace drops 20% of port-3389 segments in both directions (fixed seed 11, the first 3 packets spared); xfreerdp /sec:tls +auth-only /cert:deny: retransmissions, but the connection completes."
sc_lossy_ok() {
  xrdp_start security_layer=tls "ssl_protocols=TLSv1.3"
  path_queue -l 20 -s 11 -k 3
  capture_start "$PCAP"
  client 40 /sec:tls +auth-only /cert:deny /timeout:30000
  client_ok
}
chk_lossy_ok() { want 'tls.handshake.type == 2'; want 'tcp.analysis.retransmission || tcp.analysis.lost_segment' 1; none 'tls.alert_message.desc'; want "ip.src==$CLI_IP && tls.app_data" 5; }

def lossy_timeout failed "packet-loss" "" \
 "xrdp security_layer=tls TLSv1.3; NFQUEUE queue in the client namespace drops 65% of port-3389 segments in both directions (fixed seeds tried in order 1..8 until one makes the client fail, the first 3 packets spared); xfreerdp /sec:tls +auth-only /cert:deny /timeout:10000 (TCP_USER_TIMEOUT 10 s) under timeout 30: retransmissions in both directions, small segments as well as large ones, the handshake never completes and the client gives up."
sc_lossy_timeout() {
  xrdp_start security_layer=tls "ssl_protocols=TLSv1.3"
  in_c iptables -A OUTPUT -p tcp --dport $PORT -j NFQUEUE --queue-num 0 --queue-bypass
  in_c iptables -A INPUT  -p tcp --sport $PORT -j NFQUEUE --queue-num 0 --queue-bypass
  local seed
  # the drop pattern is fixed per seed, but which packet gets which draw depends on
  # timing; try a fixed list of seeds until the client does give up
  for seed in ${LOSSY_SEEDS:-1 2 3 4 5 6 7 8}; do
    nfq_start "$NS_C" 0 -l 65 -s "$seed" -k 3; local nfq=$LAST_PID
    capture_start "$PCAP"
    client 30 /sec:tls +auth-only /cert:deny /timeout:10000
    sleep 3
    capture_stop
    kill "$nfq"; wait "$nfq" 2>/dev/null || true
    [ "$CLIENT_RC" != 0 ] && { log "seed $seed: client gave up"; break; }
    log "seed $seed: client connected anyway, next seed"
  done
  client_fail
}
chk_lossy_timeout() { want "ip.src==$SRV_IP && tcp.analysis.retransmission && tcp.len < 600"; want "ip.src==$CLI_IP && tcp.analysis.retransmission"; want 'tcp.analysis.retransmission' 6; }

def mtu_blackhole stalled "mtu-blackhole handshake-stalled" "" \
 "xrdp security_layer=tls TLSv1.2 (certificate flight about 1.2 kB); in the client namespace iptables drops every server segment of 1000 bytes or more (-m length) while the server-side MTU stays 1500; the server namespace route has quickack 1 so the ClientHello is ACKed at once; xfreerdp /sec:tls /timeout:40000 under timeout 32: the server retransmits its big segment, the handshake stalls."
sc_mtu_blackhole() {
  xrdp_start security_layer=tls "ssl_protocols=TLSv1.2"
  in_s ip route change 10.99.0.0/24 dev "$IF_S" proto kernel scope link src "$SRV_IP" quickack 1
  in_c iptables -A INPUT -p tcp --sport $PORT -m length --length 1000:65535 -j DROP
  capture_start "$PCAP"
  client 32 /sec:tls +auth-only /cert:deny /timeout:40000
}
chk_mtu_blackhole() { want 'tls.handshake.type == 1'; want "ip.src==$SRV_IP && tcp.len >= 900 && tcp.analysis.retransmission" 3; want "ip.src==$SRV_IP && tcp.len == 0 && tcp.ack > 300"; span_ge 25; }

def client_abort failed "client-abort" "" \
 "freerdp-shadow-cli /sec:nla; xfreerdp /sec:nla started without /p: after the TLS handshake it waits for a password on stdin (a pipe that never delivers), and is killed by PID after 3 s, like a user cancelling the prompt: the client closes the connection after TLS, before any CredSSP message."
sc_client_abort() {
  shadow_start /sec:nla
  [ -S /tmp/.X11-unix/X${DISP_C#:} ] || xvfb_start "$NS_C" "$DISP_C"
  mkdir -p "$WORK/chome"
  capture_start "$PCAP"
  spawn "$NS_C" "$WORK/client.log" bash -c "sleep 15 | env HOME='$WORK/chome' XDG_CONFIG_HOME='$WORK/chome/.config' DISPLAY='$DISP_C' SSL_CERT_FILE='$PKI/ca.pem' setsid timeout -k 1 10 xfreerdp /v:$SRV_IP:$PORT /u:$USER_NAME /sec:nla /cert:deny"
  sleep 3
  local p; for p in $(ip netns pids "$NS_C"); do
    [ "$(cat /proc/$p/comm 2>/dev/null)" = xfreerdp ] && kill -KILL "$p"; done
  sleep 1
}
chk_client_abort() { want "$TLS_FIN_OK"; want "ip.src==$CLI_IP && (tcp.flags.fin==1 || tcp.flags.reset==1)"; none "ip.src==$SRV_IP && (tcp.flags.fin==1 || tcp.flags.reset==1) && frame.time_relative < 2.5"; }

def slow_server slow "handshake-slow" "" \
 "xrdp security_layer=tls TLSv1.3 SIGSTOPped by PID; xfreerdp /sec:tls +auth-only /cert:deny connects (the kernel accepts and ACKs the X.224 request); after 7 s the server is resumed (SIGCONT) and the connection completes normally: a handshake that succeeds but takes over 5 s, with a sub-millisecond RTT."
sc_slow_server() {
  xrdp_start security_layer=tls "ssl_protocols=TLSv1.3"
  kill -STOP "$SRV_PID"
  capture_start "$PCAP"
  client_bg 30 /sec:tls +auth-only /cert:deny /timeout:30000
  sleep 7
  kill -CONT "$SRV_PID"
  client_wait
}
chk_slow_server() { want 'tls.handshake.type == 2'; want 'cotp.type == 0x0d && frame.time_relative > 6'; none 'tls.alert_message.desc'; none "ip.src==$SRV_IP && tcp.flags.reset==1"; }

def capture_started_late ok "" "capture-incomplete" \
 "xrdp security_layer=tls TLSv1.3 (lab-CA certificate) is SIGSTOPped; xfreerdp /sec:tls +auth-only /cert:deny connects (kernel accepts, X.224 request ACKed); tcpdump starts 1 s later and the server is resumed at 1.5 s: the capture lacks the TCP handshake and the X.224 Connection Request but shows the Connection Confirm, the TLS handshake and a successful connection sequence with a clean close."
sc_capture_started_late() {
  xrdp_start security_layer=tls "ssl_protocols=TLSv1.3"
  kill -STOP "$SRV_PID"
  client_bg 30 /sec:tls +auth-only /cert:deny /timeout:30000
  sleep 1
  capture_start "$PCAP"
  sleep 0.5
  kill -CONT "$SRV_PID"
  client_wait
  client_ok
}
chk_capture_started_late() { none 'tcp.flags.syn==1'; none 'cotp.type == 0x0e'; want 'cotp.type == 0x0d'; want 'tls.handshake.type == 2'; want "ip.src==$CLI_IP && tls.app_data" 5; }

def capture_ended_early incomplete "" "capture-incomplete" \
 "xrdp security_layer=tls TLSv1.3 is SIGSTOPped; xfreerdp /sec:tls +auth-only /cert:deny connects; tcpdump is stopped 1.5 s after the X.224 Connection Request (before any answer), then the server is resumed and the connection goes on unrecorded. The capture is too short to tell a hung server from a slow one."
sc_capture_ended_early() {
  xrdp_start security_layer=tls "ssl_protocols=TLSv1.3"
  kill -STOP "$SRV_PID"
  capture_start "$PCAP"
  client_bg 30 /sec:tls +auth-only /cert:deny /timeout:30000
  sleep 1.5
  capture_stop
  kill -CONT "$SRV_PID"
  client_wait
}
chk_capture_ended_early() { want 'cotp.type == 0x0e'; none 'cotp.type == 0x0d'; none 'tcp.flags.fin==1 || tcp.flags.reset==1'; }

def weak_key_cert failed "server-reset-after-client-hello" "" \
 "xrdp security_layer=tls ssl_protocols=TLSv1.2 with a 1024-bit RSA certificate signed by the lab CA for 10.99.0.1; xfreerdp /sec:tls /cert:deny: OpenSSL 3 (security level 2) on the server refuses to load the key (ee key too small), so after the ClientHello xrdp sends a cleartext MCS Disconnect Provider Ultimatum and resets; no ServerHello, no alert, the weak certificate never reaches the wire."
sc_weak_key_cert() {
  xrdp_start security_layer=tls "ssl_protocols=TLSv1.2" "certificate=$PKI/weak.pem" "key_file=$PKI/weak.key"
  capture_start "$PCAP"
  client 20 /sec:tls /cert:deny +auth-only
  client_fail
}
chk_weak_key_cert() { want 'tls.handshake.type == 1'; want "ip.src==$SRV_IP && tcp.flags.reset==1"; none 'tls.handshake.type == 2'; none 'tls.alert_message'; }

def cert_name_mismatch_deny failed "client-rejected-certificate server-certificate-problem" "" \
 "xrdp security_layer=tls ssl_protocols=TLSv1.2 with a certificate signed by the trusted lab CA but issued to otherhost.lab.test; xfreerdp /v:10.99.0.1 /sec:tls /cert:deny: full TLS 1.2 handshake (SNI 10.99.0.1), then the client refuses the certificate (name mismatch) and closes."
sc_cert_name_mismatch_deny() {
  xrdp_start security_layer=tls "ssl_protocols=TLSv1.2" "certificate=$PKI/wrongname.pem" "key_file=$PKI/wrongname.key"
  capture_start "$PCAP"
  client 20 /sec:tls /cert:deny +auth-only
  client_fail
}
chk_cert_name_mismatch_deny() { want 'tls.handshake.type == 11'; want "ip.src==$CLI_IP && tcp.flags.fin==1"; none "ip.src==$CLI_IP && tls.app_data && tcp.len > 60"; }

def mtu_blackhole_client_side stalled "mtu-blackhole handshake-stalled" "" \
 "CLIENT-side capture. xrdp security_layer=tls TLSv1.2; every server segment of 1000 bytes or more is sent to an NFQUEUE in the server namespace (OUTPUT) where nfqdelay -l 100 drops it, after the server's TCP has counted it as sent, as a tunnel with a smaller MTU would; quickack 1 on the server route so the ClientHello is ACKed at once; xfreerdp /sec:tls /timeout:40000 under timeout 32: the client sees the X.224 exchange and the ACK of its ClientHello, then only keepalive answers whose sequence number is beyond the data received (the server's certificate flight never arrives, no ServerHello)."
sc_mtu_blackhole_client_side() {
  xrdp_start security_layer=tls "ssl_protocols=TLSv1.2"
  in_s ip route change 10.99.0.0/24 dev "$IF_S" proto kernel scope link src "$SRV_IP" quickack 1
  # an NFQUEUE drop (not -j DROP): the server's TCP counts the segment as sent, as
  # on a real path, so its later ACKs carry the advanced sequence number
  in_s iptables -A OUTPUT -p tcp --sport $PORT -m length --length 1000:65535 -j NFQUEUE --queue-num 1
  nfq_start "$NS_S" 1 -l 100
  capture_start "$PCAP" c
  client 32 /sec:tls +auth-only /cert:deny /timeout:40000
}
chk_mtu_blackhole_client_side() { want 'tls.handshake.type == 1'; none "ip.src==$SRV_IP && tcp.len >= 900"; want "ip.src==$SRV_IP && tcp.analysis.lost_segment"; want "ip.src==$SRV_IP && tcp.len == 0 && tcp.ack > 300"; none 'tls.handshake.type == 2'; span_ge 25; }
