#!/usr/bin/env bash
# start.sh [PORT] - build (once) and start the C echo floor (echo.c) on 127.0.0.1:PORT (default
# 15309), pinned to $SERVER_CPU like every server in the bench; pid -> /tmp/geolab-echo-PORT/pid.
set -euo pipefail
PORT=${1:-15309}
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
LAB=${LAB:-$ROOT/../shared/lab}
. "$LAB/env.sh"
. "$LAB/peers/lib.sh"
RUN=/tmp/geolab-echo-$PORT
mkdir -p "$RUN"
BIN=$RUN/echo
[ "$BIN" -nt "$HERE/echo.c" ] || gcc -O2 -Wall -o "$BIN" "$HERE/echo.c"
check_port_free "$PORT"
taskset -c "$SERVER_CPU" "$BIN" "$PORT" > "$RUN/echo.log" 2>&1 < /dev/null &
echo $! > "$RUN/pid"
# Ready when a query comes back (it answers anything, so the lab's SOA check does not apply).
for _ in $(seq 1 50); do
    if dig @127.0.0.1 -p "$PORT" example.com SOA +time=1 +tries=1 +norec > /dev/null 2>&1; then
        echo "echo pid $(cat "$RUN/pid") on 127.0.0.1:$PORT (cpu $SERVER_CPU)"; exit 0
    fi
    sleep 0.1
done
echo "echo did not answer on $PORT" >&2; exit 1
