"""Tests of the label types (vstar_data.verify.labels)."""
