# scenarios.sh - one function sc_NAME (records) and chk_NAME (tshark checks) per
# scenario, registered with def NAME VERDICT "CODES" "INFO_CODES" "DESCRIPTION".
# Server-side capture unless stated. SRV=10.99.0.1:3389, client 10.99.0.2.
declare -A DESC VERDICT CODES INFO
SCENARIOS=()
def() { SCENARIOS+=("$1"); VERDICT[$1]=$2; CODES[$1]=$3; INFO[$1]=$4; DESC[$1]=$5; }

# common tshark predicates
CC_OK='rdp.neg_type == 0x02'
TLS_FIN_OK='tls.handshake.type == 2'

def tls13_ok ok "" "" \
 "xrdp 0.9.21 security_layer=tls ssl_protocols=TLSv1.3, certificate signed by the lab CA for 10.99.0.1; xfreerdp /sec:tls +auth-only /cert:deny (lab CA trusted via SSL_CERT_FILE): full TLS 1.3 handshake and RDP connection sequence, clean close. No fault."
sc_tls13_ok() {
  xrdp_start security_layer=tls "ssl_protocols=TLSv1.3"
  capture_start "$PCAP"
  client 30 /sec:tls +auth-only /cert:deny
}
chk_tls13_ok() { want "$TLS_FIN_OK"; want 'tls.handshake.extensions.supported_version == 0x0304'; none 'tls.alert_message.desc'; none "ip.src==$SRV_IP && tcp.flags.reset==1"; }

def tls12_ok ok "" "" \
 "xrdp security_layer=tls ssl_protocols=TLSv1.2, lab-CA certificate for 10.99.0.1; xfreerdp /sec:tls +auth-only /cert:deny: TLS 1.2 handshake, connection sequence, clean close. No fault."
sc_tls12_ok() {
  xrdp_start security_layer=tls "ssl_protocols=TLSv1.2"
  capture_start "$PCAP"
  client 30 /sec:tls +auth-only /cert:deny
}
chk_tls12_ok() { want 'tls.handshake.type == 2 && tls.handshake.version == 0x0303 && !tls.handshake.extensions.supported_version'; want 'tls.handshake.type == 20 || tls.record.content_type == 20'; none 'tls.alert_message.desc'; none "ip.src==$SRV_IP && tcp.flags.reset==1"; }

def rdp_security_ok ok "" "" \
 "freerdp-shadow-cli /sec:rdp (Standard RDP Security only) under Xvfb; xfreerdp /sec:rdp +auth-only: no RDP_NEG_REQ, Standard RDP Security with RC4 session keys, connection sequence completes. No fault (Standard security was what the client asked for)."
sc_rdp_security_ok() {
  shadow_start /sec:rdp
  capture_start "$PCAP"
  client 30 /sec:rdp +auth-only /cert:ignore
}
chk_rdp_security_ok() { want 'cotp.type == 0x0d'; none 'tls.handshake'; none "ip.src==$SRV_IP && tcp.flags.reset==1"; want 'tcp.len > 100' 6; }

def nla_ok ok "" "" \
 "freerdp-shadow-cli /sec:nla with an NTLM SAM file (winpr-hash), lab-CA certificate; xfreerdp /sec:nla +auth-only with the right password: TLS 1.3 + CredSSP succeed, clean close. No fault."
sc_nla_ok() {
  shadow_start /sec:nla
  capture_start "$PCAP"
  client 30 /sec:nla +auth-only /cert:deny
}
chk_nla_ok() { want 'rdp.negReq.selectedProtocol == 2'; want "$TLS_FIN_OK"; none "ip.src==$SRV_IP && tcp.flags.reset==1"; none 'tls.alert_message'; }

def nla_wrong_password failed "nla-failed" "" \
 "freerdp-shadow-cli /sec:nla with an NTLM SAM file; xfreerdp /sec:nla +auth-only with a wrong password: TLS completes, CredSSP/NTLM round trips, then the server closes the connection."
sc_nla_wrong_password() {
  shadow_start /sec:nla
  capture_start "$PCAP"
  CLIENT_PASS=WrongPass999 client 30 /sec:nla +auth-only /cert:deny
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
}
chk_tls_cipher_mismatch() { want 'tls.handshake.type == 1'; want "ip.src==$SRV_IP && tls.alert_message.desc == 40"; none 'tls.handshake.type == 2'; }

def tls_version_mismatch failed "tls-version-mismatch" "" \
 "xrdp security_layer=tls ssl_protocols=TLSv1.3 (TLS 1.3 only); xfreerdp /sec:tls +enforce-tlsv1_2 (offers at most TLS 1.2): server answers the ClientHello with alert protocol_version (70)."
sc_tls_version_mismatch() {
  xrdp_start security_layer=tls "ssl_protocols=TLSv1.3"
  capture_start "$PCAP"
  client 30 /sec:tls /cert:deny +auth-only +enforce-tlsv1_2
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
