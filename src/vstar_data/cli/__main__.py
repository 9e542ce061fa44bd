"""`python -m vstar_data.cli` runs the command line (used by accelerate launch and tests)."""
from . import main

main()
