"""Testing: conformance suites for extension points (adapters, label types, backends, engines, exporters).

Subclass one in a test module and provide its fixtures; a plugin that passes behaves like a built-in.
"""
