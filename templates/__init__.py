"""Question templates shipped with vstar-data (installed as vstar_data._templates).

This file only makes the folder a regular package, so `importlib.resources.files` finds the
YAML files in editable installs too.
"""
