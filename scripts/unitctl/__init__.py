"""unitctl: the judicial units' infrastructure toolkit (inventory, lab, network, compliance)."""

__version__ = "0.1.0"
