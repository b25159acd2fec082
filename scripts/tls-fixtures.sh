#!/usr/bin/env bash
# Records small real TLS sessions between OpenSSL's s_client and s_server on loopback, one
# per protocol version and cipher suite rdpscope decrypts, with the client's key log
# embedded as a pcapng Decryption Secrets Block (editcap --inject-secrets). Output:
# fixtures/tls/<case>.pcapng and <case>.keys. Needs root (tcpdump on lo), openssl, editcap.
# The keys are those of throwaway sessions with a throwaway certificate: not secrets.
set -euo pipefail
out="$(cd "$(dirname "$0")/.." && pwd)/fixtures/tls"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=rdpscope-test" \
    -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

port=44300
record() { # name, s_server options, s_client options
    local name="$1" sopts="$2" copts="$3"
    port=$((port + 1))
    tcpdump -i lo -U -s 0 -w "$work/$name.pcap" "tcp port $port" 2>/dev/null &
    local dump=$!
    sleep 0.5
    # -rev: the server answers each line reversed; one connection, then it exits.
    timeout 20 openssl s_server -accept "$port" -cert "$work/cert.pem" -key "$work/key.pem" \
        -naccept 1 -rev $sopts >/dev/null 2>&1 &
    local server=$!
    sleep 0.5
    # 'k' asks s_client for a TLS 1.3 KeyUpdate; on TLS 1.2 it is renegotiation-free text.
    { echo "hello from the client"; sleep 0.3; [ "${KEYUPDATE:-}" = 1 ] && echo k; sleep 0.3;
      echo "second line after the key update"; sleep 0.5; } |
        timeout 20 openssl s_client -connect "127.0.0.1:$port" -keylogfile "$work/$name.keys" \
            $copts >/dev/null 2>&1 || true
    wait "$server" 2>/dev/null || true
    sleep 0.5
    kill "$dump"
    wait "$dump" 2>/dev/null || true
    editcap --inject-secrets "tls,$work/$name.keys" "$work/$name.pcap" "$out/$name.pcapng"
    cp "$work/$name.keys" "$out/$name.keys"
    echo "recorded $name"
}

KEYUPDATE=1 record tls13_aes128gcm "" "-tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256"
record tls13_aes256gcm "" "-tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384"
record tls13_chacha20 "" "-tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256"
record tls12_ecdhe_chacha20 "" "-tls1_2 -cipher ECDHE-RSA-CHACHA20-POLY1305"
record tls12_ecdhe_aes128gcm "" "-tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256"
record tls12_ecdhe_aes128cbc_sha "" "-tls1_2 -no_etm -cipher ECDHE-RSA-AES128-SHA"
record tls12_rsa_aes256cbc_sha256 "" "-tls1_2 -no_etm -cipher AES256-SHA256"
record tls12_ecdhe_aes256cbc_sha384 "" "-tls1_2 -no_etm -cipher ECDHE-RSA-AES256-SHA384"
record tls10_aes128cbc_sha "-cipher ALL:@SECLEVEL=0 -tls1" "-tls1 -no_etm -cipher AES128-SHA:@SECLEVEL=0"
record tls11_aes256cbc_sha "-cipher ALL:@SECLEVEL=0 -tls1_1" "-tls1_1 -no_etm -cipher AES256-SHA:@SECLEVEL=0"
