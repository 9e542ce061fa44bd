"""Stage 3, backends: prompts plus frames in, answer strings (or failures as reasons) out.

`base` is the protocol; `transformers`, `openai` and `template` implement it; `tiny` builds
random-weight test models. Heavy libraries load only inside a backend's `load()`.
"""
