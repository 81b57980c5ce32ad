"""``python -m softcut_app.commands ...``: the same as ``softcut ...``."""

import sys

from softcut_app.cli import main

sys.exit(main())
