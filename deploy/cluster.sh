#!/usr/bin/env bash
# The distributed topology on this machine: two API processes, two Celery workers and beat,
# on the local PostgreSQL, RabbitMQ and Redis. `make cluster` starts it and waits until every
# API answers /readyz; `make cluster-stop` stops it (TERM, then KILL after 20 s).
#
#   deploy/cluster.sh start | stop | status
#
# Settings (environment): CLUSTER_DB_URL (default postgresql+psycopg://root@127.0.0.1:5432/
# waterguard_cluster, created when missing), WATERGUARD_BROKER_URL (amqp://guest:guest@
# 127.0.0.1:5672//), WATERGUARD_REDIS_URL (redis://127.0.0.1:6379/0), CLUSTER_PORTS
# ("8001 8002"), CLUSTER_DIR (var/cluster: pids, logs, the shared var folder).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN="${BIN:-.venv/bin}"
DIR="${CLUSTER_DIR:-var/cluster}"
PORTS="${CLUSTER_PORTS:-8001 8002}"
DB_URL="${CLUSTER_DB_URL:-postgresql+psycopg://root@127.0.0.1:5432/waterguard_cluster}"
export WATERGUARD_DATABASE_URL="$DB_URL"
export WATERGUARD_BROKER_URL="${WATERGUARD_BROKER_URL:-amqp://guest:guest@127.0.0.1:5672//}"
export WATERGUARD_REDIS_URL="${WATERGUARD_REDIS_URL:-redis://127.0.0.1:6379/0}"
export WATERGUARD_BROKER_PREFIX="${WATERGUARD_BROKER_PREFIX:-waterguard-cluster}"
export WATERGUARD_VAR_DIR="${WATERGUARD_VAR_DIR:-$DIR/var}"  # shared keys and uploads
export WATERGUARD_EGRESS_ALLOW="${WATERGUARD_EGRESS_ALLOW-127.0.0.1/32,::1/128}"
export YOLO_OFFLINE=1

start_one() {  # name, command...
  local name=$1
  shift
  "$@" >"$DIR/$name.log" 2>&1 &
  echo $! >"$DIR/$name.pid"
}

create_db() {
  "$BIN/python" - "$DB_URL" <<'PY'
import sys
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
url = make_url(sys.argv[1])
engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
with engine.connect() as connection:
    exists = connection.execute(
        text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}
    ).first()
    if not exists:
        connection.execute(text(f'CREATE DATABASE "{url.database}"'))
engine.dispose()
PY
}

start() {
  mkdir -p "$DIR" "$WATERGUARD_VAR_DIR"
  if ls "$DIR"/*.pid >/dev/null 2>&1; then
    echo "a cluster is already running (deploy/cluster.sh stop first)" >&2
    exit 1
  fi
  create_db
  "$BIN/waterguard" migrate
  "$BIN/waterguard" seed-demo --if-missing
  for port in $PORTS; do
    start_one "api-$port" "$BIN/waterguard" serve --host 127.0.0.1 --port "$port" --no-background-worker
  done
  start_one worker-1 "$BIN/waterguard" worker --concurrency 1
  start_one worker-2 "$BIN/waterguard" worker --concurrency 1
  start_one beat "$BIN/waterguard" beat
  for port in $PORTS; do
    for _ in $(seq 1 60); do
      if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then
        echo "api on :$port ready"
        continue 2
      fi
      sleep 1
    done
    echo "api on :$port not ready after 60 s; see $DIR/api-$port.log" >&2
    stop
    exit 1
  done
  echo "cluster up: APIs on ${PORTS// /, }; logs in $DIR"
}

stop() {
  local pids=()
  for file in "$DIR"/*.pid; do
    [ -e "$file" ] || continue
    pids+=("$(cat "$file")")
  done
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 20); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  rm -f "$DIR"/*.pid
  echo "cluster stopped"
}

status() {
  for file in "$DIR"/*.pid; do
    [ -e "$file" ] || { echo "no cluster running"; return; }
    local pid
    pid=$(cat "$file")
    if kill -0 "$pid" 2>/dev/null; then echo "$(basename "$file" .pid): running ($pid)"; else echo "$(basename "$file" .pid): gone"; fi
  done
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
