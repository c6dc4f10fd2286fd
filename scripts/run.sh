#!/usr/bin/env bash
# Starts the action server, the Rasa server (REST channel + web chat page) and the staff console on
# this machine only, waits until all answer, prints their addresses, and stops them on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
HOST=${VIETCX_HOST:-127.0.0.1}
RASA_PORT=${VIETCX_RASA_PORT:-5005}
ACTIONS_PORT=5055  # as in endpoints.yml
CONSOLE_PORT=${VIETCX_CONSOLE_PORT:-5080}
mkdir -p var/log

.venv/bin/python -m vietcx.action_server --host "$HOST" --port "$ACTIONS_PORT" >var/log/actions.log 2>&1 &
actions_pid=$!
# Rasa's HTTP API (the console hands conversations back through it) asks for VIETCX_RASA_TOKEN when set
token_args=()
if [ -n "${VIETCX_RASA_TOKEN:-}" ]; then token_args=(--auth-token "$VIETCX_RASA_TOKEN"); fi
.venv/bin/rasa run \
  --model models/assistant.tar.gz --interface "$HOST" --port "$RASA_PORT" --enable-api "${token_args[@]}" \
  --endpoints endpoints.yml --credentials credentials.yml --log-file var/log/rasa.log >/dev/null 2>&1 &
rasa_pid=$!
VIETCX_RASA_URL="http://$HOST:$RASA_PORT" .venv/bin/python -m vietcx.console --host "$HOST" --port "$CONSOLE_PORT" \
  >var/log/console.log 2>&1 &
console_pid=$!
trap 'kill $actions_pid $rasa_pid $console_pid 2>/dev/null; wait 2>/dev/null' EXIT INT TERM

echo "Starting the assistant (the first start takes 20-40 s)..."
for _ in $(seq 1 120); do
  if curl -sf "http://$HOST:$RASA_PORT/status" >/dev/null && curl -sf "http://$HOST:$ACTIONS_PORT/health" >/dev/null \
    && curl -sf "http://$HOST:$CONSOLE_PORT/health" >/dev/null; then
    echo
    echo "  Web chat:      http://$HOST:$RASA_PORT/webhooks/web/chat"
    echo "  REST webhook:  POST http://$HOST:$RASA_PORT/webhooks/rest/webhook"
    echo "  Staff console: http://$HOST:$CONSOLE_PORT  (accounts: .venv/bin/python -m vietcx staff add NAME)"
    echo "  Logs:          var/log/rasa.log, var/log/actions.log, var/log/console.log"
    echo "Press Ctrl-C to stop."
    wait
    exit 0
  fi
  kill -0 $rasa_pid 2>/dev/null || { echo "The Rasa server stopped; see var/log/rasa.log" >&2; exit 1; }
  kill -0 $actions_pid 2>/dev/null || { echo "The action server stopped; see var/log/actions.log" >&2; exit 1; }
  kill -0 $console_pid 2>/dev/null || { echo "The staff console stopped; see var/log/console.log" >&2; exit 1; }
  sleep 1
done
echo "The assistant did not start within 2 minutes; see var/log/" >&2
exit 1
