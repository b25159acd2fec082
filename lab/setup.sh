#!/bin/bash
# Installs everything the lab needs (Debian bookworm, as root) and builds the
# NFQUEUE delay/drop helper. Safe to rerun.
set -euo pipefail
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive
PKGS="xrdp freerdp2-shadow-x11 freerdp2-x11 winpr-utils xvfb xauth tcpdump tshark
      iproute2 iptables openssl ethtool gcc libc6-dev pkg-config
      libnetfilter-queue-dev libmnl-dev libssl-dev
      krb5-kdc krb5-admin-server krb5-user dnsmasq-base faketime bind9-dnsutils
      openssh-server python3"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  apt-get update -qq
  # the lab runs its own server instances only: keep the packages' services from starting
  # (policy-rc.d is Debian's switch for that), and krb5-config's questions answered
  made_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1
  fi
  printf 'krb5-config krb5-config/default_realm string RDPLAB.TEST\nkrb5-config krb5-config/add_servers_realm string RDPLAB.TEST\nkrb5-admin-server krb5-admin-server/newrealm note\n' \
    | debconf-set-selections 2>/dev/null || true
  apt-get install -y -qq --no-install-recommends $missing || { [ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d; exit 1; }
  [ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d
fi
# xrdp's package starts a system service; the lab runs its own instances only.
systemctl disable --now xrdp xrdp-sesman krb5-kdc krb5-admin-server >/dev/null 2>&1 || true
mkdir -p build
if [ ! -x build/nfqdelay ] || [ nfqdelay.c -nt build/nfqdelay ]; then
  gcc -O2 -Wall -o build/nfqdelay nfqdelay.c $(pkg-config --cflags --libs libnetfilter_queue)
fi
# TLS key log library (LD_PRELOAD): NSS key log lines for any OpenSSL 3 program
if [ ! -f build/libkeylog.so ] || [ keylog/keylog.c -nt build/libkeylog.so ]; then
  gcc -O2 -Wall -shared -fPIC -o build/libkeylog.so keylog/keylog.c -ldl -lssl
fi
if [ ! -f build/liblingerzero.so ] || [ keylog/lingerzero.c -nt build/liblingerzero.so ]; then
  gcc -O2 -Wall -shared -fPIC -o build/liblingerzero.so keylog/lingerzero.c -ldl
fi
echo "lab setup ok"
