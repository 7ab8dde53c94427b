#!/usr/bin/env bash
# Prepares this checkout on Debian with Python 3.11: system packages, a virtualenv, Python packages and
# compiled translations. Safe to run again; it only does what is missing or changed.
# Usage: scripts/setup.sh [app|test]
set -euo pipefail
cd "$(dirname "$0")/.."
want=${1:-app}

apt_packages=()
[ "$want" = test ] || [ "${DEMO:-}" = 1 ] && apt_packages+=(dovecot-imapd dovecot-pop3d)
[ "$want" = test ] && apt_packages+=(chromium fonts-dejavu-core)
[ "$want" = test ] && ! command -v npm >/dev/null && apt_packages+=(npm)
python_bin=$(command -v python3.11 || command -v python3)
"$python_bin" -c 'import venv, ensurepip' 2>/dev/null || apt_packages+=(python3-venv)

missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # the package's own service is not used: the app and the tests start Dovecot with their own config
  if command -v systemctl >/dev/null && systemctl is-active --quiet dovecot 2>/dev/null; then systemctl stop dovecot || true; fi
fi

[ -x .venv/bin/python ] || "$python_bin" -m venv .venv
extras=server
[ "${DEMO:-}" = 1 ] && extras=server,demo
[ "$want" = test ] && extras=server,demo,test
stamp=.venv/.installed-${extras//,/-}
hash=$(cat pyproject.toml | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$hash" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[$extras]"   # editable: the checkout is the code that runs
  echo "$hash" > "$stamp"
fi

.venv/bin/python -m mailcore.catalogs
# axe-core for the accessibility tests, from the npm registry into var/ (gitignored)
if [ "$want" = test ]; then .venv/bin/python -m tests.axe >/dev/null; fi
