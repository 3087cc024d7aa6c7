#!/usr/bin/env bash
# http_tls_test.sh — the http exporter over TLS, with a CA, a server
# certificate (for 127.0.0.1) and a client certificate made here with the
# openssl tool, against the test receiver serving https on 127.0.0.1:
#  1. without ca_file the server is not trusted: nothing is sent and the
#     payload waits in the spool; with ca_file it is delivered;
#  2. tls_verify = false sends without verifying;
#  3. a receiver that requires a client certificate refuses tallyd without
#     one and accepts it with client_cert and client_key.
#
# usage: http_tls_test.sh TALLYD TALLY PLUGIN_DIR E2E_APP
set -u
source "$(dirname "$0")/e2e_lib.sh"
source "$(dirname "$0")/http_test_lib.sh"
[ -f "$PLUGIN_DIR/http.so" ] || { fail "http.so is missing from $PLUGIN_DIR; build first"; finish; }
command -v openssl >/dev/null || { fail "openssl is missing: run scripts/deps.sh"; finish; }

# --- certificates -------------------------------------------------------------
P=$WORK/pki
mkdir -p "$P"
mkcerts() {
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$P/ca.key" -out "$P/ca.pem" -days 2 \
        -subj "/CN=tally test CA" || return 1
    openssl req -newkey rsa:2048 -nodes -keyout "$P/server.key" -out "$P/server.csr" \
        -subj "/CN=127.0.0.1" || return 1
    printf 'subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n' >"$P/server.ext"
    openssl x509 -req -in "$P/server.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" -CAcreateserial \
        -days 2 -extfile "$P/server.ext" -out "$P/server.pem" || return 1
    openssl req -newkey rsa:2048 -nodes -keyout "$P/client.key" -out "$P/client.csr" \
        -subj "/CN=tally-client" || return 1
    printf 'extendedKeyUsage = clientAuth\n' >"$P/client.ext"
    openssl x509 -req -in "$P/client.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" -CAcreateserial \
        -days 2 -extfile "$P/client.ext" -out "$P/client.pem" || return 1
}
if mkcerts >"$P/openssl.log" 2>&1; then
    pass "openssl: a CA, a server certificate for 127.0.0.1 and a client certificate"
else
    fail "openssl: could not make the certificates" "$(tail -n 5 "$P/openssl.log")"
    finish
fi

# tls_conf DIR PORT OPTIONS...: an http exporter to https://127.0.0.1:PORT.
tls_conf() {
    local dir=$1 port=$2
    shift 2
    write_conf "$dir" UTC 60 '' \
        "http \"tls\" { url = \"https://127.0.0.1:$port/ingest\" max_retries = 0 $* }"
}

# --- 1. trust by ca_file ----------------------------------------------------------
D=$WORK/trust
rx_start trust 0 "" --cert "$P/server.pem" --key "$P/server.key"
tls_conf "$D" "$RX_PORT"
once_ok "no ca_file" "$D" 2026-11-22T03:00:00Z
check "no ca_file: nothing reached the receiver" "$(rx "$RX_LOG" 'len(r)')" 0
check "no ca_file: the payload waits in the spool" "$(spool_count "$D")" 1
if grep -q 'failed: .*certificate' "$D/agent.log"; then
    pass "no ca_file: the log names the certificate problem"
else
    fail "no ca_file: the log names the certificate problem" "$(grep failed "$D/agent.log" | tail -n 2)"
fi
tls_conf "$D" "$RX_PORT" "ca_file = \"$P/ca.pem\""
once_ok "ca_file" "$D" 2026-11-22T03:01:00Z
check "ca_file: both snapshots accepted, in order" \
    "$(rx "$RX_LOG" '[now_of(e) for e in r if e["accepted"]]')" \
    '["2026-11-22T03:00:00Z", "2026-11-22T03:01:00Z"]'
check "ca_file: spool empty" "$(spool_count "$D")" 0

# --- 2. tls_verify = false ------------------------------------------------------------
D=$WORK/noverify
tls_conf "$D" "$RX_PORT" 'tls_verify = false'
once_ok "tls_verify = false" "$D" 2026-11-22T03:02:00Z
rx_stop
check "tls_verify = false: accepted without a CA" \
    "$(rx "$RX_LOG" '[now_of(e) for e in r if e["accepted"]][-1]')" '"2026-11-22T03:02:00Z"'

# --- 3. client certificates ---------------------------------------------------------------
D=$WORK/client
rx_start client 0 "" --cert "$P/server.pem" --key "$P/server.key" --client-ca "$P/ca.pem"
tls_conf "$D" "$RX_PORT" "ca_file = \"$P/ca.pem\""
once_ok "no client certificate" "$D" 2026-11-22T03:00:00Z
check "no client certificate: refused, nothing recorded" "$(rx "$RX_LOG" 'len(r)')" 0
check "no client certificate: the payload waits" "$(spool_count "$D")" 1
tls_conf "$D" "$RX_PORT" "ca_file = \"$P/ca.pem\" client_cert = \"$P/client.pem\" client_key = \"$P/client.key\""
once_ok "client certificate" "$D" 2026-11-22T03:01:00Z
rx_stop
check "client certificate: both accepted, the receiver saw CN tally-client" \
    "$(rx "$RX_LOG" '[[now_of(e), e["client_cert"]] for e in r if e["accepted"]]')" \
    '[["2026-11-22T03:00:00Z", "tally-client"], ["2026-11-22T03:01:00Z", "tally-client"]]'
finish
