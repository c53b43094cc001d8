"""Speakable text: written forms (symbols, abbreviations, dates, times, money, percentages,
years, ordinals, numbers) turned into the words a voice says.

Each expander is ``(text) -> (text, changes)``; :data:`SPEAKABLE_STEPS` runs them in an order
that matters (see its comment), and :func:`speakable` applies them all.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from storyreel.text.markup import Change, strip_markup
from storyreel.text.numbers import (
    MONTHS,
    decimal_to_words,
    digits_to_words,
    number_to_words,
    ordinal_to_words,
    year_to_words,
)
from storyreel.text.sentences import _ABBREV_RE, _CAN_END, ABBREVIATIONS, sentence_case

Expander = Callable[[str], tuple[str, list[Change]]]


def _substitute(pattern: re.Pattern[str], kind: str,
                replace: Callable[[re.Match[str]], str | None], text: str
                ) -> tuple[str, list[Change]]:
    """Apply ``replace`` to every match, recording a change for each real replacement.

    ``replace`` may return ``None`` to leave a match alone.
    """
    changes: list[Change] = []

    def sub(match: re.Match[str]) -> str:
        new = replace(match)
        if new is None or new == match.group(0):
            return match.group(0)
        changes.append(Change(kind, match.group(0), new))
        return new

    return pattern.sub(sub, text), changes


_FANCY = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'",
    "\u201c": "", "\u201d": "", "\u201e": "", "\u00ab": "", "\u00bb": "", '"': "",
    "\u2033": "", "&": " and ", "+": " plus ", "=": " equals ", "@": " at ",
}
_DASH = re.compile(r"\s*(?:\u2014|\u2013|\u2015|--+)\s*|\s+-\s+")
_ELLIPSIS = re.compile(r"\s*(?:\u2026|\.{3,})\s*(?=(\w?))")
_BRACKETS = re.compile(r"\s*[(\[{]\s*([^)\]}]*?)\s*[)\]}]")
_SLASH = re.compile(r"(?<=[^\W\d_])/(?=[^\W\d_])")


def expand_symbols(text: str) -> tuple[str, list[Change]]:
    """Plain quotes and punctuation: fancy quotes, dashes -> commas, ellipses, brackets,
    ``&`` ``+`` ``=`` ``@`` and ``/`` between words as words."""
    changes: list[Change] = []
    out, found = _substitute(_DASH, "symbol", lambda m: ", ", text)
    changes += found
    out, found = _substitute(
        _ELLIPSIS, "symbol", lambda m: ", " if m.group(1).islower() else ". ", out)
    changes += found
    out, found = _substitute(
        _BRACKETS, "symbol", lambda m: f", {m.group(1)}," if m.group(1) else "", out)
    changes += found
    out, found = _substitute(_SLASH, "symbol", lambda m: " or ", out)
    changes += found
    for char, plain in _FANCY.items():
        if char in out:
            changes.append(Change("symbol", char, plain.strip() or "(removed)"))
            out = out.replace(char, plain)
    return out, changes


def expand_abbreviations(text: str) -> tuple[str, list[Change]]:
    """``Dr.`` -> Doctor, ``St.`` -> Saint (before a name) or Street, ``e.g.`` -> for
    example, ``etc.`` -> et cetera (keeping a sentence-final full stop), …"""

    def replace(match: re.Match[str]) -> str:
        abbrev = match.group(1)
        key = abbrev.lower()
        rest = text[match.end():]
        spoken = ABBREVIATIONS[key]
        if key == "st." and not re.match(r"\s+[A-Z]", rest):
            spoken = "Street"
        if key == "no." and not re.match(r"\s*\d", rest):
            return abbrev
        if abbrev[0].isupper() and spoken[0].islower():
            spoken = sentence_case(spoken)
        ends_sentence = not rest.strip() or re.match(r"\s+[A-Z]", rest)
        if key in _CAN_END and ends_sentence and not (key == "st." and spoken == "Saint"):
            spoken += "."
        return spoken

    return _substitute(_ABBREV_RE, "abbreviation", replace, text)


_MONTH_RE = "|".join(MONTHS) + "|" + "|".join(m[:3] for m in MONTHS if len(m) > 3) + "|Sept"
_DATE_NUMERIC = re.compile(r"\b(\d{1,2})([/.])(\d{1,2})\2(\d{4}|\d{2})\b")
_DATE_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_YEAR_TAIL = r"(?:,?\s+(\d{4}))?"
_DATE_MDY = re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b" + _YEAR_TAIL)
_DATE_DMY = re.compile(
    rf"\b(?:(the)\s+)?(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?((?-i:{_MONTH_RE}))\.?\b"
    + _YEAR_TAIL,
    re.I,
)


def _month(name: str) -> str:
    key = name[:3].lower()
    return next(m for m in MONTHS if m[:3].lower() == key)


def _spoken_date(month: int, day: int, year: str | None) -> str | None:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    out = f"{MONTHS[month - 1]} {ordinal_to_words(day)}"
    if year:
        full = int(year) if len(year) == 4 else 2000 + int(year)
        out += f", {year_to_words(full)}"
    return out


def expand_dates(text: str) -> tuple[str, list[Change]]:
    """Dates as spoken English: ``12/03/2024`` (month first unless the first number is over
    12), ``2024-03-12``, ``March 3, 2024``, ``3rd of March``."""
    changes: list[Change] = []

    def numeric(m: re.Match[str]) -> str | None:
        first, second = int(m.group(1)), int(m.group(3))
        month, day = (second, first) if first > 12 else (first, second)
        return _spoken_date(month, day, m.group(4))

    out, found = _substitute(_DATE_NUMERIC, "date", numeric, text)
    changes += found
    out, found = _substitute(
        _DATE_ISO, "date",
        lambda m: _spoken_date(int(m.group(2)), int(m.group(3)), m.group(1)), out)
    changes += found
    out, found = _substitute(
        _DATE_MDY, "date",
        lambda m: _spoken_date(MONTHS.index(_month(m.group(1))) + 1, int(m.group(2)), m.group(3)),
        out)
    changes += found

    def dmy(m: re.Match[str]) -> str | None:
        day = int(m.group(2))
        if not 1 <= day <= 31:
            return None
        out = f"{m.group(1) or 'the'} {ordinal_to_words(day)} of {_month(m.group(3))}"
        return out + (f", {year_to_words(int(m.group(4)))}" if m.group(4) else "")

    out, found = _substitute(_DATE_DMY, "date", dmy, out)
    return out, changes + found


# "p.m." keeps its last dot only when that dot also ends the sentence.
_AMPM = r"\s*([ap])\.?\s?m\b(?:\.(?=\s*(?-i:[a-z,;:])))?"
_TIME = re.compile(r"\b(\d{1,2}):(\d{2})(?:" + _AMPM + ")?", re.I)
_TIME_AMPM = re.compile(r"\b(\d{1,2})" + _AMPM, re.I)


def _spoken_time(hour: int, minute: int, half: str | None) -> str | None:
    if hour > 23 or minute > 59 or (half and not 1 <= hour <= 12):
        return None
    if minute == 0:
        clock = f"{number_to_words(hour)} o'clock"
    elif minute < 10:
        clock = f"{number_to_words(hour)} oh {number_to_words(minute)}"
    else:
        clock = f"{number_to_words(hour)} {number_to_words(minute)}"
    if not half:
        return clock
    if hour == 12 and minute == 0:
        return "midnight" if half.lower() == "a" else "noon"
    if half.lower() == "a":
        return f"{clock} in the morning"
    part = "in the afternoon" if hour == 12 or hour < 6 else (
        "in the evening" if hour < 9 else "at night")
    return f"{clock} {part}"


def expand_times(text: str) -> tuple[str, list[Change]]:
    """Clock times: ``7:30 pm`` -> seven thirty in the evening, ``7:05`` -> seven oh five,
    ``6 am`` -> six o'clock in the morning, ``12 pm`` -> noon."""
    out, changes = _substitute(
        _TIME, "time",
        lambda m: _spoken_time(int(m.group(1)), int(m.group(2)), m.group(3)), text)
    out, found = _substitute(
        _TIME_AMPM, "time", lambda m: _spoken_time(int(m.group(1)), 0, m.group(2)), out)
    return out, changes + found


_CURRENCIES = {"$": ("dollar", "dollars", "cent", "cents"), "€": ("euro", "euros", "cent", "cents"),
               "£": ("pound", "pounds", "penny", "pence"), "¥": ("yen", "yen", "sen", "sen")}
_MULTIPLIERS = {"k": "thousand", "m": "million", "mn": "million", "bn": "billion",
                "b": "billion", "thousand": "thousand", "million": "million",
                "billion": "billion", "trillion": "trillion"}
_CURRENCY = re.compile(
    r"(-)?([$€£¥])\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?"
    r"(?:\s?(thousand|million|billion|trillion|bn|mn|k|m|b)\b)?",
    re.I,
)


def _amount(whole: str, frac: str | None, names: tuple[str, str, str, str],
            scale: str | None) -> str:
    unit, units, sub, subs = names
    number = int(whole.replace(",", ""))
    if scale:
        value = decimal_to_words(f"{number}.{frac}" if frac else str(number))
        return f"{value} {_MULTIPLIERS[scale.lower()]} {units}"
    out = f"{number_to_words(number)} {unit if number == 1 else units}"
    if frac and int(frac):
        cents = int((frac + "0")[:2])
        out += f" and {number_to_words(cents)} {sub if cents == 1 else subs}"
    return out


def expand_currency(text: str) -> tuple[str, list[Change]]:
    """Money: ``$5`` -> five dollars, ``€3.50`` -> three euros and fifty cents,
    ``£1m`` -> one million pounds."""

    def replace(m: re.Match[str]) -> str:
        spoken = _amount(m.group(3), m.group(4), _CURRENCIES[m.group(2)], m.group(5))
        return ("minus " if m.group(1) else "") + spoken

    return _substitute(_CURRENCY, "currency", replace, text)


_PERCENT = re.compile(r"(-?\d+(?:\.\d+)?)\s?(%|per ?cent\b)")


def expand_percent(text: str) -> tuple[str, list[Change]]:
    """``50%`` -> fifty percent, ``3.5 %`` -> three point five percent."""
    return _substitute(_PERCENT, "percent",
                       lambda m: f"{decimal_to_words(m.group(1))} percent", text)


_YEAR_CONTEXT = re.compile(
    r"\b(in|since|by|from|until|till|of|year|around|circa|early|late|mid|summer|winter|spring|"
    r"autumn|fall|before|after|during|" + _MONTH_RE + r")\s+(1[1-9]\d\d|20\d\d)\b(?![.,]\d)",
    re.I,
)
_YEAR_RANGE = re.compile(r"\b(1[1-9]\d\d|20\d\d)s\b")


def expand_years(text: str) -> tuple[str, list[Change]]:
    """Years after a cue word (``in 1999``, ``since 2005``, ``summer 1969``) and decades
    (``1990s`` -> nineteen nineties)."""
    out, changes = _substitute(
        _YEAR_CONTEXT, "year",
        lambda m: f"{m.group(1)} {year_to_words(int(m.group(2)))}", text)

    def decade(m: re.Match[str]) -> str:
        words = year_to_words(int(m.group(1)))
        return words[:-1] + "ies" if words.endswith("y") else words + "s"

    out, found = _substitute(_YEAR_RANGE, "year", decade, out)
    return out, changes + found


_ORDINAL = re.compile(r"\b(\d+)(st|nd|rd|th)\b", re.I)
_NUMBER = re.compile(r"(?<![\w.])(-|\u2212)?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?![\d])")


def expand_ordinals(text: str) -> tuple[str, list[Change]]:
    """``3rd`` -> third, ``21st`` -> twenty-first."""
    return _substitute(_ORDINAL, "ordinal", lambda m: ordinal_to_words(int(m.group(1))), text)


def expand_numbers(text: str) -> tuple[str, list[Change]]:
    """Cardinals, decimals and negative numbers; numbers over 15 digits are read digit by
    digit. ``1,500`` -> one thousand five hundred, ``-3`` -> minus three."""

    def replace(m: re.Match[str]) -> str:
        sign, whole, frac = m.group(1), m.group(2).replace(",", ""), m.group(3)
        if len(whole) > 15:
            return digits_to_words(whole)
        spoken = decimal_to_words(whole + (frac or ""))
        return ("minus " if sign else "") + spoken

    return _substitute(_NUMBER, "number", replace, text)


_ALLOWED_PUNCT = set(".,!?'-:; ")


def remove_unspeakable(text: str) -> tuple[str, list[Change]]:
    """Drop every character that is not a letter, a space or ``. , ! ? ' - : ;``
    (emoji, markup symbols, leftover digits are already words by now)."""
    changes: list[Change] = []
    out = []
    for char in text:
        if char.isalpha() or char in _ALLOWED_PUNCT:
            out.append(char)
        elif char.isspace():
            out.append(" ")
        elif unicodedata.category(char).startswith("N"):
            spoken = unicodedata.name(char, "").lower().replace("digit ", "")
            out.append(f" {spoken} " if spoken else " ")
            changes.append(Change("number", char, spoken or "(removed)"))
        else:
            out.append(" ")
            changes.append(Change("symbol", char, "(removed)"))
    return "".join(out), changes


_MARKUP_CHARS = re.compile(r"[*#_~|<>^\\]+")


def strip_markup_changes(text: str) -> tuple[str, list[Change]]:
    """Markup stripping as an expander: :func:`strip_markup` plus stray markup characters."""
    out = strip_markup(text)
    changes = [Change("markup", text, out)] if out != text else []
    out, found = _substitute(_MARKUP_CHARS, "markup", lambda m: " ", out)
    return out, changes + found


def tidy_punctuation(text: str) -> tuple[str, list[Change]]:
    """Collapse spaces, remove space before punctuation, doubled commas and leading commas."""
    out = " ".join(text.split())
    out = re.sub(r"\s+([.,!?;:])", r"\1", out)
    out = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", out)
    out = re.sub(r",\s*([.!?])", r"\1", out)
    out = re.sub(r"([.!?])\s*,", r"\1", out)
    out = re.sub(r"^[\s,;:.]+", "", out)
    out = re.sub(r"([,;:])(?=[^\s\d])", r"\1 ", out)
    out = out.strip()
    only_spacing = " ".join(text.split()) == out
    return out, ([Change("whitespace", text, out)] if out != text and not only_spacing else [])


# The order matters; each step relies on the ones before it:
#  1. strip_markup_changes  markup first, so "**$5**" is seen as "$5" and "#" is not a symbol;
#  2. expand_symbols        dashes, brackets, "&", "/" become words or commas before any number
#                           rule reads them ("(34)" -> ", 34,"; "Tokyo/Osaka" -> "Tokyo or Osaka");
#  3. expand_abbreviations  "Dr." and "No. 5" before the sentence splitter or numbers see the dot;
#  4. expand_dates          "12/03/2024", "March 3, 2024" before times, years and numbers take
#                           their parts;
#  5. expand_times          "7:30 pm" before "30" is read as a number;
#  6. expand_currency       "$1,200" and "£1m" before the number rule reads "1,200" alone;
#  7. expand_percent        "50%" before numbers, for the same reason;
#  8. expand_years          "in 1999", "1990s": a year only where a cue word says so, before the
#                           cardinal rule would say "one thousand nine hundred ninety-nine";
#  9. expand_ordinals       "21st" before "21" is a cardinal;
# 10. expand_numbers        every digit left is a cardinal or a decimal;
# 11. remove_unspeakable    after all words are made: drops what no rule turned into words;
# 12. tidy_punctuation      last: the commas and spaces the steps above left behind.
SPEAKABLE_STEPS: tuple[Expander, ...] = (
    strip_markup_changes, expand_symbols, expand_abbreviations, expand_dates, expand_times,
    expand_currency, expand_percent, expand_years, expand_ordinals, expand_numbers,
    remove_unspeakable, tidy_punctuation,
)


def speakable(text: str, language: str = "en") -> tuple[str, list[Change]]:
    """Run every expansion in order; in English the result holds only letters, spaces and
    ``. , ! ? ' - : ;``; other languages take their own steps
    (:func:`storyreel.text.locales.local_steps`). Returns the text and every change made."""
    from storyreel.text.locales import local_steps

    changes: list[Change] = []
    out = " ".join(text.split())
    english = language.split("-", 1)[0].lower() == "en"
    for step in SPEAKABLE_STEPS if english else local_steps(language):
        out, found = step(out)
        changes += found
    return out, changes
