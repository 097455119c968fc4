#!/usr/bin/env python3
"""Ansible's vault password client for the unit vaults: `vault-password-client.py --vault-id NAME`.

One password per vault identity (a unit's id): the technician's own folder named by
UNITCTL_VAULT_PASSWORD_DIR (one file per identity), else the lab's state folder
(/var/lib/unitlab/vault-pass.d/NAME, made by `unitctl lab up`). Exit status 2 tells Ansible this
machine has no password for NAME. Ansible calls it a client because its name ends in -client.
See unitctl.inventory.vaults.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from unitctl.inventory.vaults import client_main  # noqa: E402

sys.exit(client_main(sys.argv[1:]))
