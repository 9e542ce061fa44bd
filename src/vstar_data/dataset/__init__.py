"""Stage 6, dataset: attempt rows in, a versioned Hugging Face no-code dataset out.

`rows` (schema), `writer` (parquet shards), `store`/`gitstore` (tags per release), `hub` (push),
`card` (README), `export` (trainer formats), `stats` (yield bookkeeping and the yield plot).
"""
