#!/usr/bin/env bash
# The demo (README): boot the lab province, provision it, check it, write the results.
# On a fresh Debian 12 machine as root it installs what it needs first. The lab stays up
# afterwards so that you can look around; `unitctl lab down` removes it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$project_root"

results="$project_root/results"
mkdir -p "$results"
step() { printf '\n== %s\n' "$*"; }

step "1/4 validate the inventories (sample Qom province and the lab)"
unitctl validate inventory
step "2/4 boot the lab province"
unitctl lab up
step "3/4 provision the lab units"
# Each unit's vault opens with its own password: unitctl provision passes one --vault-id per unit
# named (and prints the ansible-playbook command it runs).
lab_units=$(python -c 'from unitctl import paths; from unitctl.inventory.load import load_units_dir
print(" ".join(unit.id for unit in load_units_dir(paths.LAB_UNITS_DIR).units))')
# shellcheck disable=SC2086  # one argument per unit id
unitctl provision -i inventory/lab.unitctl.yml $lab_units | tee "$results/provision.log"
step "4/4 check every lab host"
unitctl evaluate --inventory inventory/lab.unitctl.yml --output "$results/evaluation" || checks_failed=$?

printf '\nResults in %s:\n' "$results"
ls -1 "$results" | sed 's/^/  /'
exit "${checks_failed:-0}"
