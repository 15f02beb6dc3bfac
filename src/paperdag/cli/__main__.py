"""`python -m paperdag.cli …` is `paperdag …`."""

import sys

from paperdag.cli import main

sys.exit(main())
