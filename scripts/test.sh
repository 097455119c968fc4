#!/usr/bin/env bash
# The test command (README): lint, syntax, unit tests, then the lab integration tests.
# On a fresh Debian 12 machine as root it installs what it needs first.
# Arguments go to pytest, e.g. `scripts/test.sh tests/unit` for the fast tests alone.
set -euo pipefail
started=$SECONDS
# Headless Chromium renders the evaluation report in its test; the font covers Persian. The unit
# tests run AIDE's own parser on the rendered scope (aide, without aide-common) and modprobe/depmod
# on a fake module tree (kmod).
export UNITCTL_EXTRA_PACKAGES="chromium fonts-farsiweb aide kmod"
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$project_root"

step() { printf '\n== [%4d s] %s\n' "$((SECONDS - started))" "$*"; }

step "yamllint"
yamllint --strict .
step "ansible-lint (production profile)"
ansible-lint --offline --profile production -q
step "playbook syntax"
ansible-playbook --syntax-check playbooks/*.yml >/dev/null
echo "ok: $(ls playbooks/*.yml | xargs -n1 basename | tr '\n' ' ')"
step "inventory validation (sample and lab provinces)"
unitctl validate inventory
if [ "$#" -gt 0 ]; then
    step "tests: $*"
    pytest -q -p no:cacheprovider --durations=30 "$@"
    exit
fi
# With no arguments, two pytest runs: the unit tests on every CPU (pytest-xdist; they share no
# state), then the lab tests, which boot the lab (root, systemd-nspawn), run in a fixed order on
# the one lab and take it down at the end. Each run ends with its own count.
step "unit tests"
pytest -q -p no:cacheprovider --durations=10 -n auto tests/unit
step "lab tests"
pytest -q -p no:cacheprovider --durations=30 tests/integration
step "done"
