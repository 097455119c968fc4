"""Ansible filters for what only play time knows (province policy meets inventory data, and what
a run read from the host: packages_to_install).

Everything the inventory alone decides is computed by the inventory plugin (unitctl.inventory.derived);
these filters join it with a policy value, in Python, tested in tests/unit/test_derived.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The filters run inside Ansible's Python; the unitctl package sits beside this tree.
_SCRIPTS_DIR = Path(__file__).resolve().parents[2]
if str(_SCRIPTS_DIR) not in sys.path:
    sys.path.insert(0, str(_SCRIPTS_DIR))

from unitctl.inventory.derived import log_upload_clients, printer_queues  # noqa: E402
from unitctl.kernel_policy import unavailable_modules  # noqa: E402
from unitctl.packages import packages_to_install  # noqa: E402
from unitctl.releases import debian_codename  # noqa: E402


class FilterModule:
    def filters(self):
        return {"printer_queues": printer_queues, "log_upload_clients": log_upload_clients,
                "kernel_modules_unavailable": unavailable_modules, "packages_to_install": packages_to_install,
                "debian_codename": debian_codename}
