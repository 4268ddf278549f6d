"""Memory footprints: ``estimate`` is the pure estimator (no I/O, no pandas); ``source`` fetches what it
needs from the server in a fixed handful of RPCs. The pandas layer is :mod:`asyncload.footprint`."""
