"""The four-part ledger: the origin's numbers, unit errors, currencies, properties."""

import math

import numpy
import pandas
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import costkit as ck
from costkit.ledger import ORIGIN_EXAMPLE, Ledger, four_part_ledger, naive_phase_total, phase_cost


def test_naive_formula_reproduces_the_origin_arithmetic():
    h, r, s = (ORIGIN_EXAMPLE[k] for k in ("hours", "usd_per_hour", "storage_gb"))
    naive = {p: naive_phase_total(h[p], r[p], s[p]) for p in ck.PHASES}
    # 1*1 + 100 = 101; 0.1*0.5 + 50 = 50.05; 0.05*0.2 + 20 = 20.01; 0.2*0.1 + 30 = 30.02
    assert naive == pytest.approx({"train": 101.0, "run": 50.05, "opt": 20.01, "tune": 30.02})
    assert sum(naive.values()) == pytest.approx(201.08)
    # none of them is what the origin printed
    assert not {26.5, 4.0, 4.3, 135.8} & {round(v, 2) for v in naive.values()}


def test_correct_ledger_of_the_origin_example_by_hand():
    led = four_part_ledger(**ORIGIN_EXAMPLE)
    by = led.by_phase()
    # storage at 0.023 USD/GB-month for one month
    assert by["train"] == pytest.approx(1 * 1 + 100 * 0.023)  # 3.30
    assert by["run"] == pytest.approx(0.1 * 0.5 + 50 * 0.023)  # 1.20
    assert by["opt"] == pytest.approx(0.05 * 0.2 + 20 * 0.023)  # 0.47
    assert by["tune"] == pytest.approx(0.2 * 0.1 + 30 * 0.023)  # 0.71
    assert led.total() == pytest.approx(5.68)
    assert list(by.index) == ["train", "run", "opt", "tune"]


def test_bert_case_adds_up():
    led = Ledger()
    for phase, amount in [("train", 4.25), ("run", 0.06), ("opt", 0.04), ("tune", 0.06)]:
        led.add_fixed(phase, f"bert {phase}", amount)
    assert round(led.total(), 2) == 4.41


def test_storage_in_gb_against_a_per_gb_month_price_is_rejected():
    led = Ledger()
    with pytest.raises(ck.UnitError, match="line item 'ckpt'.*lacks time"):
        led.add("train", "ckpt", 100, "GB", 0.023, "USD/GB-month")
    with pytest.raises(ck.UnitError, match="not a currency"):
        led.add("train", "ckpt", 100, "GB", 1, "GB/GB")
    with pytest.raises(ck.UnitError, match="not a currency code"):
        led.add_fixed("train", "ckpt", 100, currency="GB")
    with pytest.raises(ck.UnitError):
        led.add("run", "gpu time", 3, "hour", 2.0, "USD/GPU-hour")
    assert len(led) == 0  # nothing half-added


@pytest.mark.parametrize("bad", [-1, math.nan, math.inf])
def test_bad_quantities_are_rejected(bad):
    led = Ledger()
    with pytest.raises(ValueError, match="quantity of 'x'"):
        led.add("train", "x", bad, "h", 1, "USD/h")
    with pytest.raises(ValueError, match="unit_price of 'x'"):
        led.add("train", "x", 1, "h", bad, "USD/h")
    with pytest.raises(ValueError):
        phase_cost(bad, 1)


def test_unknown_phase():
    with pytest.raises(ValueError, match="unknown phase 'deploy'"):
        Ledger().add_fixed("deploy", "x", 1)
    assert Ledger().add_fixed("Serving", "x", 1).phase == "run"


def test_unit_conversion_inside_an_item():
    led = Ledger()
    led.add("run", "30 minutes", 30, "min", 2.0, "USD/hour")
    led.add("run", "requests", 5_000, "requests", 0.4, "USD/1k requests")
    assert led.by_phase()["run"] == pytest.approx(1.0 + 2.0)


def test_currency_conversion_by_hand():
    # 2024-12-31 CFETS parity: 100 USD = 718.84 CNY, 100 EUR = 752.57 CNY
    usd_in_eur = 718.84 / 752.57
    led = Ledger("EUR", fx_date="2024-12-31")
    led.add("train", "gpu", 10, "GPU-hour", 2.0, "USD/GPU-hour")
    led.add_fixed("train", "licence", 5, "EUR")
    assert led.total() == pytest.approx(20 * usd_in_eur + 5)
    assert led.total("USD") == pytest.approx(20 + 5 / usd_in_eur)
    assert "fx" in led.assumptions
    frame = led.to_frame("CNY")
    assert frame["cost_cny"].sum() == pytest.approx(20 * 7.1884 + 5 * 7.5257)


def test_unknown_currency():
    with pytest.raises(KeyError, match="currency 'XYZ'"):
        Ledger("XYZ")
    with pytest.raises(KeyError, match="currency 'ABC'"):
        Ledger().add("train", "x", 1, "h", 1, "ABC/h")


def test_four_part_ledger_takes_mappings_of_phases():
    with pytest.raises(TypeError, match="hours must map phase names"):
        four_part_ledger([1, 2, 3, 4], {}, {})
    with pytest.raises(ValueError, match="unknown phase 'deploy'"):
        four_part_ledger({"deploy": 1}, {}, {})
    led = four_part_ledger({"training": 2}, {"train": 3}, {})
    assert led.total() == pytest.approx(6)
    with pytest.raises(ValueError, match="twice"):
        four_part_ledger({"train": 1, "training": 2}, {}, {})


def test_frame_and_repr():
    led = four_part_ledger(**ORIGIN_EXAMPLE, title="t")
    df = led.to_frame()
    assert len(df) == 8 and df["cost_usd"].sum() == pytest.approx(led.total())
    text = repr(led)
    assert "C_train" in text and "5.68 USD" in text
    other = Ledger().extend(led)
    assert other.total() == pytest.approx(led.total())


def test_phase_cost_vector_equals_scalars():
    hours = numpy.array([0.0, 1.0, 2.5])
    months = numpy.array([[1.0], [6.0]])
    vec = phase_cost(hours, 2.0, 100, 0.023, months)
    assert vec.shape == (2, 3)
    for i, m in enumerate(months[:, 0]):
        for j, h in enumerate(hours):
            assert vec[i, j] == pytest.approx(phase_cost(h, 2.0, 100, 0.023, m))
    assert isinstance(phase_cost(1, 1), float)
    s = pandas.Series([1.0, 2.0], index=["a", "b"])
    assert list(phase_cost(s, 3.0).index) == ["a", "b"]


pos = st.floats(0, 1e6, allow_nan=False)


@given(pos, pos, pos, pos, pos, st.floats(0.1, 100))
def test_phase_cost_is_linear_in_time(h, r, gb, p, m, k):
    a = phase_cost(h, r, gb, p, m)
    b = phase_cost(k * h, r, gb, p, m)
    assert_allclose(b, a + (k - 1) * h * r, rtol=1e-9, atol=1e-9)


@given(pos, pos, pos, pos, pos, pos)
def test_phase_cost_never_decreases_with_storage_time(h, r, gb, p, m1, m2):
    lo, hi = sorted([m1, m2])
    assert phase_cost(h, r, gb, p, hi) >= phase_cost(h, r, gb, p, lo)
    assert phase_cost(h, r, gb, p, lo) >= 0


@given(pos, pos)
def test_naive_total_depends_on_how_storage_is_written(h, gb):
    # the same storage written in GB and in MB gives different "costs" unless there is none
    gb_written = naive_phase_total(h, 1.0, gb)
    mb_written = naive_phase_total(h, 1.0, gb * 1000)
    assert (mb_written - gb_written) == pytest.approx(999 * gb, rel=1e-9, abs=1e-6)
