import numpy
import pytest

import costkit as ck


def test_rates_by_hand():
    # 2024-12-31 CFETS parity: 100 USD = 718.84 CNY, 100 EUR = 752.57 CNY
    assert ck.fx_rate("USD", "CNY", date="2024-12-31").rate == pytest.approx(7.1884)
    assert ck.fx_rate("USD", "EUR", date="2024-12-31").rate == pytest.approx(718.84 / 752.57)
    assert ck.fx_rate("usd", "usd").rate == 1.0


def test_date_selection():
    assert ck.fx_rate("USD", "EUR").date == "2026-01-27"  # newest by default
    assert ck.fx_rate("USD", "EUR", date="2025-12-31").date == "2025-09-01"
    # 2026-01-27 CFETS parity: 100 USD = 698.58 CNY, 100 EUR = 827.55 CNY
    assert ck.fx_rate("EUR", "USD").rate == pytest.approx(827.55 / 698.58)
    assert ck.fx_rate("USD", "EUR", date="2024-10-01").date == "2024-07-24"  # on or before
    with pytest.raises(LookupError, match="on or before 2020-01-01; the table starts 2024-07-24"):
        ck.fx_rate("USD", "EUR", date="2020-01-01")
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        ck.fx_rate("USD", "EUR", date="31/12/2024")


def test_round_trip():
    x = numpy.array([1.0, 250.0, 1e6])
    back = ck.convert(ck.convert(x, "USD", "JPY"), "JPY", "USD")
    numpy.testing.assert_allclose(back, x, rtol=1e-12)


def test_errors():
    with pytest.raises(KeyError, match="unknown currency 'EURO'"):
        ck.convert(1, "EURO", "USD")
    with pytest.raises(ValueError, match="amount must be >= 0"):
        ck.convert(-5, "USD", "EUR")
    with pytest.raises(ValueError, match="finite"):
        ck.convert(float("nan"), "USD", "EUR")


def test_user_table_with_another_numeraire(tmp_path):
    f = tmp_path / "ecb.csv"
    f.write_text("date,currency,rate,rate_currency,source\n"
                 "2025-01-02,USD,0.5,EUR,made-up table for the test\n"
                 "2025-01-02,GBP,1.25,EUR,made-up table for the test\n")
    assert ck.fx_rate("USD", "GBP", path=f).rate == pytest.approx(0.4)
    assert ck.fx_rate("USD", "EUR", path=f).rate == pytest.approx(0.5)
