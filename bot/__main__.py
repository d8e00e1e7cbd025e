"""`python -m bot` is `seedbot`."""

import sys

from bot.cli import main

sys.exit(main())
