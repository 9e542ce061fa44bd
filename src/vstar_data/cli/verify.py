from . import app  # noqa: F401  (verify command: filled in by the verifier work)
