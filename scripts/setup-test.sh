#!/usr/bin/env bash
# Extra set-up for the tests: Debian's Chromium and its driver for the browser tests, and what
# `make cluster` needs for the cluster tests (scripts/setup-cluster.sh).
set -euo pipefail
"$(dirname "$0")/setup-cluster.sh"
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ]; then
  echo "Installing chromium and chromium-driver for the browser tests"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
else
  echo "The browser tests need Chromium: run 'sudo apt-get install chromium chromium-driver'." >&2
  exit 1
fi
