"""Speakable text in languages other than English, with the library that knows each language.

English keeps its own rules (:mod:`storyreel.text.spoken`, in house style). Any other language
goes through :data:`LOCAL_STEPS`:

- numbers, years, money: the written number is read with the language's separators (Babel,
  CLDR: ``1.500`` is fifteen hundred in German, ``3,5`` three and a half in Spanish) and said
  with num2words in the languages it speaks (its ``year`` form for years of German, French,
  Spanish, Portuguese, Russian; Japanese years are cardinals, since num2words names the era);
  money with num2words' currency names where they were checked (es, de, fr, pt, ru); in a
  language num2words does not speak (Hindi, Chinese) the digits are left to the voice, which
  reads them in its language (espeak-ng does);
- dates (``12/03/2024``, ``2024-03-12``; day first outside English): Babel's long form in the
  language (``12 de marzo de 2024``, ``2024年3月12日``), whose numbers are then said as above
  (German days as ordinals: ``zwölfter März``);
- abbreviations: a short table per language (:data:`ABBREVIATIONS`);
- sentences: sentencex (Wikimedia's segmenter: ~300 languages, CJK and Devanagari full stops,
  Arabic question marks); English keeps its own splitter, whose output English films depend on;
- what a voice cannot say (emoji, symbols) is dropped; letters, combining marks (Devanagari
  vowel signs), digits left to the voice, punctuation and currency signs stay.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from functools import cache
from typing import Any

from storyreel.text.markup import Change
from storyreel.text.spoken import (
    Expander,
    _substitute,
    expand_symbols,
    strip_markup_changes,
    tidy_punctuation,
)

# num2words' languages whose words were checked here (others are read by the voice)
NUMBER_LANGUAGES = ("ar", "de", "es", "fr", "ja", "pt", "ru", "it", "nl", "pl", "sv", "tr",
                    "uk", "cs", "da", "fi", "he", "ko", "no", "ro")
YEAR_LANGUAGES = ("de", "es", "fr", "pt", "ru", "it", "nl")
CURRENCY_LANGUAGES = ("de", "es", "fr", "pt", "ru")
CURRENCIES = {"R$": "BRL", "$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR"}
ABBREVIATIONS = {
    "es": {"Sr.": "Señor", "Sra.": "Señora", "Srta.": "Señorita", "Dr.": "Doctor",
           "Dra.": "Doctora", "etc.": "etcétera", "p. ej.": "por ejemplo"},
    "pt": {"Sr.": "Senhor", "Sra.": "Senhora", "Dr.": "Doutor", "Dra.": "Doutora",
           "etc.": "etcetera"},
    "fr": {"M.": "Monsieur", "Mme": "Madame", "Mlle": "Mademoiselle", "Dr": "Docteur",
           "etc.": "et cetera"},
    "de": {"z. B.": "zum Beispiel", "z.B.": "zum Beispiel", "Dr.": "Doktor", "Nr.": "Nummer",
           "usw.": "und so weiter", "bzw.": "beziehungsweise", "ca.": "circa"},
    "ru": {"т. е.": "то есть", "т. д.": "так далее", "г.": "года", "др.": "другие"},
}
AND = {"es": "y", "pt": "e", "fr": "et", "de": "und", "ru": "и", "it": "e", "hi": "और",
       "ar": "و", "ja": "と", "zh": "和"}
# a sentence's end, by script; the full stop a sentence without one gets
TERMINATORS = ".!?\u2026\u3002\uff01\uff1f\u0964\u0965\u061f\u06d4"
FULL_STOP = {"ja": "\u3002", "zh": "\u3002", "yue": "\u3002", "hi": "\u0964"}


def base(language: str) -> str:
    return language.split("-", 1)[0].lower()


@cache
def _locale(language: str) -> Any:
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(language, sep="-")
    except (UnknownLocaleError, ValueError):
        return Locale.parse(base(language))


def number_words(value: float | int, language: str, kind: str = "cardinal") -> str | None:
    """``value`` in words (num2words), or None where the language's digits are left to the
    voice."""
    from num2words import num2words

    lang = base(language)
    if lang not in NUMBER_LANGUAGES:
        return None
    code = "pt_BR" if language.lower() == "pt-br" else lang
    if kind == "year" and lang not in YEAR_LANGUAGES:
        kind = "cardinal"
    try:
        return str(num2words(value, lang=code, to=kind))
    except (NotImplementedError, OverflowError, ValueError, TypeError):
        return None


# a number not inside a Latin word (CJK text writes it between letters: 1500円)
_NUMBER = re.compile(r"(?<![A-Za-z0-9.,])-?\d{1,3}(?:[.,\u00a0\u202f ]\d{3})+(?:[.,]\d+)?"
                     r"(?![\d])|(?<![A-Za-z0-9.,])-?\d+(?:[.,]\d+)?(?![\d])")


def parse_number(written: str, language: str) -> float | int | None:
    """A written number in the language's separators (Babel), or None."""
    from babel.numbers import NumberFormatError, parse_decimal

    plain = written.replace("\u00a0", " ").replace("\u202f", " ")
    try:
        value = parse_decimal(plain, locale=_locale(language), strict=False)
    except (NumberFormatError, ValueError):
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def expand_local_numbers(language: str) -> Expander:
    def expand(text: str) -> tuple[str, list[Change]]:
        def replace(match: re.Match[str]) -> str | None:
            value = parse_number(match.group(0), language)
            if value is None:
                return None
            year = isinstance(value, int) and 1100 <= value <= 2099 and match.group(0).isdigit()
            return number_words(value, language, "year" if year else "cardinal")

        return _substitute(_NUMBER, "number", replace, text)

    return expand


_DATE_NUMERIC = re.compile(r"\b(\d{1,2})([/.])(\d{1,2})\2(\d{4})\b")
_DATE_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def spoken_date(day: int, month: int, year: int, language: str) -> str | None:
    """A date in the language's long form (Babel), its day said (an ordinal in German)."""
    from babel.dates import format_date

    try:
        written = format_date(datetime.date(year, month, day), format="long",
                              locale=_locale(language))
    except ValueError:
        return None
    if base(language) == "de":
        ordinal = number_words(day, language, "ordinal")
        if ordinal:
            written = re.sub(rf"\b{day}\.", ordinal, written, count=1)
    return written


def expand_local_dates(language: str) -> Expander:
    def expand(text: str) -> tuple[str, list[Change]]:
        out, changes = _substitute(_DATE_ISO, "date", lambda m: spoken_date(
            int(m.group(3)), int(m.group(2)), int(m.group(1)), language), text)
        out, found = _substitute(_DATE_NUMERIC, "date", lambda m: spoken_date(
            int(m.group(1)), int(m.group(3)), int(m.group(4)), language), out)
        return out, changes + found

    return expand


_MONEY = re.compile(r"(R\$|[$€£¥₹])\s?(\d[\d.,]*\d|\d)|(\d[\d.,]*\d|\d)\s?([$€£¥₹])")


def expand_local_currency(language: str) -> Expander:
    def expand(text: str) -> tuple[str, list[Change]]:
        from num2words import num2words

        def replace(match: re.Match[str]) -> str | None:
            sign = match.group(1) or match.group(4)
            value = parse_number(match.group(2) or match.group(3), language)
            if value is None or base(language) not in CURRENCY_LANGUAGES:
                return None
            try:
                return str(num2words(value, lang=base(language), to="currency",
                                     currency=CURRENCIES[sign]))
            except NotImplementedError:
                return None

        return _substitute(_MONEY, "currency", replace, text)

    return expand


def expand_local_abbreviations(language: str) -> Expander:
    table = ABBREVIATIONS.get(base(language), {})
    pattern = re.compile(r"(?<!\w)(" + "|".join(re.escape(a) for a in sorted(
        table, key=len, reverse=True)) + r")(?!\w)") if table else None

    def expand(text: str) -> tuple[str, list[Change]]:
        if pattern is None:
            return text, []
        return _substitute(pattern, "abbreviation", lambda m: table[m.group(1)], text)

    return expand


def expand_local_symbols(language: str) -> Expander:
    """Quotes, dashes, brackets and ellipses as in English; ``&`` as the language's "and"."""
    word = AND.get(base(language))

    def expand(text: str) -> tuple[str, list[Change]]:
        protected = text.replace("&", "\x00")
        out, changes = expand_symbols(protected)
        return out.replace("\x00", f" {word} " if word else " "), changes

    return expand


def remove_unsayable(text: str) -> tuple[str, list[Change]]:
    """Drop what no voice says (symbols, emoji, controls); keep letters, combining marks,
    digits, punctuation, currency and percent signs."""
    changes: list[Change] = []
    out = []
    for char in text:
        category = unicodedata.category(char)
        if char.isspace():
            out.append(" ")
        elif category[0] in "LMNP" or category == "Sc" or char == "%":
            out.append(char)
        else:
            out.append(" ")
            changes.append(Change("symbol", char, "(removed)"))
    return "".join(out), changes


def local_steps(language: str) -> tuple[Expander, ...]:
    """The speakable steps for a language other than English, in order: markup, symbols,
    abbreviations, dates, money, numbers, what cannot be said, spacing."""
    return (strip_markup_changes, expand_local_symbols(language),
            expand_local_abbreviations(language), expand_local_dates(language),
            expand_local_currency(language), expand_local_numbers(language), remove_unsayable,
            tidy_punctuation)


def split_local_sentences(text: str, language: str) -> list[str]:
    """Sentences of a paragraph in ``language`` (sentencex)."""
    import sentencex

    return [s.strip() for s in sentencex.segment(base(language), " ".join(text.split()))
            if s.strip()]


def end_sentence(sentence: str, language: str) -> str:
    """The sentence with a full stop of its script when it has no end mark."""
    if sentence and sentence[-1] in TERMINATORS:
        return sentence
    return sentence + FULL_STOP.get(base(language), ".")
