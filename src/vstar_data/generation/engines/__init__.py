"""Engines run the generation pipeline over chunks: `local` in-process, `ray` on a Ray cluster.

Both share the run directory layout (run.json, chunk files, completion markers) and resume rules.
"""
