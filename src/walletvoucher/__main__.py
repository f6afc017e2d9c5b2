"""``python -m walletvoucher``: the same command line as ``walletvoucher``."""

import sys

from walletvoucher.cli import main

sys.exit(main())
