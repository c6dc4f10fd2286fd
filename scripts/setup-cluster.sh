#!/usr/bin/env bash
# Extra set-up for `make cluster` and its tests: Debian's PostgreSQL, Redis and nginx (each then
# runs as a private instance under var/cluster/, never as the machine's own service).
set -euo pipefail
missing=()
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ]; then
  echo "Installing ${missing[*]} for the scaled-out deployment"
  apt-get update -qq
  # the packages' own services are not wanted: policy-rc.d keeps them from starting
  made_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  if [ -n "$made_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
else
  echo "make cluster needs ${missing[*]}: run 'sudo apt-get install ${missing[*]}'." >&2
  exit 1
fi
