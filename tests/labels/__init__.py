"""Tests of the label types (vstar_data.labels)."""
