"""Stage 8, cycle: a run config in, repeated generate -> publish -> train -> evaluate cycles out.

`runner` drives the cycles until the yield plateaus, `evaluation` scores held-out answers,
`demo` builds the procedural shapes world and runs it end to end.
"""
