"""Entry point of ``python -m fer``."""

import sys

from fer.cli import main

sys.exit(main())
