"""``python -m rnabert.cli``: the same as the ``rnabert`` command."""

import sys

from . import main

sys.exit(main())
