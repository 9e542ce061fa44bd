"""Stage 4, verify: an answer and its label specs in, a per-label decision with span and reason out.

`verifier` holds the Parser-Verifier and its profiles; `labels/` has one module per label type.
Pure Python and rapidfuzz: no model, no video.
"""
