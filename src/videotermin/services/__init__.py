"""Use cases: one module per job. They apply the rules of :mod:`videotermin.domain` to the
store and announce changes on the bus; they know no HTTP and no sockets."""
