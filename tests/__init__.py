"""The test suite, as a package: helpers are imported as ``tests.<module>``."""
