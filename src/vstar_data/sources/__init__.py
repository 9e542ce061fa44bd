"""Stage 1, sources: labeled annotation files in, `Sample`s and their questions out.

Adapters (the base class and loading), the `Sample`/`LabelSpec` records, the restricted unpickler,
question templates, prompts and question generation. Nothing here decodes video or runs a model.
"""
