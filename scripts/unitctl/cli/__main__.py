"""`python -m unitctl.cli`: the unitctl command."""

import sys

from unitctl.cli import main

sys.exit(main())
