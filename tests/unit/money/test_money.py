"""messaging.money: exponents, the one display style, exact conversions and parsing back."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from messaging.money import Money, exponent, format_money, parse_money, to_decimal, to_minor


@pytest.mark.parametrize(
    ("currency", "digits"),
    [
        ("jpy", 0),
        ("KRW", 0),
        ("clp", 0),
        ("mga", 0),  # Stripe's zero-decimal list (ISO says 2)
        ("isk", 2),  # Stripe keeps ISK two-decimal in its API (ISO says 0)
        ("eur", 2),
        ("usd", 2),
        ("chf", 2),
        ("kwd", 3),
        ("bhd", 3),
        ("jod", 3),
        ("omr", 3),
        ("tnd", 3),
        ("iqd", 3),
        ("lyd", 3),
        ("clf", 4),
    ],
)
def test_exponents_follow_iso_4217_and_stripe(currency: str, digits: int) -> None:
    assert exponent(currency) == digits


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (1250, "jpy", "¥1,250"),
        (1250, "eur", "€12.50"),
        (12500, "kwd", "KWD 12.500"),
        (5, "usd", "$0.05"),
        (123456789, "gbp", "£1,234,567.89"),
        (1500, "chf", "CHF 15.00"),
        (1234567, "krw", "KRW 1,234,567"),
        (1234567, "bhd", "BHD 1,234.567"),
        (12500, "isk", "ISK 125"),
        (12550, "isk", "ISK 125.50"),  # a fraction Stripe should not allow is shown, never hidden
        (-250, "eur", "-€2.50"),
        (-1500, "kwd", "-KWD 1.500"),
        (0, "jpy", "¥0"),
        (10000, "clf", "CLF 1.0000"),
    ],
)
def test_one_display_style(amount: int, currency: str, text: str) -> None:
    assert format_money(amount, currency) == text
    assert str(Money(amount, currency)) == text
    assert parse_money(text) == Money(amount, currency)


def test_conversions_are_exact() -> None:
    assert to_decimal(12500, "kwd") == Decimal("12.500")
    assert to_minor("12.5", "kwd") == 12500
    assert to_minor(Decimal("0.1"), "eur") == 10
    assert to_minor(1250, "jpy") == 1250
    with pytest.raises(ValueError, match="more decimals"):
        to_minor("12.5", "jpy")
    with pytest.raises(ValueError, match="more decimals"):
        to_minor("0.001", "eur")
    with pytest.raises(ValueError, match="not a number"):
        to_minor("twelve", "eur")
    with pytest.raises(ValueError, match="finite"):
        to_minor("NaN", "eur")


@pytest.mark.parametrize(
    ("text", "currency", "money"),
    [
        ("12.500 KWD", None, Money(12500, "KWD")),
        ("12.5", "kwd", Money(12500, "KWD")),
        ("1,250", "jpy", Money(1250, "JPY")),
        ("  €12.50 ", "eur", Money(1250, "EUR")),
        ("eur 12.50", None, Money(1250, "EUR")),
        ("- €2.50", None, Money(-250, "EUR")),
    ],
)
def test_parsing_reads_the_style_and_bare_numbers(text: str, currency: str | None, money: Money) -> None:
    assert parse_money(text, currency) == money


@pytest.mark.parametrize(
    ("text", "currency", "error"),
    [
        ("12.50", None, "no currency"),
        ("€12.50", "usd", "is in EUR"),
        ("¥12.5", None, "more decimals"),
        ("KWD 1.2345", None, "more decimals"),
        ("KWD 1,2,3", None, "not an amount"),
        ("KWD 12.50.1", None, "not an amount"),
        ("€", None, "not an amount"),
    ],
)
def test_parsing_refuses_what_it_cannot_read_exactly(text: str, currency: str | None, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        parse_money(text, currency)


def test_a_currency_is_three_letters() -> None:
    with pytest.raises(ValueError, match="ISO 4217"):
        Money(1, "euro")
    with pytest.raises(ValueError, match="ISO 4217"):
        format_money(1, "")


@given(
    amount=st.integers(min_value=-(10**15), max_value=10**15),
    currency=st.sampled_from(["jpy", "eur", "usd", "gbp", "kwd", "chf", "krw", "bhd", "isk", "clf"]),
)
def test_every_formatted_amount_parses_back_to_itself(amount: int, currency: str) -> None:
    assert parse_money(format_money(amount, currency)) == Money(amount, currency)
