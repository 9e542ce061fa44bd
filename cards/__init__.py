"""Jinja templates for dataset cards (installed as vstar_data._cards)."""
