"""asv benchmark suites of renyimi (see ``benchmarks/README.md``)."""

import importlib.util
import os
import sys

# `asv run --environment existing` from a checkout without `pip install -e .`: use the checkout.
# In asv's own virtualenvs renyimi is installed, and that installed version is what gets timed.
if importlib.util.find_spec("renyimi") is None:
    sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
