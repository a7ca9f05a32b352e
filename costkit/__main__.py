"""``python -m costkit``: the same as the ``costkit`` command."""

import sys

from costkit.cli import main

sys.exit(main())
