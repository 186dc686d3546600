"""The administration: staff accounts, units, API tokens and the audit log."""
