"""``python -m rebatesim``: the ``rebatesim`` command (:mod:`rebatesim.cli`)."""

import sys

from .cli import main

sys.exit(main())
