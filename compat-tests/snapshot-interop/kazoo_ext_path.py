"""Makes compat-tests/kazoo/kazoo_ext.py (createContainer / createTTL for kazoo) importable."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "kazoo"))

import kazoo_ext  # noqa: E402,F401
