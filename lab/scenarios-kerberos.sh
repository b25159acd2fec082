# scenarios-kerberos.sh - the story around the connection (issue 17): the client
# namespace resolves the RDP server's name and the realm's KDC (DNS SRV) through the
# lab's dnsmasq, gets a ticket with kinit and a TERMSRV service ticket with kvno, as a
# Windows client does before its CredSSP logon, then runs xfreerdp /sec:nla against
# the shadow server. The KDC (MIT krb5kdc) and dnsmasq run in the server namespace on a
# second address, KDC_IP (10.99.0.3); capture on the server-side veth, all of the
# client's traffic (DNS, Kerberos on 88, RDP). FreeRDP 2 itself authenticates with NTLM
# (its SAM file), like a Windows client falling back when Kerberos fails.

KRB_PASS=$USER_PASS        # the KDC and the shadow server's SAM share labuser's password

# krb_files: krb5.conf (client and KDC), kdc.conf, the realm database and principals
krb_files() {
  local d=$WORK/krb
  mkdir -p "$d"
  cat > "$d/krb5.conf" <<EOC
[libdefaults]
  default_realm = $REALM
  dns_lookup_kdc = true
  dns_lookup_realm = false
  rdns = false
  kdc_timesync = 0
  dns_canonicalize_hostname = false
  default_ccache_name = FILE:$d/ccache
[realms]
  $REALM = {
  }
[domain_realm]
  .rdplab.test = $REALM
EOC
  cat > "$d/kdc.conf" <<EOC
[kdcdefaults]
  kdc_listen = $KDC_IP
  kdc_tcp_listen = $KDC_IP
[realms]
  $REALM = {
    database_name = $d/principal
    key_stash_file = $d/stash
    acl_file = $d/kadm5.acl
    default_principal_flags = +preauth
    supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
    max_life = 10h
  }
[logging]
  kdc = FILE:$d/kdc.log
EOC
  : > "$d/kadm5.acl"
  export KRB5_CONFIG=$d/krb5.conf KRB5_KDC_PROFILE=$d/kdc.conf
  kdb5_util create -s -r "$REALM" -P "lab-master-$$" >/dev/null 2>&1 || die "kdb5_util create failed"
  kadmin.local -q "addprinc -pw $KRB_PASS labuser" >/dev/null 2>&1
  kadmin.local -q "addprinc -pw $KRB_PASS disableduser" >/dev/null 2>&1
  kadmin.local -q "modprinc -allow_tix disableduser" >/dev/null 2>&1
  kadmin.local -q "addprinc -randkey TERMSRV/$SRV_NAME" >/dev/null 2>&1
}
# dns_start [NAME=ADDR ...]: dnsmasq on KDC_IP, authoritative for rdplab.test (NXDOMAIN
# for names it does not hold), SRV records for the realm's KDC
dns_start() {
  local a args=()
  for a in "${@:-$SRV_NAME=$SRV_IP}"; do args+=("--host-record=${a%%=*},${a#*=}"); done
  spawn "$NS_S" "$WORK/dnsmasq.log" dnsmasq --no-daemon --conf-file=/dev/null --no-resolv --no-hosts \
     --bind-interfaces --listen-address=$KDC_IP --port=53 --pid-file= --log-queries \
     --local=/rdplab.test/ --local=/$REALM/ --host-record=kdc.rdplab.test,$KDC_IP \
     --srv-host=_kerberos._udp.$REALM,kdc.rdplab.test,88 --srv-host=_kerberos._tcp.$REALM,kdc.rdplab.test,88 \
     --srv-host=_kerberos._tcp.rdplab.test,kdc.rdplab.test,88 "${args[@]}"
  local i; for i in $(seq 50); do in_s ss -Hlun "sport = :53" | grep -q "$KDC_IP" && return 0; sleep 0.1; done
  die "dnsmasq did not start: $(tail -3 "$WORK/dnsmasq.log")"
}
kdc_start() {
  spawn "$NS_S" "$WORK/krb5kdc.out" env KRB5_CONFIG="$KRB5_CONFIG" KRB5_KDC_PROFILE="$KRB5_KDC_PROFILE" krb5kdc -n
  local i; for i in $(seq 50); do in_s ss -Hlun "sport = :88" | grep -q "$KDC_IP" && return 0; sleep 0.1; done
  die "krb5kdc did not start: $(tail -3 "$WORK/krb5kdc.out" "$WORK/krb/kdc.log" 2>/dev/null)"
}
# krb_net: the second address, the KDC, DNS, the named certificate for the shadow server
krb_net() {
  ip -n "$NS_S" addr add "$KDC_IP/24" dev "$IF_S"
  printf 'nameserver %s\nsearch rdplab.test\noptions timeout:2 attempts:2\n' "$KDC_IP" > "$WORK/resolv.conf"
  printf '127.0.0.1 localhost\n' > "$WORK/hosts"
  krb_files
  CAP_FILTER="host $CLI_IP"
}
# in_c_dns CMD...: run in the client namespace with the lab's resolv.conf and hosts
# bind-mounted over /etc/resolv.conf and /etc/hosts in a private mount namespace
# (nothing outside WORK changes), bounded by timeout
in_c_dns() {
  local t=$1; shift
  ip netns exec "$NS_C" unshare -m sh -c 'mount --bind "$0" /etc/resolv.conf && mount --bind "$1" /etc/hosts && shift && exec "$@"' \
     "$WORK/resolv.conf" "$WORK/hosts" env KRB5_CONFIG="$KRB5_CONFIG" KRB5CCNAME="FILE:$WORK/krb/ccache" \
     timeout -k 1 "$t" "$@" >>"$WORK/client-pre.log" 2>&1 || true
}
# windows_like_logon USER PASS [kinit-prefix...]: name lookups, kinit, TERMSRV ticket
windows_like_logon() {
  local user=$1 pass=$2; shift 2
  in_c_dns 6 getent hosts "$SRV_NAME"
  in_c_dns 6 host -t SRV "_kerberos._tcp.$REALM"
  # the password goes through the environment to kinit's stdin, never on a command line
  in_c_dns 20 env KPASS="$pass" sh -c 'printf "%s\n" "$KPASS" | "$@"' sh "$@" kinit "$user"
  in_c_dns 10 kvno "TERMSRV/$SRV_NAME"
}
# the client itself resolves the name and connects (the lab resolv.conf is mounted for it too)
client_named() {
  local t=$1; shift
  [ -S /tmp/.X11-unix/X${DISP_C#:} ] || xvfb_start "$NS_C" "$DISP_C"
  mkdir -p "$WORK/chome"
  set +e
  ip netns exec "$NS_C" unshare -m sh -c 'mount --bind "$0" /etc/resolv.conf && mount --bind "$1" /etc/hosts && shift && exec "$@"' \
     "$WORK/resolv.conf" "$WORK/hosts" env HOME="$WORK/chome" XDG_CONFIG_HOME="$WORK/chome/.config" DISPLAY="$DISP_C" \
     SSL_CERT_FILE="$PKI/ca.pem" timeout -k 2 "$t" xfreerdp /v:${CLIENT_TARGET:-$SRV_NAME}:$PORT \
     /u:${CLIENT_USER:-$USER_NAME} /d:$REALM /p:"${CLIENT_PASS:-$USER_PASS}" "$@" >>"$WORK/client.log" 2>&1
  CLIENT_RC=$?
  set -e
  log "client rc=$CLIENT_RC"
}
krb_server() { SHADOW_CERT=$PKI/named shadow_start /sec:nla; }

# tshark predicates (Kerberos on 88, DNS on 53)
KRB_ASREQ='kerberos.msg_type == 10'
KRB_ASREP='kerberos.msg_type == 11'
KRB_TGSREP='kerberos.msg_type == 13'
krb_err() { echo "kerberos.msg_type == 30 && kerberos.error_code == $1"; }

def krb_ok ok "" "" \
 "Kerberos and DNS beside the RDP flow, healthy. The client namespace resolves rdp.rdplab.test (A 10.99.0.1) and _kerberos._tcp.RDPLAB.TEST (SRV kdc.rdplab.test:88) through dnsmasq on 10.99.0.3; kinit labuser@RDPLAB.TEST finds the KDC by DNS SRV (MIT krb5kdc on 10.99.0.3, preauth required): AS-REQ, KRB-ERROR PREAUTH_REQUIRED (25, the normal first round), AS-REQ with PA-ENC-TIMESTAMP, AS-REP; kvno gets TERMSRV/rdp.rdplab.test (TGS-REQ/TGS-REP); then xfreerdp /v:rdp.rdplab.test /sec:nla against freerdp-shadow-cli (certificate for rdp.rdplab.test): NLA with NTLM succeeds. Server-side capture of everything the client sends (DNS, Kerberos, RDP). No fault."
sc_krb_ok() {
  krb_net; dns_start; kdc_start; krb_server
  capture_start "$PCAP"
  windows_like_logon labuser "$KRB_PASS"
  client_named 30 /sec:nla +auth-only /cert:deny
  client_ok
}
chk_krb_ok() {
  want 'dns.qry.name == "rdp.rdplab.test" && dns.flags.response == 1 && dns.a == 10.99.0.1'
  want 'dns.qry.type == 33 && dns.flags.response == 1 && dns.srv.port == 88'
  want "$(krb_err 25)"; want "$KRB_ASREP"; want "$KRB_TGSREP"; want 'kerberos.SNameString == "TERMSRV"'
  none 'kerberos.msg_type == 30 && kerberos.error_code != 25'
  want 'rdp.negReq.selectedProtocol == 2'; want 'tls.handshake.type == 2'; none 'tls.alert_message'
}

def krb_wrong_password failed "kdc-preauth-failed nla-failed" "" \
 "Kerberos beside the RDP flow. DNS lookups as in krb_ok; kinit labuser with a wrong password: AS-REQ, PREAUTH_REQUIRED (25), AS-REQ with PA-ENC-TIMESTAMP, KRB-ERROR KDC_ERR_PREAUTH_FAILED (24); then xfreerdp /sec:nla with the same wrong password (NTLM, as a Windows client falls back): CredSSP fails and the shadow server closes."
pending krb_wrong_password "issue 17"
sc_krb_wrong_password() {
  krb_net; dns_start; kdc_start; krb_server
  capture_start "$PCAP"
  windows_like_logon labuser WrongPass999
  CLIENT_PASS=WrongPass999 client_named 30 /sec:nla +auth-only /cert:deny
  client_fail
}
chk_krb_wrong_password() { want "$(krb_err 25)"; want "$(krb_err 24)"; none "$KRB_ASREP"; want 'tls.handshake.type == 2'; want "ip.src==$SRV_IP && (tcp.flags.fin==1 || tcp.flags.reset==1)"; }

def krb_unknown_principal failed "kdc-account-unknown nla-failed" "" \
 "Kerberos beside the RDP flow. kinit nosuchuser@RDPLAB.TEST: AS-REQ answered with KRB-ERROR KDC_ERR_C_PRINCIPAL_UNKNOWN (6); then xfreerdp /u:nosuchuser /sec:nla (NTLM): CredSSP fails, the shadow server (SAM holds only labuser) closes."
pending krb_unknown_principal "issue 17"
sc_krb_unknown_principal() {
  krb_net; dns_start; kdc_start; krb_server
  capture_start "$PCAP"
  windows_like_logon nosuchuser "$KRB_PASS"
  CLIENT_USER=nosuchuser client_named 30 /sec:nla +auth-only /cert:deny
  client_fail
}
chk_krb_unknown_principal() { want "$(krb_err 6)"; none "$KRB_ASREP"; want 'tls.handshake.type == 2'; }

def krb_disabled_principal failed "kdc-account-revoked nla-failed" "" \
 "Kerberos beside the RDP flow. The principal disableduser exists but is disabled (kadmin modprinc -allow_tix); kinit disableduser: AS-REQ answered with KRB-ERROR KDC_ERR_CLIENT_REVOKED (18); then xfreerdp /u:disableduser /sec:nla (NTLM): CredSSP fails (the account cannot log on), the shadow server closes."
pending krb_disabled_principal "issue 17"
sc_krb_disabled_principal() {
  krb_net; dns_start; kdc_start; krb_server
  capture_start "$PCAP"
  windows_like_logon disableduser "$KRB_PASS"
  CLIENT_USER=disableduser client_named 30 /sec:nla +auth-only /cert:deny
  client_fail
}
chk_krb_disabled_principal() { want "$(krb_err 18)"; none "$KRB_ASREP"; want 'tls.handshake.type == 2'; }

def krb_clock_skew ok "kerberos-clock-skew" "" \
 "Kerberos beside the RDP flow. The client's kinit runs under faketime -f +1h (its clock one hour ahead; kdc_timesync = 0): AS-REQ, PREAUTH_REQUIRED (25), AS-REQ with a PA-ENC-TIMESTAMP one hour off, KRB-ERROR KRB_AP_ERR_SKEW (37), no ticket; xfreerdp /sec:nla then logs on with NTLM (right password): the RDP connection succeeds, Kerberos did not."
pending krb_clock_skew "issue 17"
sc_krb_clock_skew() {
  krb_net; dns_start; kdc_start; krb_server
  capture_start "$PCAP"
  windows_like_logon labuser "$KRB_PASS" faketime -f +1h
  client_named 30 /sec:nla +auth-only /cert:deny
  client_ok
}
chk_krb_clock_skew() { want "$(krb_err 25)"; want "$(krb_err 37)"; none "$KRB_ASREP"; want 'tls.handshake.type == 2'; none 'tls.alert_message'; }

def krb_kdc_blocked ok "kdc-unreachable" "" \
 "Kerberos beside the RDP flow. iptables in the server namespace drops everything to port 88 (UDP and TCP) of the KDC: the client resolves the KDC by DNS SRV, then kinit's AS-REQs over UDP and its TCP SYNs to 10.99.0.3:88 go unanswered until kinit gives up; xfreerdp /sec:nla then logs on with NTLM: the RDP connection succeeds, Kerberos could not be used."
pending krb_kdc_blocked "issue 17"
sc_krb_kdc_blocked() {
  krb_net; dns_start; kdc_start; krb_server
  in_s iptables -A INPUT -d $KDC_IP -p udp --dport 88 -j DROP
  in_s iptables -A INPUT -d $KDC_IP -p tcp --dport 88 -j DROP
  capture_start "$PCAP"
  windows_like_logon labuser "$KRB_PASS"
  client_named 30 /sec:nla +auth-only /cert:deny
  client_ok
}
chk_krb_kdc_blocked() { want "$KRB_ASREQ || (udp.dstport == 88)" 2; none "ip.src==$KDC_IP && (udp.srcport == 88 || tcp.srcport == 88)"; want 'tls.handshake.type == 2'; }

def dns_nxdomain failed "dns-resolution-failed" "" \
 "DNS beside the RDP flow. The user asks for rdp-old.rdplab.test, a name the lab's DNS server (dnsmasq, authoritative for rdplab.test) does not hold: getent hosts and xfreerdp's own lookups (A, with the search domain) are answered NXDOMAIN; xfreerdp /v:rdp-old.rdplab.test gives up without opening any TCP connection. The capture holds only DNS."
pending dns_nxdomain "issue 17"
sc_dns_nxdomain() {
  krb_net; dns_start; kdc_start; krb_server
  capture_start "$PCAP"
  in_c_dns 6 getent hosts rdp-old.rdplab.test
  CLIENT_TARGET=rdp-old.rdplab.test client_named 20 /sec:nla +auth-only /cert:deny
  client_fail
}
chk_dns_nxdomain() { want 'dns.qry.name == "rdp-old.rdplab.test" && dns.flags.rcode == 3' 2; none 'tcp.dstport == 3389'; }

def dns_address_mismatch ok "dns-address-mismatch" "" \
 "DNS beside the RDP flow. The lab's DNS holds a stale record, rdp.rdplab.test A 10.99.0.7; the client's lookups (getent hosts, host) get 10.99.0.7, but xfreerdp then connects to 10.99.0.1 (the address in a saved connection file, /v:10.99.0.1) where the server really is: NLA with NTLM succeeds. The address the name resolves to is not the one the client used."
pending dns_address_mismatch "issue 17"
sc_dns_address_mismatch() {
  krb_net; dns_start "$SRV_NAME=10.99.0.7"; kdc_start; krb_server
  capture_start "$PCAP"
  in_c_dns 6 getent hosts "$SRV_NAME"
  in_c_dns 6 host "$SRV_NAME"
  CLIENT_TARGET=$SRV_IP client_named 30 /sec:nla +auth-only /cert:deny
  client_ok
}
chk_dns_address_mismatch() { want 'dns.qry.name == "rdp.rdplab.test" && dns.a == 10.99.0.7'; none 'dns.a == 10.99.0.1'; want "ip.dst == $SRV_IP && tcp.dstport == 3389"; want 'tls.handshake.type == 2'; }
