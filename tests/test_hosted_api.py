"""costkit.hosted_api: the price list, one API call by hand, buy or build in CNY and in USD."""

import csv

import numpy as np
import pytest

import costkit as ck
from costkit import hosted_api as ha
from costkit.capacity import DEFAULT_RESERVED_DISCOUNT
from costkit.units import HOURS_PER_MONTH

DAYS = HOURS_PER_MONTH / 24                       # 30.4167 days a month
COLUMNS = ["provider", "model", "currency", "input_per_million", "cached_input_per_million",
           "output_per_million", "price_date", "source", "note"]


def price_file(tmp_path, *rows, name="prices.csv"):
    path = tmp_path / name
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        w.writerows(rows)
    return path


@pytest.fixture
def replica():
    # a small replica at a round price: the fleet sits on its floor of 2 replicas up to
    # millions of requests a day, so its monthly cost is 2 x 730 h x 2.0 x (1 - 0.37)
    return ck.serving.estimate("llama-3-8b", batch_size=32, prompt_tokens=1000,
                               output_tokens=200, usd_per_gpu_hour=2.0)


FLOOR_USD = 2 * HOURS_PER_MONTH * 2.0 * (1 - DEFAULT_RESERVED_DISCOUNT)


# --------------------------------------------------------------------------- the list


def test_every_price_has_a_source_a_date_and_cached_below_input():
    p = ha.api_prices()
    assert {"CNY", "USD"} <= set(p["currency"])
    assert {"DeepSeek", "Alibaba Cloud", "OpenAI", "Anthropic", "Google"} <= set(p["provider"])
    assert (p["source"].str.len() > 20).all()
    assert (p["cached_input_per_million"] <= p["input_per_million"]).all()
    cny = p[p["currency"] == "CNY"].iloc[0]
    rate = ck.fx_rate("CNY", "USD", date=cny["price_date"]).rate
    assert cny["input_usd_per_million"] == pytest.approx(cny["input_per_million"] * rate)


def test_api_price_finds_any_case_and_suggests_close_names():
    assert ha.api_price("GPT-5-MINI").provider == "OpenAI"
    with pytest.raises(ck.UnknownNameError, match="Did you mean.*deepseek-v4-flash"):
        ha.api_price("deepseek-v4-flsh")


def test_api_price_on_a_date_takes_the_price_then_in_force(tmp_path):
    path = price_file(tmp_path,
                      ["DeepSeek", "deepseek-chat", "CNY", 1, 0.1, 2, "2024-08-02", "s", ""],
                      ["DeepSeek", "deepseek-chat", "CNY", 2, 0.5, 8, "2025-02-26", "s", ""])
    assert ha.api_price("deepseek-chat", path=path).output_per_million == 8
    assert ha.api_price("deepseek-chat", date="2024-12-31", path=path).output_per_million == 2
    # a price is in force from its own date on
    assert ha.api_price("deepseek-chat", date="2025-02-26", path=path).output_per_million == 8
    assert ha.api_price("deepseek-chat", date="2024-08-02", path=path).output_per_million == 2
    with pytest.raises(LookupError, match="on or before 2024-01-01"):
        ha.api_price("deepseek-chat", date="2024-01-01", path=path)


@pytest.mark.parametrize("row, words", [
    (["X", "m", "CNY", 1, 2, 3, "2025-01-01", "s", ""], "column 'cached_input_per_million'"),
    (["X", "m", "yuan", 1, 0.1, 3, "2025-01-01", "s", ""], "ISO 4217"),
    (["X", "m", "XYZ", 1, 0.1, 3, "2025-01-01", "s", ""], "unknown currency 'XYZ'"),
    (["X", "m", "USD", -1, 0, 3, "2025-01-01", "s", ""], "out of range"),
    (["X", "m", "USD", 1, 0.1, 0, "2025-01-01", "s", ""], "out of range"),
    (["X", "m", "USD", 1, 0.1, 3, "01/01/2025", "s", ""], "YYYY-MM-DD"),
    (["X", "m", "USD", 1, 0.1, 3, "2025-01-01", "", ""], "empty cell"),
])  # fmt: skip
def test_a_malformed_price_list_names_file_row_and_column(tmp_path, row, words):
    path = price_file(tmp_path, ["X", "ok", "USD", 1, 0.1, 3, "2025-01-01", "s", ""], row)
    with pytest.raises(ck.DataFileError, match=words) as err:
        ha.api_prices(path)
    assert str(path) in str(err.value) and "row 2" in str(err.value)


# --------------------------------------------------------------------------- one call


def test_api_cost_per_request_by_hand():
    # 1,000 prompt tokens, half cached, 200 out at 2 / 0.5 / 8 CNY per 1M (DeepSeek-V3, 2025)
    assert ha.api_cost_per_request(1000, 200, 0.5, 2, 0.5, 8) == pytest.approx(2.85e-3)
    # no cache: every prompt token at the input price
    assert ha.api_cost_per_request(1000, 200, 0.0, 2, 0.5, 8) == pytest.approx(3.6e-3)
    np.testing.assert_allclose(ha.api_cost_per_request(np.array([100, 1000]), 10, 0, 1, 0, 1),
                               [1.1e-4, 1.01e-3])
    with pytest.raises(ValueError, match="fraction"):
        ha.api_cost_per_request(1000, 200, 60, 2, 0.5, 8)


# --------------------------------------------------------------------------- buy or build


def test_buy_or_build_in_cny_by_hand(tmp_path, replica):
    path = price_file(tmp_path, ["DeepSeek", "deepseek-chat", "CNY", 2, 0.5, 8, "2025-02-26",
                                 "DeepSeek pricing page, 2025-02-26", ""])
    r = ha.buy_or_build("deepseek-chat", replica, 1e5, cached_share=0.5, currency="CNY",
                        requests_per_search=0.5, api_price_path=path)
    usd_cny = ck.fx_rate("USD", "CNY").rate
    per_request = (500 * 2 + 500 * 0.5 + 200 * 8) / 1e6          # 2.85e-3 CNY
    assert r.api_per_request == pytest.approx(per_request)
    assert r.api_per_month == pytest.approx(per_request * 1e5 * DAYS)          # 8,668.75 CNY
    searches_k = 1e5 / 0.5 * DAYS / 1e3
    assert r.api_per_1k_searches == pytest.approx(r.api_per_month / searches_k)
    assert r.self_per_month == pytest.approx(FLOOR_USD * usd_cny)
    assert r.self_per_1k_searches == pytest.approx(r.self_per_month / searches_k)
    # break-even: the API's monthly cost reaches the fleet's floor
    want = FLOOR_USD * usd_cny / (per_request * DAYS)
    assert r.break_even_requests_per_day == pytest.approx(want, rel=1e-9)
    assert r.cheaper == "API" and r.currency == "CNY"
    assert "self-hosted USD at 1 USD" in r.assumptions["exchange"]
    assert "API price at" not in r.assumptions["exchange"]         # already in CNY


def test_buy_or_build_in_usd_by_hand(tmp_path, replica):
    path = price_file(tmp_path, ["Acme", "acme-large", "USD", 3, 0.3, 15, "2026-11-01",
                                 "Acme price page", ""])
    r = ha.buy_or_build("acme-large", replica, 2e5, api_price_path=path)
    per_request = (1000 * 3 + 200 * 15) / 1e6                     # 6e-3 USD, nothing cached
    assert r.api_per_month == pytest.approx(per_request * 2e5 * DAYS)          # 36,500 USD
    assert r.self_per_month == pytest.approx(FLOOR_USD)                         # 1,839.6 USD
    assert r.api_per_1k_searches == pytest.approx(per_request * 1e3)
    assert r.break_even_requests_per_day == pytest.approx(FLOOR_USD / (per_request * DAYS))
    assert r.cheaper == "self-hosted"
    assert r.assumptions["exchange"] == "none: every price is in USD"
    c = r.curve                                  # what the notebook's chart draws
    assert (np.diff(c["api_per_month"]) > 0).all()
    assert c["self_per_month"].iloc[0] == pytest.approx(FLOOR_USD)
    assert (c["self_per_month_low"] <= c["self_per_month"]).all()
    assert "api_price_warning" not in r.assumptions          # 36 days old on the notebooks' day


def test_the_api_in_another_currency_converts_at_its_price_date(tmp_path, replica):
    path = price_file(tmp_path, ["DeepSeek", "deepseek-chat", "CNY", 2, 0.5, 8, "2024-09-30",
                                 "s", ""])
    r = ha.buy_or_build("deepseek-chat", replica, 1e5, api_price_path=path)
    rate = ck.fx_rate("CNY", "USD", date="2024-09-30").rate
    assert r.api_per_request == pytest.approx(3.6e-3 * rate)
    assert "rate of 2024-0" in r.assumptions["exchange"]


def test_a_cheap_api_never_breaks_even_and_says_so(tmp_path, replica):
    path = price_file(tmp_path, ["X", "tiny", "USD", 0.001, 0.0, 0.001, "2026-11-01", "s", ""])
    r = ha.buy_or_build("tiny", replica, 1e6, api_price_path=path)
    assert r.break_even_requests_per_day is None and r.cheaper == "API"
    assert "never below the bound" in repr(r)


def test_old_prices_warn(tmp_path, replica):
    path = price_file(tmp_path, ["X", "old", "USD", 1, 0.1, 2, "2024-01-01", "s", ""])
    r = ha.buy_or_build("old", replica, 1e5, api_price_path=path)
    assert "days old" in r.assumptions["api_price_warning"]
    assert "WARNING" in repr(r)


@pytest.mark.parametrize("kw, words", [
    (dict(requests_per_day=1e12), "at most 1e\\+09"),
    (dict(requests_per_day=0), "> 0"),
    (dict(requests_per_day=float("nan")), "finite"),
    (dict(cached_share=1.5), "fraction"),
    (dict(currency="yuan"), "ISO 4217"),
    (dict(requests_per_search=0), "> 0"),
])  # fmt: skip
def test_bad_input_is_refused(replica, kw, words):
    args = {"requests_per_day": 1e5, **kw}
    with pytest.raises((ValueError, TypeError), match=words):
        ha.buy_or_build("gpt-5-mini", replica, **args)


def test_serving_must_be_one_llm_replica():
    sweep = ck.serving.estimate("llama-3-8b", batch_size=np.array([1, 8]), usd_per_gpu_hour=2.0)
    with pytest.raises(TypeError, match="one LLM replica"):
        ha.buy_or_build("gpt-5-mini", sweep, 1e5)


def test_to_dict_round_trips_the_figures(replica):
    r = ha.buy_or_build("gpt-5-mini", replica, 1e5)
    d = r.to_dict()
    assert d["api_per_month"] == r.api_per_month and d["api"]["currency"] == "USD"


def test_break_even_by_hand_on_the_grid():
    """Self-hosting that costs what the API costs is 'no dearer': it breaks even at once."""
    api = ha._GRID * 1e-3 * DAYS
    assert ha._break_even(api.copy(), 1e-3) == ha._GRID[0]
    assert ha._break_even(api * 2, 1e-3) is None            # always dearer
    flat = np.full(ha._GRID.size, api[10])                  # the API's cost at grid point 10
    assert ha._break_even(flat, 1e-3) == pytest.approx(ha._GRID[10], rel=1e-12)
    halfway = np.full(ha._GRID.size, (api[10] + api[11]) / 2)  # linear between 10 and 11
    assert ha._break_even(halfway, 1e-3) == pytest.approx((ha._GRID[10] + ha._GRID[11]) / 2)


def test_the_fleets_cost_range_gives_a_range_of_break_evens(tmp_path, replica):
    """Above its floor the fleet's cost has a range (the replica's throughput range), and
    so has the break-even: the cheap end crosses first. Each bound is its own curve's."""
    path = price_file(tmp_path, ["X", "cheap", "USD", 0.05, 0.005, 0.25, "2026-11-01", "s", ""])
    r = ha.buy_or_build("cheap", replica, 1e7, api_price_path=path)
    low, mid, high = (r.break_even_requests_per_day_low, r.break_even_requests_per_day,
                      r.break_even_requests_per_day_high)
    assert low < mid < high
    assert r.self_per_month_low < r.self_per_month < r.self_per_month_high
    c = r.curve
    for col, want in (("self_per_month_low", low), ("self_per_month", mid),
                      ("self_per_month_high", high)):
        assert ha._break_even(c[col].to_numpy(), r.api_per_request) == pytest.approx(want)
