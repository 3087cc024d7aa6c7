# serve_test_lib.sh — sourced by the serve_*_test.sh scripts after
# e2e_lib.sh (whose fourth program is serve_load here): an agent with a
# csv source, the daily collector, a region, a json file exporter and a
# serve exporter on a free port; rows to feed it; HTTP through curl.

command -v curl >/dev/null || { fail "curl is missing: run scripts/deps.sh"; finish; }
[ -f "$PLUGIN_DIR/serve.so" ] || { fail "serve.so is missing from $PLUGIN_DIR; build first"; finish; }
LOAD=$APP

# serve_conf DIR INTERVAL SERVE_OPTIONS [EXTRA]: DIR/tallyd.conf; SPORT is
# the serve exporter's port.
serve_conf() {
    local dir=$1 interval=$2 opts=$3
    SPORT=$(free_port)
    mkdir -p "$dir/in" "$dir/state"
    [ -f "$dir/in/usage.csv" ] || echo "$CSV_HEADER" >"$dir/in/usage.csv"
    write_conf "$dir" UTC "$interval" '' "csv \"usage\" { path = \"$dir/in/usage*.csv\" stream = \"usage\" }
daily \"stats\" { }
serve \"web\" { listen = \"127.0.0.1:$SPORT\" $opts }
${4:-}"
}

CSV_HEADER=id,request_id,created_at,user_id,api_key_id,provider,model,status_code,error_message,input_tokens,output_tokens,cache_creation_input_tokens,cache_read_input_tokens,input_cost_usd,output_cost_usd,cache_creation_cost_usd,cache_read_cost_usd,total_cost_usd,actual_total_cost_usd,response_time_ms
ROWS=0
# add_rows DIR N: N successful usage rows of now, each with 3 input tokens
# (so input tokens = 3 x success requests in every whole snapshot), in one
# write.
add_rows() {
    local dir=$1 n=$2 i ts text=""
    ts=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    for ((i = 0; i < n; i++)); do
        ROWS=$((ROWS + 1))
        text+="row$ROWS,req$ROWS,$ts,user$((ROWS % 7)),key1,openai,gpt-4o,200,,3,1,0,0,0.001,0.002,0,0,0.003,0.003,120"$'\n'
    done
    printf '%s' "$text" >>"$dir/in/usage.csv"
}

# agent_start DIR: tallyd -f on DIR/tallyd.conf (log in DIR/agent.log); AGENT is its pid.
agent_start() {
    "$TALLYD" -f -c "$1/tallyd.conf" >>"$1/agent.log" 2>&1 &
    AGENT=$!
    E2E_PIDS+=("$AGENT")
}

# agent_stop: TERM, bounded; sets STOP_STATUS.
agent_stop() {
    kill -TERM "$AGENT" 2>/dev/null
    wait_pid "$AGENT" 30
    STOP_STATUS=$WAIT_STATUS
}

# http PATH [CURL_ARGS...]: GET http://127.0.0.1:SPORT/PATH; the body on
# stdout, the status in HTTP_STATUS.
http() {
    local path=$1 out
    shift
    out=$(curl -s -m 10 -w '\n%{http_code}' "$@" "${SCHEME:-http}://127.0.0.1:$SPORT$path")
    HTTP_STATUS=${out##*$'\n'}
    printf '%s' "${out%$'\n'*}"
}

# wait_http PATH STATUS SECONDS [CURL_ARGS...]: until PATH answers STATUS.
wait_http() {
    local path=$1 want=$2 secs=$3 i
    shift 3
    for ((i = 0; i < secs * 10; i++)); do
        http "$path" "$@" >/dev/null
        [ "$HTTP_STATUS" = "$want" ] && return 0
        sleep 0.1
    done
    return 1
}

# metric TEXT SERIES: the value of SERIES in a Prometheus text.
metric() {
    awk -v s="$2" '$1 == s { print $2; exit }' <<<"$1"
}

# no_sanitizer DIR NAME: the agent's log has no sanitizer report.
no_sanitizer() {
    if grep -qE 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:|WARNING: ThreadSanitizer' "$1/agent.log"; then
        fail "$2: a sanitizer report" "$(grep -m 3 -E 'Sanitizer|runtime error' "$1/agent.log")"
    else
        pass "$2: no sanitizer report"
    fi
}
