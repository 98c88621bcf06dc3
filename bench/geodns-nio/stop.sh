#!/usr/bin/env bash
# stop.sh [PORT] - stop the geodns that start.sh PORT started (default 15305).
HERE="$(cd "$(dirname "$0")" && pwd)"
exec bash "$HERE/../geodns/stop.sh" "${1:-15305}"
