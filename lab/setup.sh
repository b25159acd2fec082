#!/bin/bash
# Installs everything the lab needs (Debian bookworm, as root) and builds the
# NFQUEUE delay/drop helper. Safe to rerun.
set -euo pipefail
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive
PKGS="xrdp freerdp2-shadow-x11 freerdp2-x11 winpr-utils xvfb xauth tcpdump tshark
      iproute2 iptables openssl ethtool gcc libc6-dev pkg-config
      libnetfilter-queue-dev libmnl-dev"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $missing
fi
# xrdp's package starts a system service; the lab runs its own instances only.
systemctl disable --now xrdp xrdp-sesman >/dev/null 2>&1 || true
mkdir -p build
if [ ! -x build/nfqdelay ] || [ nfqdelay.c -nt build/nfqdelay ]; then
  gcc -O2 -Wall -o build/nfqdelay nfqdelay.c $(pkg-config --cflags --libs libnetfilter_queue)
fi
echo "lab setup ok"
