"""Conformance suites for plugins: subclass one in a test module and provide its fixtures."""
