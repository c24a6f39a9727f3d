"""Money in one place: minor units, their ISO 4217 exponents, one display style, and parsing back.

Amounts travel as integers in the currency's minor unit, exactly as Stripe takes and reports them
(`amount`, `unit_amount`): 1250 EUR is €12.50, 1250 JPY is ¥1,250, 12500 KWD is KWD 12.500.

The exponent tables follow ISO 4217, with Stripe's API where the two differ, since our minor units
are Stripe's amounts:
- zero decimals: ISO 4217's (BIF, CLP, DJF, GNF, ISK, JPY, KMF, KRW, PYG, RWF, UGX, UYI, VND, VUV,
  XAF, XOF, XPF) and Stripe's zero-decimal list, which adds MGA; except ISK, which Stripe keeps as a
  two-decimal currency in its API (100 = 1 króna, amounts in whole krónur): it is *shown* with no
  decimals while its amounts stay in hundredths;
- three decimals: BHD, IQD, JOD, KWD, LYD, OMR, TND (ISO 4217; Stripe charges the first, third,
  fourth, sixth and seventh of them);
- four decimals: CLF, UYW (ISO 4217; not charged by Stripe);
- every other code has two.

The one display style (shop pages, e-mails and the PDF invoice alike), English number format:
- a symbol before the number for the four currencies whose symbol is unambiguous in this shop:
  €12.50, $12.50 (USD), £12.50, ¥1,250 (JPY);
- otherwise the ISO code, a space, the number: KWD 12.500, CHF 12.50, KRW 1,250;
- comma thousands separators, a point before the decimals, always exactly the currency's decimals;
- a minus sign in front of everything: -€2.50, -KWD 1.500.

`parse_money` reads this style back (and a bare number with a given currency), and refuses more
decimals than the currency has rather than rounding money.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

ZERO_DECIMAL = frozenset(
    {
        *("BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF"),
        *("UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"),
    }
)
THREE_DECIMAL = frozenset({"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"})
FOUR_DECIMAL = frozenset({"CLF", "UYW"})
# Shown with fewer decimals than their minor unit has (Stripe's special cases); amounts are whole.
_DISPLAY_DECIMALS = {"ISK": 0}
SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}
_BY_SYMBOL = {symbol: code for code, symbol in SYMBOLS.items()}
_CODE = re.compile(r"[A-Za-z]{3}")
_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})*(?:\.\d+)?|\d+(?:\.\d+)?")


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in minor units of an ISO 4217 currency (upper case)."""

    amount: int
    currency: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "currency", currency_code(self.currency))

    def __str__(self) -> str:
        return format_money(self.amount, self.currency)


def currency_code(currency: str) -> str:
    """The ISO 4217 code in upper case ('eur' -> 'EUR'); ValueError unless three letters."""
    if not _CODE.fullmatch(currency):
        raise ValueError(f"not an ISO 4217 currency code: {currency!r}")
    return currency.upper()


def exponent(currency: str) -> int:
    """Decimal places of the currency's minor unit: how many minor units make one major unit (10**n)."""
    code = currency_code(currency)
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    if code in FOUR_DECIMAL:
        return 4
    return 2


def to_decimal(amount: int, currency: str) -> Decimal:
    """Minor units to the exact major-unit value: to_decimal(12500, 'kwd') == Decimal('12.500')."""
    return Decimal(amount).scaleb(-exponent(currency))


def to_minor(value: Decimal | str | int, currency: str) -> int:
    """Major units to minor units, exactly; ValueError when it has more decimals than the currency."""
    try:
        number = Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {value!r}") from exc
    if not number.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    minor = number.scaleb(exponent(currency))
    if minor != minor.to_integral_value():
        raise ValueError(f"{value} has more decimals than {currency_code(currency)} has")
    return int(minor)


def format_money(amount: int, currency: str) -> str:
    """Minor units in the one display style: ¥1,250, €12.50, KWD 12.500, -£2.50."""
    code = currency_code(currency)
    digits = exponent(code)
    shown = _DISPLAY_DECIMALS.get(code, digits)
    if amount % 10 ** (digits - shown):
        shown = digits  # a fraction the display style hides would be a lie: show it
    number = f"{abs(to_decimal(amount, code)):,.{shown}f}"
    sign = "-" if amount < 0 else ""
    symbol = SYMBOLS.get(code)
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{code} {number}"


def parse_money(text: str, currency: str | None = None) -> Money:
    """The display style read back: parse_money('KWD 12.500') == Money(12500, 'KWD').

    Also '12.500 KWD' and a bare number when `currency` is given; a symbol or code in the text must
    agree with `currency` when both are there. ValueError on anything else, and on more decimals
    than the currency has (no rounding)."""
    rest = text.strip()
    negative = rest.startswith("-")
    rest = rest.removeprefix("-").strip()
    found, rest = _take_currency(rest)
    if found and currency and found != currency_code(currency):
        raise ValueError(f"{text!r} is in {found}, not {currency_code(currency)}")
    code = found or (currency_code(currency) if currency else None)
    if code is None:
        raise ValueError(f"no currency in {text!r}")
    if not _NUMBER.fullmatch(rest):
        raise ValueError(f"not an amount: {text!r}")
    minor = to_minor(rest.replace(",", ""), code)
    return Money(-minor if negative else minor, code)


def _take_currency(text: str) -> tuple[str | None, str]:
    """The currency named by a leading symbol, a leading code or a trailing code, and the rest."""
    if text[:1] in _BY_SYMBOL:
        return _BY_SYMBOL[text[:1]], text[1:].strip()
    head, _, tail = text.partition(" ")
    if _CODE.fullmatch(head) and tail:
        return head.upper(), tail.strip()
    body, _, last = text.rpartition(" ")
    if _CODE.fullmatch(last) and body:
        return last.upper(), body.strip()
    return None, text
