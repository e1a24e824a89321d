"""Hypothesis draws the same examples on every run, so that a failure in CI is one anybody
can repeat. HYPOTHESIS_PROFILE=explore draws new ones each run, to hunt for bugs."""

import os

from hypothesis import settings

settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))
