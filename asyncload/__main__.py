"""``python -m asyncload``: the same as the ``asyncload`` command."""

import sys

from .cli import main

sys.exit(main())
