#!/usr/bin/env bash
# pg_test.sh — a throwaway PostgreSQL server for tests and benchmarks.
#
#   pg_test.sh start DIR     initdb in DIR/data and start it on 127.0.0.1 on a
#                            free port, its unix socket in DIR; prints the port
#   pg_test.sh stop DIR      stop it (pg_ctl stop -m fast: by its pid file)
#   pg_test.sh restart DIR   stop (if it runs) and start again on the same port
#   pg_test.sh crash DIR     stop it the hard way (-m immediate), then start
#   pg_test.sh psql DIR ARG...  psql as the superuser over the socket
#   pg_test.sh port DIR      the port it listens on
#
# DIR is made by the caller and is the server's alone. The superuser is
# "tally" with the password in DIR/password (scram-sha-256 over TCP; the
# socket trusts local users). PostgreSQL refuses to run as root, so as
# root the server runs as the "postgres" user that Debian's package
# creates (or a "tallypg" user made here once), DIR handed to it.
# Nothing listens anywhere but 127.0.0.1 and DIR.
set -euo pipefail

cmd=${1:?usage: pg_test.sh start|stop|restart|crash|psql|port DIR}
dir=${2:?usage: pg_test.sh $cmd DIR}
shift 2
dir=$(cd "$dir" && pwd)

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bindir/initdb" ] || { echo "pg_test.sh: no PostgreSQL server under /usr/lib/postgresql; run scripts/deps.sh" >&2; exit 1; }

run_as=()
if [ "$(id -u)" -eq 0 ]; then
    user=postgres
    if ! id -u "$user" >/dev/null 2>&1; then
        user=tallypg
        id -u "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
    fi
    run_as=(runuser -u "$user" --)
fi

pg_ctl() {
    "${run_as[@]}" "$bindir/pg_ctl" -D "$dir/data" "$@"
}

start_server() {
    local port
    port=$(cat "$dir/port")
    pg_ctl -w -t 60 -l "$dir/server.log" \
        -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='$dir' -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null
}

case "$cmd" in
start)
    if [ ${#run_as[@]} -gt 0 ]; then
        chown "${run_as[2]}" "$dir"
    fi
    printf 'tally-test-password\n' >"$dir/password"
    chmod 600 "$dir/password"
    [ ${#run_as[@]} -eq 0 ] || chown "${run_as[2]}" "$dir/password"
    "${run_as[@]}" "$bindir/initdb" -D "$dir/data" -U tally --pwfile="$dir/password" \
        --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; exit 1; }
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' >"$dir/port"
    [ ${#run_as[@]} -eq 0 ] || chown "${run_as[2]}" "$dir/port"
    start_server || { cat "$dir/server.log" >&2; exit 1; }
    cat "$dir/port"
    ;;
stop)
    [ -f "$dir/data/postmaster.pid" ] && pg_ctl -w -t 60 -m fast stop >/dev/null
    ;;
restart)
    [ ! -f "$dir/data/postmaster.pid" ] || pg_ctl -w -t 60 -m fast stop >/dev/null
    start_server
    ;;
crash)
    pg_ctl -w -t 60 -m immediate stop >/dev/null
    start_server
    ;;
psql)
    "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$(cat "$dir/port")" -U tally -d postgres "$@"
    ;;
port)
    cat "$dir/port"
    ;;
*)
    echo "pg_test.sh: unknown command $cmd" >&2
    exit 2
    ;;
esac
