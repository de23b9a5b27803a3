"""Quantities as written in Chinese reports → (low, high) bounds (rules.md §4.2)."""

import math

import pytest

from responder.classify.numerals import NumeralError, parse_plain, parse_quantity

INF = math.inf


@pytest.mark.parametrize("text,value", [
    ("12", 12), ("１２", 12), ("1.2万", 12_000), ("5000万", 50_000_000), ("1.2亿", 120_000_000),
    ("十二", 12), ("十", 10), ("三", 3), ("两", 2), ("俩", 2), ("两百", 200), ("一百零五", 105),
    ("一亿二千万", 120_000_000), ("三千万", 30_000_000), ("壹佰贰拾", 120), ("〇", 0), ("百", 100),
])
def test_exact_numbers_in_arabic_chinese_and_financial_forms(text, value):
    """Arabic, full-width, Chinese, 两/俩 and financial numerals read as their exact value."""
    assert parse_plain(text) == value
    q = parse_quantity(text)
    assert (q.low, q.high) == (value, value)


@pytest.mark.parametrize("text,low,high", [
    ("数十", 20, 99), ("几十", 20, 99), ("数百", 200, 999), ("数", 2, 9), ("几", 2, 9),
    ("多", 2, INF), ("若干", 2, INF), ("上百", 100, INF), ("上千", 1000, INF), ("百余", 101, 199),
    ("十几", 11, 19), ("二十几", 21, 29), ("三五", 3, 5), ("七八", 7, 8), ("一二十", 10, 20),
    ("近百", 90, 99), ("将近50", 45, 49), ("约30", 30, 36), ("30左右", 30, 36),
    ("10余", 11, 19), ("十余", 11, 19), ("10多", 11, 19), ("200多", 201, 299), ("130余", 131, 139),
    ("5000余万", 50_010_000, 59_990_000), ("1亿多", 100_000_001, 199_999_999), ("10多万", 110_000, 190_000),
    ("不足10", 1, 9), ("3至5", 3, 5), ("3-5", 3, 5), ("3~5", 3, 5), ("三到五", 3, 5),
])
def test_approximations_follow_the_table(text, low, high):
    """Vague and approximate counts map to the bounds of the rules.md §4.2 table."""
    q = parse_quantity(text)
    assert (q.low, q.high) == (low, high)


@pytest.mark.parametrize("text,low", [("至少3", 3), ("不少于10", 10), ("超过30", 31), ("逾100", 101), ("3以上", 3)])
def test_open_ended_counts_keep_the_stated_figure_and_say_it_may_rise(text, low):
    """至少/超过/以上 keep the written figure as the bound and are marked open (may still rise)."""
    q = parse_quantity(text)
    assert q.low == low and q.high == low and q.open


@pytest.mark.parametrize("bad", ["", "abc", "死亡", "五八九七x", "5至3"])
def test_non_numbers_raise_a_clear_error(bad):
    """Text that is not a quantity raises NumeralError, never a crash of another kind."""
    with pytest.raises(NumeralError):
        parse_quantity(bad)
