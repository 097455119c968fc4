#!/usr/bin/env bash
# Ansible's vault password client (ansible.cfg: vault_password_file).
# A province or unit names its own password file in UNITCTL_VAULT_PASSWORD_FILE; otherwise the
# lab's password, made by `unitctl lab up`, is used. Without either there is no vault to open,
# and a placeholder keeps commands that need no secret (syntax checks, inventory listing) working.
set -euo pipefail
if [[ -n ${UNITCTL_VAULT_PASSWORD_FILE:-} ]]; then
  exec cat "$UNITCTL_VAULT_PASSWORD_FILE"
fi
lab_password="${UNITLAB_STATE_DIR:-/var/lib/unitlab}/vault-pass"
if [[ -r $lab_password ]]; then
  exec cat "$lab_password"
fi
echo "no-vault-password-configured"
