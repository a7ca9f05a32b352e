import pytest
from hypothesis import given
from hypothesis import strategies as st

from costkit.units import (
    HOURS_PER_MONTH,
    UnitError,
    conversion_factor,
    parse_price_unit,
    parse_unit,
)


@pytest.mark.parametrize(
    "text, scale, dims",
    [
        ("h", 1.0, (("time", 1),)),
        ("GPU-hours", 1.0, (("gpu", 1), ("time", 1))),
        ("GB-month", HOURS_PER_MONTH, (("data", 1), ("time", 1))),
        ("(GB*month)", HOURS_PER_MONTH, (("data", 1), ("time", 1))),
        ("TB", 1000.0, (("data", 1),)),
        ("GiB", 2**30 / 1e9, (("data", 1),)),
        ("1M tokens", 1e6, (("token", 1),)),
        ("1k requests", 1e3, (("request", 1),)),
        ("queries", 1.0, (("query", 1),)),
        ("kWh", 1.0, (("energy", 1),)),
        ("engineer-day", 24.0, (("engineer", 1), ("time", 1))),
        ("GB/h", 1.0, (("data", 1), ("time", -1))),
    ],
)
def test_parse_unit(text, scale, dims):
    u = parse_unit(text)
    assert u.scale == pytest.approx(scale) and u.dims == dims


@pytest.mark.parametrize("text", ["", "  ", "gb", "mb", "Gbps", "GB/", "h@r"])
def test_bad_units(text):
    with pytest.raises(UnitError):
        parse_unit(text)


def test_price_units():
    assert parse_price_unit("USD/GPU-hour")[0] == "USD"
    assert parse_price_unit("EUR per GB-month")[1].dims == (("data", 1), ("time", 1))
    with pytest.raises(UnitError, match="not a currency"):
        parse_price_unit("GB/h")
    with pytest.raises(UnitError, match="CURRENCY/unit"):
        parse_price_unit("cheap")


def test_conversion_factor_by_hand():
    assert conversion_factor("min", "h") == pytest.approx(1 / 60)
    assert conversion_factor("GB-day", "GB-month") == pytest.approx(24 / 730)
    assert conversion_factor("1000 requests", "1k requests") == 1.0
    assert conversion_factor("MWh", "kWh") == 1000.0


def test_gb_against_gb_month_is_refused_with_a_hint():
    with pytest.raises(UnitError, match="lacks time.*multiply the gigabytes"):
        conversion_factor("GB", "GB-month")
    with pytest.raises(UnitError, match="lacks gpu"):
        conversion_factor("hour", "GPU-hour")


words = st.sampled_from(["h", "day", "month", "GB", "TB", "GPU", "token", "kWh", "request"])


@given(st.lists(words, min_size=1, max_size=4))
def test_a_unit_converts_to_itself(parts):
    text = "-".join(parts)
    assert conversion_factor(text, text) == pytest.approx(1.0)


@given(words, words)
def test_conversion_is_reciprocal(a, b):
    try:
        f = conversion_factor(a, b)
    except UnitError:
        with pytest.raises(UnitError):
            conversion_factor(b, a)
        return
    assert f * conversion_factor(b, a) == pytest.approx(1.0)


@pytest.mark.parametrize("text, gb", [("Gb", 0.125), ("Gbit", 0.125), ("Mb", 1.25e-4),
                                      ("Tb", 125.0), ("kbit", 1.25e-7), ("bit", 1.25e-10),
                                      ("GB", 1.0), ("kB", 1e-6), ("MB", 1e-3), ("TB", 1e3)])
def test_bits_are_an_eighth_of_bytes(text, gb):
    u = parse_unit(text)
    assert u.dims == (("data", 1),) and u.scale == pytest.approx(gb, rel=1e-12)


def test_gigabits_priced_per_gigabyte():
    # 100 gigabits at 0.09 USD/GB is 12.5 GB: 1.125 USD, not 9.00
    from costkit.units import conversion_factor

    factor = conversion_factor(parse_unit("Gb"), parse_price_unit("USD/GB")[1])
    assert 100 * factor * 0.09 == pytest.approx(1.125)
