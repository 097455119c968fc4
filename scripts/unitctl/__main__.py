"""`python -m unitctl`: the unitctl command (as `python -m unitctl.cli`)."""

import sys

from unitctl.cli import main

sys.exit(main())
