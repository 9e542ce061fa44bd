"""Stage 2, video: a clip path and a time window in, sampled RGB frames (or a located skip) out.

`frames` decodes and samples; `probe` opens containers and reads their streams without decoding.
Torch is never imported here.
"""
