#!/usr/bin/env bash
# Installs Debian's nginx for the production-shaped topology (src/topology: two API replicas behind nginx).
# Idempotent: does nothing when nginx is already on the PATH (or at /usr/sbin/nginx). The topology runs nginx as
# its own child with a generated config and prefix in its state dir; the package's system service is not used, so
# it is stopped and disabled when the package's postinst started it.
set -euo pipefail

if command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]]; then
  echo "install-nginx: $(/usr/sbin/nginx -v 2>&1 || nginx -v 2>&1)"
  exit 0
fi
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-nginx: ERROR: nginx is missing; install it (Debian: sudo apt-get install -y nginx-light)" >&2
  exit 1
fi
echo "install-nginx: installing Debian's nginx-light (apt-get update && apt-get install -y nginx-light)"
apt-get update -qq
# policy-rc.d 101: the package must not start a system nginx on :80 (there may be no init system, and we do not want it).
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
fi
trap '[[ $created_policy -eq 1 ]] && rm -f "$policy"' EXIT
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light >/dev/null
echo "install-nginx: $(/usr/sbin/nginx -v 2>&1)"
