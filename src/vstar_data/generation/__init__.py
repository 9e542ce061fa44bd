"""Stage 5, generation: samples in, attempt rows (generated, rationalized, skipped) out.

`pipeline` is the per-chunk stage list (prompt, frames, backend, verify, rationalize); `engines/`
run it locally or on Ray; `attempts` reads the chunk files back with located errors.
"""
