"""See the package docstring of vstar_data."""
