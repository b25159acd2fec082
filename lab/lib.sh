# lib.sh - network namespaces, peers, capture and cleanup for the rdpscope lab.
# Sourced by run.sh. Everything the lab starts is remembered by PID and ended
# by PID; the namespaces are deleted at the end of every scenario (trap).

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT_DIR=$(dirname "$LAB_DIR")
NS_S=rdplab-srv            # server namespace
NS_C=rdplab-cli            # client namespace
NS_B=rdplab-br             # bridge namespace (only for scenarios that put a bridge on the path)
IF_S=rdplab-s              # veth end in the server namespace
IF_C=rdplab-c              # veth end in the client namespace
SRV_IP=10.99.0.1
CLI_IP=10.99.0.2
PORT=3389
DISP_S=:91                 # Xvfb for the shadow server (inside NS_S)
DISP_C=:92                 # Xvfb for xfreerdp (inside NS_C)
PKI=$LAB_DIR/build/pki     # lab CA and server certificates (made once)
USER_NAME=labuser
USER_PASS=LabPass123
KDC_IP=10.99.0.3           # second address in the server namespace: KDC and DNS server
REALM=RDPLAB.TEST
SRV_NAME=rdp.rdplab.test   # the RDP server's DNS name (served by the lab's dnsmasq)
KEYLOG_LIB=$LAB_DIR/build/libkeylog.so
LINGER_LIB=$LAB_DIR/build/liblingerzero.so
CLIENT_ENV=()              # extra env for xfreerdp (keylog_on, abortive close)
CAP_FILTER=""              # tcpdump filter override (default: the two lab addresses)
PIDS=()                    # every background process we start
CAP_PID=""
WORK=""

log() { printf '[lab %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---- namespaces --------------------------------------------------------------
ns_up() {
  ns_down
  ip netns add "$NS_S"
  ip netns add "$NS_C"
  ip link add "$IF_S" netns "$NS_S" type veth peer name "$IF_C" netns "$NS_C"
  local ns ifc ip
  for ns in "$NS_S" "$NS_C"; do
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$ns" link set lo up
  done
  ip -n "$NS_S" addr add "$SRV_IP/24" dev "$IF_S"
  ip -n "$NS_C" addr add "$CLI_IP/24" dev "$IF_C"
  ip -n "$NS_S" link set "$IF_S" up
  ip -n "$NS_C" link set "$IF_C" up
  ip netns exec "$NS_S" ethtool -K "$IF_S" tso off gso off gro off >/dev/null 2>&1 || true
  ip netns exec "$NS_C" ethtool -K "$IF_C" tso off gso off gro off >/dev/null 2>&1 || true
}
ns_down() {
  local ns pid
  for ns in "$NS_S" "$NS_C" "$NS_B"; do
    ip netns list 2>/dev/null | grep -qw "^$ns" || continue
    # anything still inside a lab namespace was started by the lab: end it by PID
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -CONT "$pid" 2>/dev/null; kill -KILL "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null || true
  done
}
# ns_bridge: replace the direct veth by a Linux bridge in a third namespace with
# one port towards each peer (srv <-> rdplab-bs | br0 | rdplab-bc <-> cli)
ns_bridge() {
  ip -n "$NS_S" link del "$IF_S" 2>/dev/null || true
  ip netns add "$NS_B"
  ip netns exec "$NS_B" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip -n "$NS_B" link set lo up
  ip -n "$NS_B" link add br0 type bridge
  ip link add "$IF_S" netns "$NS_S" type veth peer name rdplab-bs netns "$NS_B"
  ip link add "$IF_C" netns "$NS_C" type veth peer name rdplab-bc netns "$NS_B"
  ip -n "$NS_B" link set rdplab-bs master br0
  ip -n "$NS_B" link set rdplab-bc master br0
  local i; for i in br0 rdplab-bs rdplab-bc; do
    ip -n "$NS_B" link set "$i" up
    ip netns exec "$NS_B" ethtool -K "$i" tso off gso off gro off >/dev/null 2>&1 || true
  done
  ip -n "$NS_S" addr add "$SRV_IP/24" dev "$IF_S"
  ip -n "$NS_C" addr add "$CLI_IP/24" dev "$IF_C"
  ip -n "$NS_S" link set "$IF_S" up
  ip -n "$NS_C" link set "$IF_C" up
  ip netns exec "$NS_S" ethtool -K "$IF_S" tso off gso off gro off >/dev/null 2>&1 || true
  ip netns exec "$NS_C" ethtool -K "$IF_C" tso off gso off gro off >/dev/null 2>&1 || true
}
# keylog_on FILE: xfreerdp writes its TLS secrets (NSS key log) to FILE
keylog_on() { CLIENT_ENV+=("LD_PRELOAD=$KEYLOG_LIB" "RDPLAB_KEYLOG=$1"); }
in_s() { ip netns exec "$NS_S" "$@"; }
in_c() { ip netns exec "$NS_C" "$@"; }

# start a background process inside a namespace, remember its PID
spawn() { local ns=$1 out=$2; shift 2; ip netns exec "$ns" "$@" >"$out" 2>&1 & PIDS+=($!); LAST_PID=$!; }

cleanup() {
  local rc=$? pid i; set +e
  [ -n "$CAP_PID" ] && capture_stop
  for pid in "${PIDS[@]}"; do kill -CONT "$pid" 2>/dev/null; kill -TERM "$pid" 2>/dev/null; done
  for i in 1 2 3 4 5 6 7 8 9 10; do
    local alive=0
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break; sleep 0.2
  done
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  PIDS=()
  ns_down
  rm -f /tmp/.X91-lock /tmp/.X92-lock /tmp/.X11-unix/X91 /tmp/.X11-unix/X92
  if [ -n "$WORK" ] && [ -z "${LAB_KEEP_WORK:-}" ]; then rm -rf "$WORK"; fi
  return $rc
}

# ---- capture -----------------------------------------------------------------
# capture_start FILE [s|c|b]  (server-side interface by default; b: -i any in the bridge namespace)
capture_start() {
  local file=$1 side=${2:-s} ns=$NS_S ifc=$IF_S
  [ "$side" = c ] && { ns=$NS_C; ifc=$IF_C; }
  [ "$side" = b ] && { ns=$NS_B; ifc=any; }
  rm -f "$file"
  ip netns exec "$ns" tcpdump -i "$ifc" -s 0 -U --immediate-mode -n -w "$file" \
     "${CAP_FILTER:-host $SRV_IP and host $CLI_IP}" >"$WORK/tcpdump.log" 2>&1 &
  CAP_PID=$!
  local i; for i in $(seq 50); do grep -q listening "$WORK/tcpdump.log" && break; sleep 0.1; done
  sleep 0.2
}
capture_stop() {
  [ -z "$CAP_PID" ] && return 0
  sleep 0.5
  kill -TERM "$CAP_PID" 2>/dev/null || true
  local i; for i in $(seq 30); do kill -0 "$CAP_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$CAP_PID" 2>/dev/null || true; wait "$CAP_PID" 2>/dev/null || true
  CAP_PID=""
}

# ---- PKI ---------------------------------------------------------------------
pki_make() {
  mkdir -p "$PKI"; local d=$PKI
  [ -f "$PKI/done" ] || ( cd "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 \
       -subj "/CN=rdpscope lab CA" -addext "basicConstraints=critical,CA:TRUE" \
       -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    # good server certificate: CN and SAN = the address the client connects to
    openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=$SRV_IP" 2>/dev/null
    printf 'subjectAltName=IP:%s,DNS:%s\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n' \
       "$SRV_IP" "$SRV_IP" > server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
       -extfile server.ext -out server.pem 2>/dev/null
    # expired self-signed certificate (notBefore/notAfter in the past)
    openssl req -x509 -newkey rsa:2048 -nodes -keyout expired.key -out expired.pem \
       -subj "/CN=$SRV_IP" -not_before 20200101000000Z -not_after 20210101000000Z 2>/dev/null \
    || { # openssl 3.0 has no -not_before: sign with an explicit past window via 'ca'
         mkdir -p ca.db; : > ca.db/index; echo 01 > ca.db/serial
         printf '[ca]\ndefault_ca=c\n[c]\ndatabase=ca.db/index\nserial=ca.db/serial\nnew_certs_dir=ca.db\npolicy=p\ndefault_md=sha256\n[p]\ncommonName=supplied\n' > ca.cnf
         openssl req -newkey rsa:2048 -nodes -keyout expired.key -out expired.csr -subj "/CN=$SRV_IP" 2>/dev/null
         openssl ca -batch -config ca.cnf -selfsign -keyfile expired.key -in expired.csr \
            -startdate 20200101000000Z -enddate 20210101000000Z -out expired.pem -notext 2>/dev/null; }
    # a key that does not belong to server.pem, and a corrupt certificate
    openssl genrsa -out other.key 2048 2>/dev/null
    head -c 400 server.pem > corrupt.pem; echo "!!garbage!!" >> corrupt.pem
    touch done )
  [ -f "$PKI/server.pem" ] && [ -f "$PKI/expired.pem" ] || die "PKI generation failed"
  if [ ! -f "$PKI/wrongname.pem" ]; then  # valid lab-CA certificate for another host name
    ( cd "$PKI"
      openssl req -newkey rsa:2048 -nodes -keyout wrongname.key -out wrongname.csr -subj "/CN=otherhost.lab.test" 2>/dev/null
      printf 'subjectAltName=DNS:otherhost.lab.test\nextendedKeyUsage=serverAuth\n' > wrongname.ext
      openssl x509 -req -in wrongname.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
         -extfile wrongname.ext -out wrongname.pem 2>/dev/null )
  fi
  if [ ! -f "$PKI/named.pem" ]; then  # lab-CA certificate for the server's DNS name (Kerberos/DNS scenarios)
    ( cd "$PKI"
      openssl req -newkey rsa:2048 -nodes -keyout named.key -out named.csr -subj "/CN=$SRV_NAME" 2>/dev/null
      printf 'subjectAltName=DNS:%s,IP:%s,DNS:%s\nextendedKeyUsage=serverAuth\n' "$SRV_NAME" "$SRV_IP" "$SRV_IP" > named.ext
      openssl x509 -req -in named.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
         -extfile named.ext -out named.pem 2>/dev/null )
  fi
  if [ ! -f "$PKI/weak.pem" ]; then  # 1024-bit RSA key, signed by the lab CA for 10.99.0.1
    ( cd "$PKI"
      openssl req -newkey rsa:1024 -nodes -keyout weak.key -out weak.csr -subj "/CN=$SRV_IP" 2>/dev/null
      openssl x509 -req -in weak.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
         -extfile server.ext -out weak.pem 2>/dev/null )
  fi
}

# ---- displays ------------------------------------------------------------------
xvfb_start() {  # xvfb_start NS DISPLAY
  local ns=$1 d=$2 n=${2#:}
  rm -f "/tmp/.X$n-lock" "/tmp/.X11-unix/X$n"
  spawn "$ns" "$WORK/xvfb$n.log" Xvfb "$d" -noreset -nolisten tcp -screen 0 1024x768x24
  local i; for i in $(seq 50); do [ -S "/tmp/.X11-unix/X$n" ] && return 0; sleep 0.1; done
  die "Xvfb $d did not start"
}

# ---- servers -------------------------------------------------------------------
# xrdp_start key=value ...   (keys of [Globals] in xrdp.ini to override)
xrdp_start() {
  local ini=$WORK/xrdp.ini kv k v
  sed -e 's/^fork=.*/fork=false/' -e "s/^port=.*/port=$PORT/" \
      -e "s|^LogFile=.*|LogFile=$WORK/xrdp.log|" -e 's/^EnableSyslog=.*/EnableSyslog=false/' \
      -e "s|^certificate=.*|certificate=$PKI/server.pem|" -e "s|^key_file=.*|key_file=$PKI/server.key|" \
      /etc/xrdp/xrdp.ini > "$ini"
  for kv in "$@"; do
    k=${kv%%=*}; v=${kv#*=}
    if grep -q "^#\?$k=" "$ini"; then sed -i "0,/^#\?$k=.*/s||$k=$v|" "$ini"
    else sed -i "/^\[Globals\]/a $k=$v" "$ini"; fi
  done
  spawn "$NS_S" "$WORK/xrdp.out" xrdp --nodaemon --config "$ini"
  SRV_PID=$LAST_PID
  wait_listen
}
# shadow_start OPTIONS...  (freerdp-shadow-cli under Xvfb; lab CA cert in its config dir)
shadow_start() {
  xvfb_start "$NS_S" "$DISP_S"
  local home=$WORK/shome
  mkdir -p "$home/.config/freerdp/shadow"
  cp "${SHADOW_CERT:-$PKI/server}.pem" "$home/.config/freerdp/shadow/shadow.crt"
  cp "${SHADOW_CERT:-$PKI/server}.key" "$home/.config/freerdp/shadow/shadow.key"
  printf '%s:::%s:::\n' "$USER_NAME" "$(winpr-hash -u "$USER_NAME" -p "$USER_PASS")" > "$WORK/sam"
  spawn "$NS_S" "$WORK/shadow.out" env HOME="$home" XDG_CONFIG_HOME="$home/.config" DISPLAY="$DISP_S" \
     freerdp-shadow-cli /port:$PORT /bind-address:$SRV_IP /sam-file:"$WORK/sam" "$@"
  SRV_PID=$LAST_PID
  wait_listen
}
wait_listen() {
  local i; for i in $(seq 100); do
    in_s ss -Hltn "sport = :$PORT" | grep -q LISTEN && return 0
    kill -0 "$SRV_PID" 2>/dev/null || die "server exited: $(tail -3 "$WORK"/*.out 2>/dev/null)"
    sleep 0.1; done
  die "server not listening"
}

# ---- client --------------------------------------------------------------------
# client SECONDS xfreerdp-options...   (bounded by timeout; exit code in CLIENT_RC)
client() {
  local t=$1; shift
  [ -S /tmp/.X11-unix/X${DISP_C#:} ] || xvfb_start "$NS_C" "$DISP_C"
  mkdir -p "$WORK/chome"
  set +e
  ip netns exec "$NS_C" env HOME="$WORK/chome" XDG_CONFIG_HOME="$WORK/chome/.config" DISPLAY="$DISP_C" \
     SSL_CERT_FILE="$PKI/ca.pem" "${CLIENT_ENV[@]}" \
     timeout -k 2 "$t" xfreerdp /v:${CLIENT_TARGET:-$SRV_IP}:$PORT /u:${CLIENT_USER:-$USER_NAME} /p:"${CLIENT_PASS:-$USER_PASS}" "$@" \
     >>"$WORK/client.log" 2>&1
  CLIENT_RC=$?
  set -e
  log "client rc=$CLIENT_RC"
}
# client_bg: same, in the background (for scenarios that act during the handshake)
client_bg() {
  local t=$1; shift
  [ -S /tmp/.X11-unix/X${DISP_C#:} ] || xvfb_start "$NS_C" "$DISP_C"
  mkdir -p "$WORK/chome"
  spawn "$NS_C" "$WORK/client.log" env HOME="$WORK/chome" XDG_CONFIG_HOME="$WORK/chome/.config" DISPLAY="$DISP_C" \
     SSL_CERT_FILE="$PKI/ca.pem" "${CLIENT_ENV[@]}" \
     timeout -k 2 "$t" xfreerdp /v:${CLIENT_TARGET:-$SRV_IP}:$PORT /u:${CLIENT_USER:-$USER_NAME} /p:"${CLIENT_PASS:-$USER_PASS}" "$@"
  CLIENT_PID=$LAST_PID
}
client_wait() { CLIENT_RC=0; wait "$CLIENT_PID" 2>/dev/null || CLIENT_RC=$?; log "client rc=$CLIENT_RC"; }

# ---- NFQUEUE delay/drop queue ---------------------------------------------------
nfq_start() {  # nfq_start NS QNUM nfqdelay-options...
  local ns=$1 q=$2; shift 2
  [ -x "$LAB_DIR/build/nfqdelay" ] || die "build/nfqdelay missing: run lab/setup.sh"
  spawn "$ns" "$WORK/nfq$q.log" "$LAB_DIR/build/nfqdelay" -q "$q" "$@"
  sleep 0.3
}

# ---- checks (tshark) -------------------------------------------------------------
# n FILTER: frames matching FILTER (dissected with 3389 decoded as TLS, and plain)
n() {
  local a b
  a=$(tshark -r "$PCAP" -d tcp.port==$PORT,tls -Y "$1" 2>/dev/null | wc -l)
  b=$(tshark -r "$PCAP" -Y "$1" 2>/dev/null | wc -l)
  echo $(( a > b ? a : b ))
}
want() {  # want FILTER [MIN] [MAX]
  local c; c=$(n "$1")
  if [ "$c" -ge "${2:-1}" ] && [ "$c" -le "${3:-999999}" ]; then return 0; fi
  log "check failed: '$1' matched $c (want ${2:-1}..${3:-inf})"; CHECK_OK=0
}
none() { want "$1" 0 0; }
span_ge() {  # capture spans at least N seconds
  local d; d=$(tshark -r "$PCAP" -T fields -e frame.time_relative 2>/dev/null | tail -1)
  awk -v d="$d" -v n="$1" 'BEGIN{exit !(d>=n)}' || { log "check failed: span $d < $1 s"; CHECK_OK=0; }
}

# client exit status assertions (a scenario that did not behave as designed fails)
client_ok()   { [ "${CLIENT_RC:-x}" = 0 ] || die "client was expected to succeed (rc=$CLIENT_RC)"; }
client_fail() { [ "${CLIENT_RC:-0}" != 0 ] || die "client was expected to fail but succeeded"; }
