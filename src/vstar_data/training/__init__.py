"""Stage 7, training: published rows (or attempt files) in, a tuned checkpoint out.

`recipe` is the trainer (setup / train / save); `data` turns rows into masked chat examples.
"""
