#!/usr/bin/env bash
# stop.sh [PORT] - stop the echo floor that start.sh PORT started (default 15309).
PORT=${1:-15309}
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
LAB=${LAB:-$ROOT/../shared/lab}
. "$LAB/peers/lib.sh"
stop_pidfile "/tmp/geolab-echo-$PORT/pid" echo "/tmp/geolab-echo-$PORT"
