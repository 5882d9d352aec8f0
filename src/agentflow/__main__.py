"""``python -m agentflow``: the same as the ``agentflow`` command."""

import sys

from .cli import main

sys.exit(main())
