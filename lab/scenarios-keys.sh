# scenarios-keys.sh - recordings with the client's TLS secrets (issue 15).
# xfreerdp runs with lab/keylog/libkeylog.so preloaded (build/libkeylog.so): it appends
# NSS key log lines to WORK/NAME.keys; run.sh keeps them as fixtures/lab/NAME.keys and
# embeds them with editcap --inject-secrets into NAME.pcapng (a Decryption Secrets Block).
# Each check proves with tshark that the pcapng decrypts (credssp/NTLM or the MCS
# connection sequence visible inside the TLS records).

# dec FILTER [MIN] [MAX]: frames of NAME.pcapng (decrypted with its embedded secrets)
dec() {
  local f=${PCAP%.pcap}.pcapng c
  c=$(tshark -r "$f" -d tcp.port==$PORT,tls -Y "$1" 2>/dev/null | wc -l || true)
  if [ "$c" -ge "${2:-1}" ] && [ "$c" -le "${3:-999999}" ]; then return 0; fi
  log "check failed (decrypted): '$1' matched $c (want ${2:-1}..${3:-inf})"; CHECK_OK=0
}
# keys_have PATTERN [MIN] [MAX]: lines of NAME.keys whose label matches (never printed)
keys_have() {
  local c; c=$(grep -cE "^($1) " "${PCAP%.pcap}.keys" 2>/dev/null || true)
  if [ "${c:-0}" -ge "${2:-1}" ] && [ "${c:-0}" -le "${3:-999999}" ]; then return 0; fi
  log "check failed: ${c:-0} key log lines match '$1' (want ${2:-1}..${3:-inf})"; CHECK_OK=0
}
KEYS_TLS13='CLIENT_HANDSHAKE_TRAFFIC_SECRET|SERVER_HANDSHAKE_TRAFFIC_SECRET|CLIENT_TRAFFIC_SECRET_0|SERVER_TRAFFIC_SECRET_0'
# decrypted RDP connection sequence: MCS Connect Initial (client) and Response (server)
DEC_MCS='t125.connect_initial_element || t125.connect_response_element'

def keys_nla_ok ok "" "" \
 "With TLS secrets (NAME.keys, NAME.pcapng). freerdp-shadow-cli /sec:nla with an NTLM SAM file, lab-CA certificate; xfreerdp /sec:nla +auth-only with the right password, libkeylog.so preloaded: TLS 1.3, CredSSP with NTLM (NEGOTIATE, CHALLENGE, AUTHENTICATE, pubKeyAuth) succeeds, the connection sequence runs, clean close."
keyed keys_nla_ok
sc_keys_nla_ok() {
  shadow_start /sec:nla
  keylog_on "$WORK/keys_nla_ok.keys"
  capture_start "$PCAP"
  client 30 /sec:nla +auth-only /cert:deny
  client_ok
}
chk_keys_nla_ok() { keys_have "$KEYS_TLS13" 4; dec 'ntlmssp.messagetype == 0x00000003'; dec 'credssp.pubKeyAuth' 2; dec "$DEC_MCS" 1; none 'tls.alert_message'; }

def keys_nla_wrong_password failed "nla-failed" "" \
 "With TLS secrets. freerdp-shadow-cli /sec:nla with an NTLM SAM file; xfreerdp /sec:nla +auth-only with a wrong password: TLS 1.3, CredSSP NEGOTIATE/CHALLENGE/AUTHENTICATE, then the server answers with a TLS close_notify (no TSRequest errorCode: FreeRDP 2's shadow server sends none) and closes."
keyed keys_nla_wrong_password
sc_keys_nla_wrong_password() {
  shadow_start /sec:nla
  keylog_on "$WORK/keys_nla_wrong_password.keys"
  capture_start "$PCAP"
  CLIENT_PASS=WrongPass999 client 30 /sec:nla +auth-only /cert:deny
  client_fail
}
chk_keys_nla_wrong_password() { keys_have "$KEYS_TLS13" 4; dec 'ntlmssp.messagetype == 0x00000003'; dec "ip.src==$SRV_IP && tls.alert_message.desc == 0"; none "$DEC_MCS"; }

def keys_nla_unknown_user failed "nla-failed" "" \
 "With TLS secrets. freerdp-shadow-cli /sec:nla with an NTLM SAM file holding only labuser; xfreerdp /sec:nla +auth-only /u:nosuchuser: CredSSP/NTLM AUTHENTICATE for an account the server does not know, then the server's close_notify and close."
keyed keys_nla_unknown_user
sc_keys_nla_unknown_user() {
  shadow_start /sec:nla
  keylog_on "$WORK/keys_nla_unknown_user.keys"
  capture_start "$PCAP"
  CLIENT_USER=nosuchuser client 30 /sec:nla +auth-only /cert:deny
  client_fail
}
chk_keys_nla_unknown_user() { keys_have "$KEYS_TLS13" 4; dec 'ntlmssp.messagetype == 0x00000003 && ntlmssp.auth.username == "nosuchuser"'; none "$DEC_MCS"; }

def keys_tls13_ok ok "" "" \
 "With TLS secrets. xrdp security_layer=tls ssl_protocols=TLSv1.3, lab-CA certificate; xfreerdp /sec:tls +auth-only /cert:deny: TLS 1.3 (TLS_AES_256_GCM_SHA384), the MCS/GCC connection sequence inside TLS, clean close. No fault."
keyed keys_tls13_ok
sc_keys_tls13_ok() {
  xrdp_start security_layer=tls "ssl_protocols=TLSv1.3"
  keylog_on "$WORK/keys_tls13_ok.keys"
  capture_start "$PCAP"
  client 30 /sec:tls +auth-only /cert:deny
  client_ok
}
chk_keys_tls13_ok() { keys_have "$KEYS_TLS13" 4; want 'tls.handshake.extensions.supported_version == 0x0304'; dec "$DEC_MCS" 2; none 'tls.alert_message.desc'; }

def keys_tls13_traffic_only ok "" "" \
 "With TLS secrets, but the key log keeps only CLIENT_TRAFFIC_SECRET_0 and SERVER_TRAFFIC_SECRET_0 (as LSA dumps of a Windows host often do): xrdp security_layer=tls ssl_protocols=TLSv1.3; xfreerdp /sec:tls +auth-only /cert:deny, a healthy TLS 1.3 connection. tshark decrypts nothing from these secrets (it needs the handshake secrets to find where the traffic keys start); the application data still decrypts from sequence number 0 of the traffic keys."
keyed keys_tls13_traffic_only
sc_keys_tls13_traffic_only() {
  xrdp_start security_layer=tls "ssl_protocols=TLSv1.3"
  keylog_on "$WORK/full.keys"
  capture_start "$PCAP"
  client 30 /sec:tls +auth-only /cert:deny
  client_ok
  grep -E '^(CLIENT|SERVER)_TRAFFIC_SECRET_0 ' "$WORK/full.keys" > "$WORK/keys_tls13_traffic_only.keys"
}
chk_keys_tls13_traffic_only() {
  keys_have 'CLIENT_TRAFFIC_SECRET_0|SERVER_TRAFFIC_SECRET_0' 2 2; keys_have 'CLIENT_HANDSHAKE_TRAFFIC_SECRET|SERVER_HANDSHAKE_TRAFFIC_SECRET|CLIENT_RANDOM|EXPORTER_SECRET' 0 0
  want 'tls.handshake.extensions.supported_version == 0x0304'; want "ip.src==$CLI_IP && tls.app_data" 5; none 'tls.alert_message.desc'
  dec "$DEC_MCS" 0 0   # tshark cannot use traffic secrets alone
}

def keys_tls12_ok ok "" "" \
 "With TLS secrets (CLIENT_RANDOM). xrdp security_layer=tls ssl_protocols=TLSv1.2 (default cipher list: ECDHE-RSA-AES256-GCM-SHA384, extended master secret); xfreerdp /sec:tls +auth-only /cert:deny: TLS 1.2, the connection sequence inside TLS, clean close. No fault."
keyed keys_tls12_ok
sc_keys_tls12_ok() {
  xrdp_start security_layer=tls "ssl_protocols=TLSv1.2"
  keylog_on "$WORK/keys_tls12_ok.keys"
  capture_start "$PCAP"
  client 30 /sec:tls +auth-only /cert:deny
  client_ok
}
chk_keys_tls12_ok() { keys_have CLIENT_RANDOM 1 1; want 'tls.handshake.type == 2 && tls.handshake.version == 0x0303 && !tls.handshake.extensions.supported_version'; want 'tls.handshake.ciphersuite == 0xc030'; dec "$DEC_MCS" 2; none 'tls.alert_message.desc'; }

def keys_tls12_cbc_sha1 ok "" "" \
 "With TLS secrets (CLIENT_RANDOM). xrdp security_layer=tls ssl_protocols=TLSv1.2 tls_ciphers=ECDHE-RSA-AES128-SHA; xfreerdp /sec:tls +auth-only /cert:deny: TLS 1.2 with the AES-128-CBC / HMAC-SHA1 suite 0xc013 (encrypt-then-MAC is offered by OpenSSL: see the ServerHello), connection sequence inside TLS, clean close. No fault."
keyed keys_tls12_cbc_sha1
sc_keys_tls12_cbc_sha1() {
  xrdp_start security_layer=tls "ssl_protocols=TLSv1.2" "tls_ciphers=ECDHE-RSA-AES128-SHA"
  keylog_on "$WORK/keys_tls12_cbc_sha1.keys"
  capture_start "$PCAP"
  client 30 /sec:tls +auth-only /cert:deny
  client_ok
}
chk_keys_tls12_cbc_sha1() { keys_have CLIENT_RANDOM 1 1; want 'tls.handshake.type == 2 && tls.handshake.ciphersuite == 0xc013'; dec "$DEC_MCS" 2; none 'tls.alert_message.desc'; }

def keys_tls12_cbc_sha384 ok "" "" \
 "With TLS secrets (CLIENT_RANDOM). xrdp security_layer=tls ssl_protocols=TLSv1.2 tls_ciphers=ECDHE-RSA-AES256-SHA384; xfreerdp /sec:tls +auth-only /cert:deny: TLS 1.2 with the AES-256-CBC / HMAC-SHA384 suite 0xc028, connection sequence inside TLS, clean close. No fault."
keyed keys_tls12_cbc_sha384
sc_keys_tls12_cbc_sha384() {
  xrdp_start security_layer=tls "ssl_protocols=TLSv1.2" "tls_ciphers=ECDHE-RSA-AES256-SHA384"
  keylog_on "$WORK/keys_tls12_cbc_sha384.keys"
  capture_start "$PCAP"
  client 30 /sec:tls +auth-only /cert:deny
  client_ok
}
chk_keys_tls12_cbc_sha384() { keys_have CLIENT_RANDOM 1 1; want 'tls.handshake.type == 2 && tls.handshake.ciphersuite == 0xc028'; dec "$DEC_MCS" 2; none 'tls.alert_message.desc'; }

def keys_server_disconnect failed "server-disconnect-reason" "" \
 "With TLS secrets. xrdp security_layer=tls ssl_protocols=TLSv1.3; a full xfreerdp /sec:tls /cert:deny session (not +auth-only) with /u /p, so xrdp logs on automatically. The lab runs no xrdp-sesman: xrdp's session back end (libxup) fails to attach, and xrdp ends the session that had started (licensing, Demand/Confirm Active, finalisation, fast-path pointer updates and DRDYNVC channel setup all done) about 0.25 s later with an MCS Disconnect Provider Ultimatum (reason rn-user-requested, 3), a TLS close_notify and a FIN. No Set Error Info PDU. The decrypted stream shows who ended the session and when; without keys it looks like a server close after the handshake. (xrdp is sent SIGTERM 4 s after the start only to bound the run.)"
keyed keys_server_disconnect
pending keys_server_disconnect "issue 15"
sc_keys_server_disconnect() {
  xrdp_start security_layer=tls "ssl_protocols=TLSv1.3"
  keylog_on "$WORK/keys_server_disconnect.keys"
  capture_start "$PCAP"
  client_bg 30 /sec:tls /cert:deny
  sleep 4
  kill -TERM "$SRV_PID"
  client_wait
}
chk_keys_server_disconnect() {
  keys_have "$KEYS_TLS13" 4; dec "$DEC_MCS" 2; dec 'rdp.pduType.type == 1'
  dec "ip.src==$SRV_IP && t124.disconnectProviderUltimatum_element"; dec "ip.src==$SRV_IP && tls.alert_message.desc == 0"
}

def keys_shadow_shutdown failed "server-abort" "" \
 "With TLS secrets. freerdp-shadow-cli /sec:nla (NTLM SAM file); a full xfreerdp /sec:nla /cert:deny session (not +auth-only): NLA succeeds and the session runs (connection sequence, DRDYNVC, graphics pipeline updates); 3 s after the start the shadow server is ended with SIGTERM and its TCP sends a FIN: no Disconnect Provider Ultimatum, no Set Error Info, no close_notify from the server (the client answers with its close_notify and draws a RST). The server dropped a running session without saying why."
keyed keys_shadow_shutdown
pending keys_shadow_shutdown "issue 15"
sc_keys_shadow_shutdown() {
  shadow_start /sec:nla
  keylog_on "$WORK/keys_shadow_shutdown.keys"
  capture_start "$PCAP"
  client_bg 30 /sec:nla /cert:deny
  sleep 3
  kill -TERM "$SRV_PID"
  client_wait
}
chk_keys_shadow_shutdown() {
  keys_have "$KEYS_TLS13" 4; dec "$DEC_MCS" 2; dec 'ntlmssp.messagetype == 0x00000003'; dec 'rdp.pduType.type == 1'
  want "ip.src==$SRV_IP && tcp.flags.fin==1 && frame.time_relative > 2"; dec "ip.src==$SRV_IP && (t124.disconnectProviderUltimatum_element || tls.alert_message)" 0 0
}

def keys_nla_tls12_ok ok "" "" \
 "With TLS secrets (CLIENT_RANDOM). freerdp-shadow-cli /sec:nla with an NTLM SAM file; xfreerdp /sec:nla +auth-only +enforce-tlsv1_2 with the right password: CredSSP over TLS 1.2 (ECDHE-RSA-AES256-GCM-SHA384), as Windows peers often negotiate; NLA succeeds, the connection sequence runs, clean close. No fault."
keyed keys_nla_tls12_ok
sc_keys_nla_tls12_ok() {
  shadow_start /sec:nla
  keylog_on "$WORK/keys_nla_tls12_ok.keys"
  capture_start "$PCAP"
  client 30 /sec:nla +auth-only /cert:deny +enforce-tlsv1_2
  client_ok
}
chk_keys_nla_tls12_ok() {
  keys_have CLIENT_RANDOM 1 1; want 'tls.handshake.type == 2 && tls.handshake.version == 0x0303 && !tls.handshake.extensions.supported_version'
  dec 'ntlmssp.messagetype == 0x00000003'; dec 'credssp.pubKeyAuth' 2; dec "$DEC_MCS" 1
  dec 'tls.alert_message.desc != 0' 0 0   # only the teardown close_notify (visible as an alert record in TLS 1.2)
}
