#!/usr/bin/env bash
# start.sh [PORT] - geodns with the NIO UDP engine (`--udp-engine nio`) for the bench matrix
# (default port 15305): same policy, database and pinning as ../geodns/start.sh.
HERE="$(cd "$(dirname "$0")" && pwd)"
GEODNS_UDP_ENGINE=nio exec bash "$HERE/../geodns/start.sh" "${1:-15305}"
