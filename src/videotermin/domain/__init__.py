"""Pure rules: no I/O, no framework imports, time passed in as ``now``."""
