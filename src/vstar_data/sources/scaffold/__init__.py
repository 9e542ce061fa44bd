"""Skeleton files written by `vstar-data new-adapter`."""
