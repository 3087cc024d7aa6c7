#!/usr/bin/env bash
# serve_hostile_test.sh — tallyd -t refuses each bad option of a serve
# section with file and line; then clients that misbehave get bounded,
# refused answers while the agent keeps cycling and writing its file
# exporter:
#  1. a slowloris (headers a byte at a time) is cut off after
#     request_timeout; meanwhile others are answered;
#  2. 1 MB of headers and a 100 KB URL are refused (431, 414), a POST is
#     405 with Allow: GET, HEAD, a path outside the API is 404;
#  3. a bearer token: missing or wrong is 401, right is 200; /healthz
#     needs none; the token is in no log;
#  4. TLS with a certificate made by openssl and basic credentials: the
#     right password over HTTPS is 200, a wrong one 401, plain HTTP to the
#     TLS port gets no answer.
#
# usage: serve_hostile_test.sh TALLYD TALLY PLUGIN_DIR SERVE_LOAD
set -u
source "$(dirname "$0")/e2e_lib.sh"
source "$(dirname "$0")/serve_test_lib.sh"
command -v openssl >/dev/null || { fail "openssl is missing: run scripts/deps.sh"; finish; }

# --- 0. tallyd -t: each check, with file and line ------------------------------------
C=$WORK/check
mkdir -p "$C"
touch "$C/cert.pem"
bad_conf() {
    local body=$1 want=$2 out
    printf 'timezone = "UTC"\nstate_dir = "%s/state"\nplugin_dir = "%s"\nserve "web" { %s }\n' \
        "$C" "$PLUGIN_DIR" "$body" >"$C/tallyd.conf"
    out=$("$TALLYD" -t -c "$C/tallyd.conf" 2>&1)
    if [ $? -ne 0 ] && grep -qF -- "$C/tallyd.conf:4: in serve \"web\": $want" <<<"$out"; then
        pass "tallyd -t refuses: $want"
    else
        fail "tallyd -t refuses: $want" "$out"
    fi
}
bad_conf 'listen = "localhost:9489"' "option 'listen' = \"localhost:9489\" has a host that is not an IP address"
bad_conf 'listen = "127.0.0.1:70000"' "option 'listen' = \"127.0.0.1:70000\" has a port that is not a number"
bad_conf 'max_connections = 0' "option 'max_connections' = 0 is out of range"
bad_conf 'max_connections_per_ip = 0' "option 'max_connections_per_ip' = 0 is out of range"
bad_conf 'request_timeout = 0' "option 'request_timeout' = 0 is out of range"
bad_conf 'max_request_bytes = 100' "option 'max_request_bytes' = 100 is out of range"
bad_conf 'threads = 0' "option 'threads' = 0 is out of range"
bad_conf "tls_cert = \"$C/cert.pem\"" "option 'tls_cert' is set without 'tls_key'"
bad_conf "tls_cert = \"$C/cert.pem\" tls_key = \"$C/none.pem\"" "option 'tls_key' = \"$C/none.pem\" is not a regular file"
bad_conf "bearer_token_file = \"$C/cert.pem\" basic_auth_file = \"$C/cert.pem\"" \
    "options 'bearer_token_file', 'bearer_token_env' and 'basic_auth_file' exclude each other"
bad_conf "basic_auth_file = \"$C\"" "option 'basic_auth_file' = \"$C\" is not a regular file"

D=$WORK/hostile
mkdir -p "$D"
TOKEN=tok-$RANDOM-$RANDOM-secret
printf '%s\n' "$TOKEN" >"$D/token"
serve_conf "$D" 1 "request_timeout = 2  max_request_bytes = 8192  bearer_token_file = \"$D/token\""
add_rows "$D" 4
agent_start "$D"
wait_http /readyz 200 30 || fail "/readyz never answered 200 (no token needed)" "$(tail -n 5 "$D/agent.log")"
AUTH=(-H "Authorization: Bearer $TOKEN")

# --- 3. the token ---------------------------------------------------------------
http /metrics >/dev/null
check "no token: 401" "$HTTP_STATUS" 401
http /metrics -H "Authorization: Bearer wrong-$TOKEN" >/dev/null
check "a wrong token: 401" "$HTTP_STATUS" 401
http /metrics -H "Authorization: Bearer ${TOKEN:0:10}" >/dev/null
check "the token's first part: 401" "$HTTP_STATUS" 401
http /api/v1/summary -H "Authorization: Basic $(printf 'x:%s' "$TOKEN" | base64)" >/dev/null
check "the token as basic credentials: 401" "$HTTP_STATUS" 401
http /metrics "${AUTH[@]}" >/dev/null
check "the token: 200" "$HTTP_STATUS" 200
http /healthz >/dev/null
check "/healthz without a token: 200" "$HTTP_STATUS" 200

# --- 1 and 2. hostile clients -------------------------------------------------------
before=$(stat -c %Y.%N "$D/summary.json" 2>/dev/null)
cycles_before=$(metric "$(http /metrics "${AUTH[@]}")" 'tally_agent_cycles_total{result="ok"}')
hostile=$(python3 - "$SPORT" <<'PY'
import socket, sys, time, threading
port = int(sys.argv[1])
res = {}

def conn():
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    return s

def status(s):
    try:
        data = s.recv(200)
    except (ConnectionResetError, socket.timeout):
        return "closed"
    return data.split(b"\r\n")[0].decode(errors="replace") if data else "closed"

def slowloris(i):
    s = conn()
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < 20:
            s.sendall(b"X")
            time.sleep(0.3)
            s.setblocking(False)
            try:
                if s.recv(100) == b"":
                    break
            except BlockingIOError:
                pass
            finally:
                s.setblocking(True)
    except (BrokenPipeError, ConnectionResetError):
        pass
    res[f"slow{i}"] = time.monotonic() - t0

slow = [threading.Thread(target=slowloris, args=(i,)) for i in range(5)]
for t in slow:
    t.start()
time.sleep(0.5)
s = conn()
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
res["meanwhile"] = status(s)
s = conn()
try:
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"a" * (1 << 20) + b"\r\n\r\n")
except (BrokenPipeError, ConnectionResetError):
    pass
res["headers"] = status(s)
s = conn()
try:
    s.sendall(b"GET /metrics?" + b"a" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
except (BrokenPipeError, ConnectionResetError):
    pass
res["url"] = status(s)
s = conn()
s.sendall(b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
data = s.recv(1000).decode(errors="replace")
res["post"] = data.split("\r\n")[0] + (" Allow: GET, HEAD" if "\r\nAllow: GET, HEAD\r\n" in data else "")
s = conn()
s.sendall(b"GET /etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n")
res["path"] = status(s)
for t in slow:
    t.join()
print("meanwhile", res["meanwhile"])
print("headers", res["headers"])
print("url", res["url"])
print("post", res["post"])
print("path", res["path"])
# Cut by the server: not before request_timeout, and well before the 20 s
# the client would go on (a loaded machine delays the cut by seconds).
print("slow", all(2 <= res[f"slow{i}"] < 18 for i in range(5)), sorted(round(res[f"slow{i}"]) for i in range(5)))
PY
)
line() { sed -n "s/^$1 //p" <<<"$hostile"; }
check "slowloris: each cut off by the server after request_timeout (2 s), before the client's 20 s" "$(line slow | cut -d' ' -f1)" True
check "slowloris: others answered meanwhile" "$(line meanwhile)" "HTTP/1.1 200 OK"
check "1 MB of headers: 431" "$(line headers)" "HTTP/1.1 431 Request Header Fields Too Large"
check "100 KB URL: 414" "$(line url)" "HTTP/1.1 414 URI Too Long"
check "POST: 405 with Allow" "$(line post)" "HTTP/1.1 405 Method Not Allowed Allow: GET, HEAD"
check "a path outside the API: 404" "$(line path)" "HTTP/1.1 404 Not Found"
add_rows "$D" 2
for ((i = 0; i < 50; i++)); do
    [ "$(jq_py "$D/summary.json" "d['today']['total_requests']")" = 6 ] && break
    sleep 0.2
done
check "the file exporter kept writing (6 rows in summary.json)" \
    "$(jq_py "$D/summary.json" "d['today']['total_requests']")" 6
cycles_after=$(metric "$(http /metrics "${AUTH[@]}")" 'tally_agent_cycles_total{result="ok"}')
if [ "${cycles_after:-0}" -gt "${cycles_before:-0}" ]; then
    pass "cycles went on ($cycles_before, then $cycles_after)"
else
    fail "cycles went on" "$cycles_before, then $cycles_after"
fi
agent_stop
check "tallyd stops on TERM" "$STOP_STATUS" 0
if grep -qF -- "$TOKEN" "$D/agent.log"; then
    fail "the token is in no log" "$(grep -F -- "$TOKEN" "$D/agent.log" | head -n 2)"
else
    pass "the token is in no log"
fi
no_sanitizer "$D" "hostile clients"

# --- 4. TLS and basic credentials -----------------------------------------------------
T=$WORK/tls
mkdir -p "$T/pki"
if openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/pki/key.pem" -out "$T/pki/cert.pem" \
    -days 2 -subj "/CN=127.0.0.1" -addext "subjectAltName = IP:127.0.0.1" >"$T/pki/log" 2>&1; then
    pass "openssl: a certificate for 127.0.0.1"
else
    fail "openssl: a certificate for 127.0.0.1" "$(tail -n 3 "$T/pki/log")"
fi
printf 'prom:pa55-%s\n' "$RANDOM" >"$T/basic"
PASS=$(cut -d: -f2 "$T/basic")
serve_conf "$T" 1 "tls_cert = \"$T/pki/cert.pem\"  tls_key = \"$T/pki/key.pem\"  basic_auth_file = \"$T/basic\""
add_rows "$T" 4
agent_start "$T"
SCHEME=https
wait_http /readyz 200 30 --cacert "$T/pki/cert.pem" || fail "HTTPS /readyz never answered 200" "$(tail -n 5 "$T/agent.log")"
http /metrics --cacert "$T/pki/cert.pem" -u "prom:$PASS" >"$T/metrics.txt"
check "HTTPS with the password: 200" "$HTTP_STATUS" 200
check "HTTPS: the metrics" "$(metric "$(cat "$T/metrics.txt")" 'tally_requests_total{outcome="success"}')" 4
http /metrics --cacert "$T/pki/cert.pem" -u "prom:wrong" >/dev/null
check "HTTPS with a wrong password: 401" "$HTTP_STATUS" 401
http /metrics --cacert "$T/pki/cert.pem" -u "other:$PASS" >/dev/null
check "HTTPS with a wrong user: 401" "$HTTP_STATUS" 401
http /metrics -u "prom:$PASS" >/dev/null
check "HTTPS without trusting the certificate: no answer" "$HTTP_STATUS" 000
SCHEME=http
http /metrics -u "prom:$PASS" >/dev/null
check "plain HTTP to the TLS port: no answer" "$HTTP_STATUS" 000
agent_stop
check "tallyd over TLS stops on TERM" "$STOP_STATUS" 0
if grep -qF -- "$PASS" "$T/agent.log"; then fail "the password is in no log"; else pass "the password is in no log"; fi
no_sanitizer "$T" "TLS"
finish
