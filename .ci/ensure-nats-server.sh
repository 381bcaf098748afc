#!/usr/bin/env bash
# npm `pretest`: the integration tests start real nats-server processes
# (test/fixtures/nats-server.ts), so make sure the binary is there first.
set -euo pipefail

# Same lookup as natsServerBinary(): PATH, then the Debian package's path,
# which is not on PATH for non-root users.
if command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "credreg: nats-server is missing; install it with: sudo apt-get install nats-server" >&2
  exit 1
fi

echo "credreg: nats-server is missing; installing the Debian package nats-server" >&2
# Only refresh the package lists when they do not know the package yet.
if ! apt-cache policy nats-server 2>/dev/null | grep -q 'Candidate: [0-9]'; then
  apt-get update -qq || { echo "credreg: apt-get update failed" >&2; exit 1; }
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server >&2 ||
  { echo "credreg: installing nats-server failed; try: sudo apt-get install nats-server" >&2; exit 1; }
