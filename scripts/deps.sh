#!/usr/bin/env bash
# Install the Debian 12 packages tally builds, tests and benchmarks with,
# where missing. Idempotent; needs root or sudo only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang libclang-rt-14-dev  # toolchains, libFuzzer
  libcmocka-dev        # unit tests
  tzdata               # the business clock reads /usr/share/zoneinfo
  libjansson-dev       # JSON
  libjson-c-dev        # the jsonl source: json-c keeps each decimal's text as written (costs stay exact)
  libsqlite3-dev       # the agent's state; the SQLite peer in bench/
  libconfuse-dev       # tallyd's config
  zlib1g-dev           # the csv source reads .gz files; the http exporter gzips bodies
  libcurl4-openssl-dev # the http exporter
  prometheus-pushgateway  # http exporter tests push to a real Pushgateway
  openssl              # http exporter tests make their own CA and certificates
  python3              # test scripts parse JSON with it
  man-db groff-base    # man pages
  prometheus           # promtool checks the Prometheus exposition format
  prometheus-node-exporter  # e2e: its textfile collector reads the file exporter's .prom
  sqlite3              # e2e: PRAGMA integrity_check of the state after kill -9
  locales-all          # de_DE.UTF-8: numbers must not follow LC_NUMERIC
  collectd-core        # bench/agent_budget.sh: the peer tallyd is measured beside
  libyajl2             # ...its write_log plugin (JSON) links it; collectd-core only suggests it
  time                 # bench/: GNU time measures peak RSS
  unixodbc-dev odbcinst  # the odbc source and the sql exporter (unixODBC)
  libsqliteodbc        # odbc/sql tests: the SQLite ODBC driver on a file the test makes
  python3-dev python3-venv python3-pip python3-setuptools python3-wheel
                       # bindings/python: the CPython extension, built by pip in a venv
                       # (no index: --no-build-isolation uses Debian's setuptools)
  python3-pytest       # bindings/python's tests
  python3-fastapi python3-uvicorn gunicorn python3-httpx  # tally.asgi and the example app
  python3-prometheus-client  # bench/: the Python peer (multiprocess mode)
  apache2-utils        # ab -n: an exact number of requests on a real uvicorn/gunicorn app in the tests
  libmicrohttpd-dev    # the serve exporter: /metrics, the JSON API, health checks
  libsystemd-dev       # sd_notify: readiness, status and the watchdog under Type=notify
  curl                 # serve exporter tests and the demo fetch /metrics and the JSON API
  postgresql odbc-postgresql  # odbc/sql tests and bench/run-odbc.sh: a real PostgreSQL (initdb in a temp dir)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
# bench/run-ingest.sh installs DuckDB's node package with npm. A machine
# may already have Node.js from elsewhere (whose npm Debian's would clash
# with), so Debian's are only installed when there is no npm at all.
command -v npm >/dev/null || missing+=(nodejs npm)
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps.sh: missing ${missing[*]}; run as root or install sudo" >&2; exit 1; }
  sudo=(sudo)
fi
echo "deps.sh: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
