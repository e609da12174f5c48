"""`python -m ganseg_lib ...` is the `ganseg` command."""
import sys

from .app.cli import main

sys.exit(main())
