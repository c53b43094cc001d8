"""Numbers as English words: cardinals, ordinals, years, decimals, digit by digit.

The words come from ``num2words`` (which also speaks other languages); this module only fixes
the house style: American cardinals without "and" or commas (``one hundred one``, ``one
thousand five hundred``) and years as people say them (``nineteen oh five``, ``two thousand
five``).
"""

from __future__ import annotations

import re

from num2words import num2words

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
_DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def _house_style(words: str) -> str:
    """``one hundred and one`` -> ``one hundred one``; ``one thousand, five hundred`` ->
    ``one thousand five hundred``."""
    return re.sub(r"\s+and\s+", " ", words.replace(",", ""))


def number_to_words(n: int) -> str:
    """Cardinal number in English words: ``-42`` -> ``minus forty-two``."""
    return _house_style(num2words(int(n), lang="en"))


def ordinal_to_words(n: int) -> str:
    """Ordinal in words: ``3`` -> ``third``, ``21`` -> ``twenty-first``."""
    return _house_style(num2words(int(n), lang="en", to="ordinal"))


def digits_to_words(digits: str) -> str:
    """Digit by digit: ``"07"`` -> ``zero seven``."""
    return " ".join(_DIGITS[int(d)] for d in digits if d.isdigit() and d.isascii())


def decimal_to_words(text: str) -> str:
    """``3.14`` -> ``three point one four``; ``-0.5`` -> ``minus zero point five``."""
    sign = "minus " if text.startswith("-") else ""
    whole, _, frac = text.lstrip("+-").replace(",", "").partition(".")
    out = sign + number_to_words(int(whole or "0"))
    return out + (f" point {digits_to_words(frac)}" if frac else "")


def year_to_words(year: int) -> str:
    """A year as spoken: 1999 -> nineteen ninety-nine, 2005 -> two thousand five,
    1905 -> nineteen oh five, 1900 -> nineteen hundred, 2024 -> twenty twenty-four."""
    if year < 1000 or year >= 10000:
        return number_to_words(year)
    return _house_style(num2words(int(year), lang="en", to="year")).replace("oh-", "oh ")
