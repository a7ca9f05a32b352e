"""Tests that kill the survivors of ``make mutate`` (tests/mutate.py) in the formula modules.

Each pins, by hand, a figure that a mutant changed while every earlier test passed. The
survivors left are explained (equivalent mutants) in the closing note of issue 31.
"""

import numpy as np
import pytest

from costkit import capacity as cp
from costkit import tuning as tu
from costkit.ledger import Ledger
from costkit.units import HOURS_PER_MONTH


def test_by_phase_category_converts_each_line_at_its_rate():
    """ledger.py: a USD line in a CNY ledger, multiplied by the rate (a mutant divided)."""
    led = Ledger("CNY", fx_date="2026-01-27")
    led.add_fixed("run", "support", 10.0, "USD", category="software")
    led.add_fixed("run", "licence", 100.0, "CNY", category="software")
    table = led.by_phase_category()
    assert table.loc["run", "software"] == pytest.approx(100.0 + 10.0 * 6.9858)
    assert led.by_phase_category("USD").loc["run", "software"] == pytest.approx(
        100.0 / 6.9858 + 10.0)


def test_a_flat_day_of_traffic_runs_its_peak_every_hour_of_the_month():
    """capacity.py: 24 hours at a constant load: the static fleet's replica-hours per month
    are its peak x 730 h (a mutant divided by the month's scale instead)."""
    out = cp.plan(np.full(24, 50.0), replica_rps=10.0, usd_per_replica_hour=2.0,
                  min_replicas=1, reserved_discount=0.0)
    row = out.summary.loc["static_peak"]
    assert row["replica_hours_per_month"] == pytest.approx(row["peak_replicas"]
                                                           * HOURS_PER_MONTH)
    assert row["monthly_cost_usd"] == pytest.approx(row["replica_hours_per_month"] * 2.0)


def test_a_relative_expected_lift_is_a_share_of_the_baseline():
    """tuning.py: a 20 % relative lift on a 10 % baseline is 2 points (a mutant divided)."""
    plan = tu.ab_test_plan(0.10, 0.02, daily_units=10_000, relative=False,
                           expected_lift=0.2 * 0.10)
    rel = tu.ab_test_plan(0.10, 0.2, daily_units=10_000, relative=True, expected_lift=0.2,
                          gross_profit_per_conversion_usd=10.0)
    assert float(rel.expected_rate_change) == pytest.approx(0.02)
    assert float(plan.expected_rate_change) == pytest.approx(0.02)
    # the worse arm's enrolled units x 2 points x 10 USD
    assert float(rel.opportunity_cost_usd) == pytest.approx(float(rel.enrolled_per_arm) * 0.2)
