#!/usr/bin/env bash
# The test command (README): lint, syntax, unit tests, then the lab integration tests.
# On a fresh Debian 12 machine as root it installs what it needs first.
set -euo pipefail
# Headless Chromium renders the evaluation report in its test; the font covers Persian.
export UNITCTL_EXTRA_PACKAGES="chromium fonts-farsiweb"
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$project_root"

step() { printf '\n== %s\n' "$*"; }

step "yamllint"
yamllint --strict .
step "ansible-lint (production profile)"
ansible-lint --offline --profile production -q
step "playbook syntax"
for playbook in playbooks/*.yml; do
  ansible-playbook --syntax-check "$playbook" >/dev/null
  echo "ok  $playbook"
done
step "inventory validation (sample and lab provinces)"
unitctl validate
step "tests"
# One pytest run so that the closing line counts every test. The lab tests boot the lab
# (root, systemd-nspawn) and take it down at the end.
pytest -q -p no:cacheprovider "$@"
