#!/usr/bin/env bash
# Installs everything the toolkit and its lab need on a fresh Debian 12 machine (run as root).
# Safe to rerun: it installs only what is missing. Sourced by demo.sh and test.sh.
set -euo pipefail

project_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$project_root/.venv"

debian_packages=(
  debootstrap systemd-container apt-cacher-ng   # the lab: root filesystem, machines, mirror
  iproute2 nftables openssh-client             # namespaces, bridge and its guard, SSH
  ca-certificates git
  python3 python3-venv                          # the toolkit's own Python environment
)

retry() {  # retry N COMMAND...: bounded retries for network steps
  local attempts=$1 n=1; shift
  until "$@"; do
    if (( n >= attempts )); then echo "setup: failed after $n attempts: $*" >&2; return 1; fi
    echo "setup: attempt $n failed, retrying in $((n * 5)) s: $*" >&2
    sleep $((n * 5)); n=$((n + 1))
  done
}

# Callers add what only they need (test.sh: a browser to look at the report).
read -r -a extra_packages <<< "${UNITCTL_EXTRA_PACKAGES:-}"
debian_packages+=("${extra_packages[@]}")

missing=()
for package in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if (( ${#missing[@]} )); then
  echo "setup: installing Debian packages: ${missing[*]}"
  retry 3 apt-get update -qq
  # The lab runs its own apt-cacher-ng on the lab bridge; the system service is not needed.
  DEBIAN_FRONTEND=noninteractive retry 3 apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

python=${PYTHON:-python3}
if [[ ! -x $venv/bin/python ]]; then
  echo "setup: creating the Python environment in $venv"
  "$python" -m venv "$venv"
fi
stamp="$venv/.installed-$(sha256sum "$project_root/pyproject.toml" | cut -c1-16)"
if [[ ! -e $stamp ]]; then
  echo "setup: installing the toolkit's pinned Python packages"
  retry 3 "$venv/bin/pip" install -q --disable-pip-version-check -e "$project_root[dev,lab]"
  # fake-switches pins Twisted<17, which does not build on Python 3.11; its real needs come
  # from the `lab` extra above.
  retry 3 "$venv/bin/pip" install -q --disable-pip-version-check --no-deps fake-switches==1.5.0
  touch "$stamp"
fi
export PATH="$venv/bin:$PATH"
export ANSIBLE_CONFIG="$project_root/ansible.cfg"
