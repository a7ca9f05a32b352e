"""The four-part ledger: the origin's numbers, unit errors, currencies, properties."""

import math

import numpy
import pandas
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import costkit as ck
from costkit.ledger import (
    CATEGORIES,
    ORIGIN_EXAMPLE,
    Ledger,
    four_part_ledger,
    naive_phase_total,
    phase_cost,
)


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


# --------------------------------------------------------------------------- six categories

def _six_category_ledger():
    """A fine-tuning project touching every category, worked by hand below."""
    led = Ledger(title="six categories")
    led.add_compute("train", "GPU time", hours=120, usd_per_hour=2.5, unit="GPU-hour")  # 300
    led.add_labelling("train", "relevance labels", items=20_000, usd_per_label=0.04,
                      labels_per_item=2, review_share=0.1)        # 40,000 x 0.04 = 1,600; +160
    led.add_storage("train", "click logs", storage_gb=500, usd_per_gb_month=0.023, months=6)  # 69
    led.add_subscription("tune", "experiment tracker", seats=4, usd_per_seat_month=50,
                         months=3)                                 # 12 seat-months = 600
    led.add("opt", "engineering", 10, "engineer-day", 800, "USD/engineer-day",
            category="labour")                                     # 8,000
    led.add("run", "monitoring", 12, "month", 150, "USD/month", category="operations")  # 1,800
    led.add_cost_of_delay("train", "two months to launch", months=2, usd_per_month=5_000)
    return led


def test_six_categories_by_hand():
    led = _six_category_ledger()
    by = led.by_category()
    assert list(by.index) == list(CATEGORIES)
    assert by.to_dict() == pytest.approx({"hardware": 300.0, "software": 600.0,
                                          "data": 1_600.0 + 160.0 + 69.0, "labour": 8_000.0,
                                          "operations": 1_800.0, "time": 10_000.0})
    assert led.total() == pytest.approx(22_529.0)
    assert led.cash_total() == pytest.approx(12_529.0)      # the delay is not paid
    assert "cost of delay" in repr(led) and "10,000.00" in repr(led)


def test_phase_by_category_table_adds_up_both_ways():
    led = _six_category_ledger()
    t = led.by_phase_category(totals=True)
    assert t.loc["train", "data"] == pytest.approx(1_829.0)
    assert t.loc["train", "time"] == pytest.approx(10_000.0)
    assert t.loc["total", "total"] == pytest.approx(led.total())
    inner = t.drop(index="total", columns="total")
    assert t["total"].drop("total").to_dict() == pytest.approx(inner.sum(axis=1).to_dict())
    assert t.loc["total"].drop("total").to_dict() == pytest.approx(led.by_category().to_dict())
    assert t["total"].drop("total").to_dict() == pytest.approx(led.by_phase().to_dict())


def test_own_categories_are_kept_and_aliases_resolved():
    led = Ledger()
    led.add_fixed("run", "on-call", 100, category="People")
    led.add_fixed("run", "licence", 50, category="license")
    led.add_fixed("run", "insurance", 7, category="Insurance ")
    led.add_fixed("run", "misc", 1)
    assert [it.category for it in led.items] == ["labour", "software", "insurance", "other"]
    assert led.categories == (*CATEGORIES, "insurance", "other")
    assert led.by_category()["insurance"] == 7 and led.by_category().sum() == 158


@pytest.mark.parametrize("bad", ["hardwre", "labuor", "opertions"])
def test_a_category_one_typo_away_is_refused_with_the_closest(bad):
    with pytest.raises(ValueError, match="did you mean"):
        Ledger().add_fixed("run", "x", 1, category=bad)


@pytest.mark.parametrize("bad", ["x" * 41, "a\x00b", "\x1b[31mred"])
def test_hostile_category_names_are_refused(bad):
    with pytest.raises(ValueError, match="short printable"):
        Ledger().add_fixed("run", "x", 1, category=bad)


def test_labelling_review_share_is_a_fraction():
    with pytest.raises(ValueError, match="review_share"):
        Ledger().add_labelling("train", "labels", items=10, usd_per_label=1, review_share=1.5)
    led = Ledger()
    items = led.add_labelling("train", "labels", items=10, usd_per_label=1)
    assert len(items) == 1 and led.total() == 10       # no review line when nobody reviews


def test_cost_of_delay_cannot_enter_an_roi_case_twice():
    from costkit.roi import Case

    one_off = Ledger()
    one_off.add_fixed("train", "training", 1_000)
    one_off.add_cost_of_delay("train", "waiting", months=1, usd_per_month=500)
    case = Case(sessions_per_month=1e6, searches_per_session=2, click_through_rate=0.3,
                conversion_rate=0.05, average_order_value_usd=50, gross_margin=0.3,
                ctr_lift=0.01, one_off_usd=1_500)
    with pytest.raises(ValueError, match="count twice"):
        case.evaluate().to_ledger(one_off=one_off)


@given(st.lists(st.tuples(st.sampled_from(["train", "run", "opt", "tune"]),
                          st.sampled_from([*CATEGORIES, "insurance", "", "People", "licence"]),
                          st.floats(0, 1e9, allow_nan=False)), min_size=1, max_size=30))
def test_the_two_views_of_a_ledger_always_add_up_to_its_total(items):
    led = Ledger()
    for phase, cat, amount in items:
        led.add_fixed(phase, "item", amount, category=cat)
    t = led.by_phase_category(totals=True)
    total = led.total()
    assert t.loc["total", "total"] == pytest.approx(total, rel=1e-9, abs=1e-6)
    assert led.by_category().sum() == pytest.approx(total, rel=1e-9, abs=1e-6)
    assert led.by_phase().sum() == pytest.approx(total, rel=1e-9, abs=1e-6)
    assert (t.to_numpy() >= 0).all()
    assert led.cash_total() == pytest.approx(total - led.by_category()["time"], rel=1e-9,
                                             abs=1e-6)


def test_what_is_left_out_costs_nothing():
    """Storage left out of ``phase_cost``, and a phase without hours in ``four_part_ledger``,
    are 0, not some default amount."""
    from costkit.ledger import four_part_ledger, phase_cost

    assert phase_cost(10, 2) == 20.0
    assert phase_cost(10, 2, usd_per_gb_month=0.5, storage_months=3) == 20.0  # no GB kept
    assert phase_cost(10, 2, storage_gb=100, storage_months=3) == 20.0  # storage unpriced
    assert phase_cost(10, 2, storage_gb=100, usd_per_gb_month=0.5) == 20.0  # kept no month
    assert phase_cost(10, 2, storage_gb=100, usd_per_gb_month=0.5, storage_months=3) == 170.0
    led = four_part_ledger({"train": 2}, {"train": 3, "tune": 5}, {})
    assert led.total() == 6.0  # tune has a rate and no hours
    assert led.by_phase()["tune"] == 0.0
