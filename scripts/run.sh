#!/usr/bin/env bash
# Starts the action server, the Rasa server (REST channel + web chat page) and the staff console on
# this machine only, waits until all answer, prints their addresses, and stops them on Ctrl-C.
# Secrets (Rasa's API key, the REST token, the console's and the web page's signing keys) come from
# the environment or are made once under var/ (owner-only files, never committed).
set -euo pipefail
cd "$(dirname "$0")/.."
HOST=${VIETCX_HOST:-127.0.0.1}
RASA_PORT=${VIETCX_RASA_PORT:-5005}
ACTIONS_PORT=5055  # as in endpoints.yml
CONSOLE_PORT=${VIETCX_CONSOLE_PORT:-5080}
# every server appends to its own rotated log under var/log/ (vietcx/logs.py); what a process
# prints before its logging starts (a crash at start-up) is appended to var/log/NAME.out
export VIETCX_LOG_DIR=${VIETCX_LOG_DIR:-var/log}
mkdir -p "$VIETCX_LOG_DIR"

# one Rasa server process per core (VIETCX_RASA_WORKERS to choose): Rasa's Sanic workers share the
# port, and the lock store of endpoints.yml (in the product database) keeps each conversation in
# one process at a time. Each process says when it has loaded and warmed its model (READY_DIR).
WORKERS=${VIETCX_RASA_WORKERS:-$(nproc)}
export SANIC_WORKERS=$WORKERS
export VIETCX_READY_DIR=var/run/ready
rm -rf "$VIETCX_READY_DIR" && mkdir -p "$VIETCX_READY_DIR"
# the Rasa processes' counters for /metrics (vietcx/metrics.py), summed over the processes
export PROMETHEUS_MULTIPROC_DIR=var/run/metrics
rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"

.venv/bin/python -m vietcx.action_server --host "$HOST" --port "$ACTIONS_PORT" >>"$VIETCX_LOG_DIR/actions.out" 2>&1 &
actions_pid=$!
# Rasa's HTTP API (the console hands conversations back through it) always asks for a signed token
.venv/bin/python -m vietcx.rasa_server \
  --model models/assistant.tar.gz --interface "$HOST" --port "$RASA_PORT" --enable-api \
  --endpoints endpoints.yml --credentials credentials.yml >>"$VIETCX_LOG_DIR/rasa.out" 2>&1 &
rasa_pid=$!
VIETCX_RASA_URL="http://$HOST:$RASA_PORT" .venv/bin/python -m vietcx.console --host "$HOST" --port "$CONSOLE_PORT" \
  >>"$VIETCX_LOG_DIR/console.out" 2>&1 &
console_pid=$!
trap 'kill $actions_pid $rasa_pid $console_pid 2>/dev/null; wait 2>/dev/null' EXIT INT TERM

echo "Starting the assistant: $WORKERS Rasa server processes (the first start takes 20-40 s)..."
for _ in $(seq 1 120); do
  ready=$(find "$VIETCX_READY_DIR" -name 'rasa-*' | wc -l)
  if [ "$ready" -ge "$WORKERS" ] && curl -sf "http://$HOST:$RASA_PORT/webhooks/rest/" >/dev/null \
    && curl -sf "http://$HOST:$ACTIONS_PORT/health" >/dev/null \
    && curl -sf "http://$HOST:$CONSOLE_PORT/health" >/dev/null; then
    echo
    echo "  Web chat:      http://$HOST:$RASA_PORT/webhooks/web/chat"
    echo "  REST webhook:  POST http://$HOST:$RASA_PORT/webhooks/rest/webhook"
    if [ -z "${VIETCX_REST_TOKEN:-}" ]; then
      echo "                 with the header: Authorization: Bearer \$(cat var/rest-token)"
    fi
    echo "  Staff console: http://$HOST:$CONSOLE_PORT  (accounts: .venv/bin/python -m vietcx staff add NAME)"
    echo "  Logs:          $VIETCX_LOG_DIR/rasa.log, actions.log, console.log"
    echo "Press Ctrl-C to stop."
    wait
    exit 0
  fi
  kill -0 $rasa_pid 2>/dev/null || { echo "The Rasa server stopped; see $VIETCX_LOG_DIR/rasa.log and rasa.out" >&2; exit 1; }
  kill -0 $actions_pid 2>/dev/null || { echo "The action server stopped; see $VIETCX_LOG_DIR/actions.log and actions.out" >&2; exit 1; }
  kill -0 $console_pid 2>/dev/null || { echo "The staff console stopped; see $VIETCX_LOG_DIR/console.log and console.out" >&2; exit 1; }
  sleep 1
done
echo "The assistant did not start within 2 minutes; see $VIETCX_LOG_DIR/" >&2
exit 1
