#!/usr/bin/env bash
# stop.sh [PORT] - stop the geodns that start.sh PORT started (default 15304).
PORT=${1:-15304}
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
LAB=${LAB:-$ROOT/../shared/lab}
. "$LAB/peers/lib.sh"
stop_pidfile "/tmp/geolab-geodns-$PORT/pid" geodns "/tmp/geolab-geodns-$PORT"
