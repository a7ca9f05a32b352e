"""Hypothesis settings shared by the property tests: deterministic by default, random in fuzz.

``make test`` (and CI) loads the ``ci`` profile: derandomised (the same examples on every
run and machine) and without an example database, so a failure reproduces from a clean clone
and never sticks in a checkout. ``make fuzz`` loads ``fuzz``: random examples, many more of
them (each test's budget times ``COSTKIT_FUZZ_FACTOR``), failures kept in ``.hypothesis/``.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", derandomize=True, database=None, deadline=None,
                          print_blob=True)
settings.register_profile("fuzz", derandomize=False, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("COSTKIT_HYPOTHESIS_PROFILE", "ci"))

FACTOR = int(os.environ.get("COSTKIT_FUZZ_FACTOR", "1"))


def examples(n: int) -> int:
    """A test's example budget: ``n`` in CI, ``n x COSTKIT_FUZZ_FACTOR`` when fuzzing."""
    return n * FACTOR
