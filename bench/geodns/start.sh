#!/usr/bin/env bash
# start.sh [PORT] - start the release geodns for the lab scenario on 127.0.0.1:PORT
# (default 15304), on GeoLite2-City, pinned to $SERVER_CPU like the lab's peers; pid -> $RUN/pid.
# Env: GEODNS_THREADS (default 1: the lab gives every server one core), GEODNS_BIN,
# GEODNS_UDP_ENGINE (recvmmsg, the default, or nio).
set -euo pipefail
PORT=${1:-15304}
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
LAB=${LAB:-$ROOT/../shared/lab}
. "$LAB/env.sh"
. "$LAB/peers/lib.sh"
RUN=/tmp/geolab-geodns-$PORT
BIN=${GEODNS_BIN:-$ROOT/.build/release/geodns}
if [ -s "$RUN/pid" ] && kill -0 "$(cat "$RUN/pid")" 2>/dev/null; then
    echo "geodns already running (pid $(cat "$RUN/pid"))" >&2; exit 1
fi
check_port_free "$PORT"
mkdir -p "$RUN"
# The project's config.yaml, served from GeoLite2-City instead of the demo database.
sed -e "s|^\(\s*geoip:\s*\).*|\1$GEOLITE2_CITY|" "$ROOT/config.yaml" > "$RUN/config.yaml"
"$BIN" check "$RUN/config.yaml" > "$RUN/check.log" 2>&1 || { cat "$RUN/check.log" >&2; exit 1; }
taskset -c "$SERVER_CPU" "$BIN" serve --config "$RUN/config.yaml" --listen "127.0.0.1:$PORT" \
    --threads "${GEODNS_THREADS:-1}" --udp-engine "${GEODNS_UDP_ENGINE:-recvmmsg}" --log-level notice > "$RUN/geodns.log" 2>&1 < /dev/null &
echo $! > "$RUN/pid"
wait_ready "$PORT" "$(cat "$RUN/pid")" "$RUN/geodns.log"
pin_all_threads "$(cat "$RUN/pid")" "$SERVER_CPU"
echo "geodns pid $(cat "$RUN/pid") on 127.0.0.1:$PORT (cpu $SERVER_CPU), log $RUN/geodns.log"
