#!/usr/bin/env bash
# A real Unleash server (npm unleash-server 6.x) with PostgreSQL (Debian's packages),
# on loopback only, for flags-unleash's integration test (tests/server.rs).
#
#   scripts/unleash-server.sh start        install if needed, start both, print `export ...` lines
#   scripts/unleash-server.sh stop         stop Unleash and PostgreSQL
#   scripts/unleash-server.sh status       say what runs (exit 0 when Unleash answers)
#   scripts/unleash-server.sh env          print the `export ...` lines again
#   scripts/unleash-server.sh install      only install (PostgreSQL, unleash-server into the cache)
#   scripts/unleash-server.sh node-stop    stop Unleash only (the test's "server down")
#   scripts/unleash-server.sh node-start   start Unleash only (PostgreSQL must run)
#
# Use: eval "$(scripts/unleash-server.sh start)"; cargo test -p flags-unleash; scripts/unleash-server.sh stop
# The exports are also written to $TEST_UNLEASH_RUN/env.
#
# Environment (defaults): TEST_CACHE_DIR (~/.cache/flags: the npm install, done once),
# TEST_UNLEASH_RUN (/tmp/flags-unleash: database, logs, pid files),
# TEST_UNLEASH_PORT (44242), TEST_UNLEASH_PG_PORT (54329),
# TEST_UNLEASH_VERSION (6.10.1; needs Node.js >= 18 < 21), TEST_UNLEASH_START_TIMEOUT (300 s).
# Works as root on a fresh Debian machine (PostgreSQL runs as the `postgres` user then)
# and as an ordinary user who has PostgreSQL installed. Every step is idempotent.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
version="${TEST_UNLEASH_VERSION:-6.10.1}"
cache="${TEST_CACHE_DIR:-$HOME/.cache/flags}"
install_dir="$cache/unleash-server/$version"
run="${TEST_UNLEASH_RUN:-/tmp/flags-unleash}"
port="${TEST_UNLEASH_PORT:-44242}"
pg_port="${TEST_UNLEASH_PG_PORT:-54329}"
start_timeout="${TEST_UNLEASH_START_TIMEOUT:-300}"
admin_token='*:*.flags-unleash-admin-token'
client_token='default:development.flags-unleash-client-token'
url="http://127.0.0.1:$port"

log() { echo "unleash-server.sh: $*" >&2; }
die() { log "$*"; exit 1; }

# ---- PostgreSQL -----------------------------------------------------------------------

pg_bin() {
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  [ -n "$d" ] && [ -x "$d/initdb" ] && echo "$d"
}

install_postgres() {
  if [ -n "$(pg_bin)" ]; then return; fi
  [ "$(id -u)" = 0 ] || die "PostgreSQL is missing: run as root, or apt-get install postgresql"
  log "installing PostgreSQL from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
  [ -n "$(pg_bin)" ] || die "apt-get installed postgresql but no initdb was found"
}

# Runs a command as the database's owner: `postgres` when we are root (PostgreSQL
# refuses to run as root), ourselves otherwise.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_running() {
  [ -f "$run/pgdata/postmaster.pid" ] && as_pg "$(pg_bin)/pg_ctl" -D "$run/pgdata" status >/dev/null 2>&1
}

start_postgres() {
  local bin
  bin="$(pg_bin)"
  mkdir -p "$run"
  chmod 755 "$run"
  if [ ! -f "$run/pgdata/PG_VERSION" ]; then
    log "creating a database cluster in $run/pgdata"
    rm -rf "$run/pgdata" "$run/pgsock"
    mkdir -p "$run/pgdata" "$run/pgsock"
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$run/pgdata" "$run/pgsock"; fi
    as_pg "$bin/initdb" -D "$run/pgdata" -U postgres --auth-local=trust \
      --auth-host=scram-sha-256 --no-instructions >"$run/initdb.log" 2>&1 ||
      die "initdb failed: see $run/initdb.log"
  fi
  if ! pg_running; then
    log "starting PostgreSQL on 127.0.0.1:$pg_port"
    touch "$run/postgres.log"
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$run/postgres.log"; fi
    as_pg "$bin/pg_ctl" -D "$run/pgdata" -l "$run/postgres.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $run/pgsock" start >/dev/null ||
      die "PostgreSQL did not start: see $run/postgres.log"
  fi
  # The role and database (idempotent).
  local psql=("$bin/psql" -h "$run/pgsock" -p "$pg_port" -U postgres -d postgres -qtAX)
  if [ "$(as_pg "${psql[@]}" -c "select 1 from pg_roles where rolname='unleash'")" != 1 ]; then
    as_pg "${psql[@]}" -c "create role unleash login password 'unleash'" >/dev/null
  fi
  if [ "$(as_pg "${psql[@]}" -c "select 1 from pg_database where datname='unleash'")" != 1 ]; then
    as_pg "${psql[@]}" -c "create database unleash owner unleash" >/dev/null
  fi
}

stop_postgres() {
  local bin
  bin="$(pg_bin || true)"
  if [ -n "$bin" ] && pg_running; then
    log "stopping PostgreSQL"
    as_pg "$bin/pg_ctl" -D "$run/pgdata" -m fast -w -t 60 stop >/dev/null || true
  fi
}

# ---- Unleash --------------------------------------------------------------------------

install_unleash() {
  command -v node >/dev/null || die "Node.js is needed (unleash-server $version wants >= 18 < 21)"
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  if [ "$major" -lt 18 ] || [ "$major" -ge 21 ]; then
    die "unleash-server $version needs Node.js >= 18 < 21; this is $(node --version)"
  fi
  if [ -f "$install_dir/node_modules/unleash-server/package.json" ]; then return; fi
  log "installing unleash-server@$version into $install_dir (once; about 180 MB)"
  mkdir -p "$install_dir"
  local started=$SECONDS
  npm install --prefix "$install_dir" "unleash-server@$version" \
    --no-audit --no-fund --loglevel=error >"$install_dir/npm-install.log" 2>&1 ||
    die "npm install failed: see $install_dir/npm-install.log"
  log "installed in $((SECONDS - started)) s"
}

healthy() {
  if command -v curl >/dev/null; then
    curl -fsS -m 2 "$url/health" >/dev/null 2>&1
  else
    node -e "fetch('$url/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))" 2>/dev/null
  fi
}

node_pid() {
  local pid
  [ -f "$run/unleash.pid" ] || return 1
  pid="$(cat "$run/unleash.pid")"
  # Only a process that is our server.js, never whatever reused the pid.
  [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "unleash-server.js" &&
    echo "$pid"
}

start_node() {
  if node_pid >/dev/null && healthy; then return; fi
  if pid="$(node_pid)"; then
    log "Unleash (pid $pid) does not answer yet; waiting for it"
  else
    log "starting Unleash on $url"
    mkdir -p "$run"
    # setsid: the server outlives this script and the shell that called it.
    NODE_PATH="$install_dir/node_modules" \
      TEST_UNLEASH_PORT="$port" TEST_UNLEASH_PG_PORT="$pg_port" \
      INIT_ADMIN_API_TOKENS="$admin_token" INIT_CLIENT_API_TOKENS="$client_token" \
      SEND_TELEMETRY=false CHECK_VERSION=false \
      setsid node "$here/unleash-server.js" >>"$run/unleash.log" 2>&1 </dev/null &
    echo $! >"$run/unleash.pid"
  fi
  local started=$SECONDS
  until healthy; do
    node_pid >/dev/null || die "Unleash exited during start: see $run/unleash.log"
    [ $((SECONDS - started)) -lt "$start_timeout" ] ||
      die "Unleash did not answer within $start_timeout s: see $run/unleash.log"
    sleep 0.5
  done
  log "Unleash answers after $((SECONDS - started)) s"
}

stop_node() {
  local pid
  if pid="$(node_pid)"; then
    log "stopping Unleash (pid $pid)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$run/unleash.pid"
}

print_env() {
  cat <<EOF
export TEST_UNLEASH_URL=$url
export TEST_UNLEASH_ADMIN_TOKEN='$admin_token'
export TEST_UNLEASH_CLIENT_TOKEN='$client_token'
export TEST_UNLEASH_SCRIPT=$here/unleash-server.sh
EOF
}

case "${1:-}" in
  install)
    install_postgres
    install_unleash
    ;;
  start)
    install_postgres
    install_unleash
    start_postgres
    start_node
    mkdir -p "$run"
    print_env >"$run/env"
    print_env
    ;;
  stop)
    stop_node
    stop_postgres
    ;;
  node-stop)
    stop_node
    ;;
  node-start)
    pg_running || die "PostgreSQL is not running: use \`$0 start\`"
    start_node
    ;;
  status)
    if pg_running; then log "PostgreSQL runs on 127.0.0.1:$pg_port"; else log "PostgreSQL is stopped"; fi
    if healthy; then log "Unleash answers on $url"; else log "Unleash does not answer"; exit 1; fi
    ;;
  env)
    print_env
    ;;
  *)
    sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
