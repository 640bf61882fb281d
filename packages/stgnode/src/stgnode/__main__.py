"""`python -m stgnode ...` (what torchrun runs) is the same as the `stgnode` command."""

from stgnode.cli import main

main()
