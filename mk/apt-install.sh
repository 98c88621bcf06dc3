#!/bin/bash
# Install the named Debian packages that are missing, without starting any service
# they ship (bind9-dnsutils and knot-dnsutils pull in none, but a daemon dependency
# must not start on a CI box). An existing /usr/sbin/policy-rc.d is left exactly as
# it is; one we create is removed again, also when apt-get fails.
set -euo pipefail
missing=()
for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
guard=/usr/sbin/policy-rc.d
if [ ! -e "$guard" ]; then
  trap '$SUDO rm -f "$guard"' EXIT
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$guard" >/dev/null
  $SUDO chmod +x "$guard"
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
