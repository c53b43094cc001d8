"""Shared text utilities: markup stripping, sentences and words, names, language, speakable text.

This module is the one place where storyreel splits text into paragraphs, sentences and words,
strips markup, guesses the language, finds proper names, and turns written forms into spoken
words (numbers, ordinals, years, dates, times, currencies, percentages, abbreviations, symbols).
Everything here is pure and deterministic.

The speakable transforms return the new text and a list of :class:`Change` records so that the
revise stage can log every edit it makes.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

# --------------------------------------------------------------------------------------------
# Markup and whitespace


@dataclass(frozen=True)
class Change:
    """One edit made to a text: its kind (see revised.schema.yaml) and the fragments."""

    kind: str
    before: str
    after: str


_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MD_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_MD_LINK_DEF = re.compile(r"^\s*\[[^\]]+\]:\s*\S+.*$", re.M)
_HTML_BREAK = re.compile(r"<\s*(br|/p|p|/div|div|/li|/h[1-6])\b[^>]*>", re.I)
_HTML_TAG = re.compile(r"<!--.*?-->|<[^>]{1,200}>", re.S)
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*(.*?)\s*#*\s*$", re.M)
_SETEXT = re.compile(r"^\s*(=+|-+)\s*$", re.M)
_BULLET = re.compile(r"^\s*(?:[-*+\u2022]|\d{1,3}[.)])\s+", re.M)
_QUOTE = re.compile(r"^\s*>+\s?", re.M)
_FENCE = re.compile(r"^\s*(```|~~~).*$", re.M)
_EMPHASIS = (
    re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"),
    re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?!\w)"),
    re.compile(r"(?<![\w_])_(?=\S)(.+?)(?<=\S)_(?!\w)"),
    re.compile(r"~~(?=\S)(.+?)(?<=\S)~~"),
    re.compile(r"`([^`]+)`"),
)


def strip_markup(text: str) -> str:
    """Remove Markdown and HTML markup, keeping the words and the paragraph breaks.

    Headings, bullets, block quotes, emphasis, code spans, links and images become plain
    text; HTML tags are dropped (block tags become line breaks) and entities decoded.
    """
    out = text.replace("\r\n", "\n").replace("\r", "\n")
    out = _FENCE.sub("", out)
    out = _HTML_BREAK.sub("\n", out)
    out = _HTML_TAG.sub("", out)
    out = html.unescape(out)
    out = _MD_IMAGE.sub(r"\1", out)
    out = _MD_LINK.sub(r"\1", out)
    out = _MD_REF_LINK.sub(r"\1", out)
    out = _MD_LINK_DEF.sub("", out)
    out = _HEADING.sub(lambda m: _end_heading(m.group(1)), out)
    out = _SETEXT.sub("", out)
    out = _QUOTE.sub("", out)
    out = _BULLET.sub("", out)
    for pattern in _EMPHASIS:
        out = pattern.sub(lambda m: m.group(m.lastindex or 1), out)
    return out


def _end_heading(title: str) -> str:
    """A heading becomes its own paragraph, ending with a full stop."""
    title = title.strip()
    if title and title[-1] not in ".!?:":
        title += "."
    return f"\n{title}\n"


def normalise_whitespace(text: str, keep_paragraphs: bool = True) -> str:
    """Collapse runs of spaces; keep blank-line paragraph breaks when asked.

    Single line breaks inside a paragraph become spaces; two or more become one blank line.
    """
    paragraphs = split_paragraphs(text) if keep_paragraphs else [text]
    cleaned = [" ".join(p.split()) for p in paragraphs]
    return "\n\n".join(p for p in cleaned if p)


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs separated by one or more blank lines, stripped, empty ones dropped."""
    parts = re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n"))
    return [" ".join(p.split()) for p in parts if p.strip()]


# --------------------------------------------------------------------------------------------
# Sentences and words

ABBREVIATIONS = {
    "dr.": "Doctor", "mr.": "Mister", "mrs.": "Missus", "ms.": "Miz", "prof.": "Professor",
    "capt.": "Captain", "lt.": "Lieutenant", "sgt.": "Sergeant", "col.": "Colonel",
    "gen.": "General", "rev.": "Reverend", "jr.": "Junior", "sr.": "Senior",
    "mt.": "Mount", "ft.": "Fort", "ave.": "Avenue", "rd.": "Road", "no.": "number",
    "etc.": "et cetera", "e.g.": "for example", "i.e.": "that is", "vs.": "versus",
    "approx.": "approximately", "st.": "Saint",
}
# Abbreviations that may end a sentence (so their full stop can also be the sentence's).
_CAN_END = {"etc.", "jr.", "sr.", "rd.", "ave."}
_ABBREV_RE = re.compile(
    r"(?<![\w.])("
    + "|".join(re.escape(a) for a in sorted(ABBREVIATIONS, key=len, reverse=True))
    + r")(?=\s|$|[,;:)])",
    re.I,
)
_SENTENCE_END = re.compile(
    r"([.!?]+|\u2026)([\"'\u201d\u2019)\]]*)(\s+)(?=[\"'\u201c\u2018(\[]?[A-Z0-9])"
)


def split_sentences(text: str) -> list[str]:
    """Split a paragraph into sentences.

    A sentence ends at ``.``, ``!``, ``?`` or an ellipsis followed by a capital letter or a
    digit; known abbreviations (``Dr.``, ``e.g.``, …), initials and decimals do not end one.
    """
    flat = " ".join(text.split())
    if not flat:
        return []
    protected = _ABBREV_RE.sub(lambda m: m.group(1).replace(".", "\x00"), flat)
    protected = re.sub(r"\b([A-Z])\.(?=\s[A-Z])", "\\1\x00", protected)
    pieces = _SENTENCE_END.sub(lambda m: m.group(1) + m.group(2) + "\n", protected).split("\n")
    return [p.replace("\x00", ".").strip() for p in pieces if p.strip()]


_WORD = re.compile(r"[^\W_]+(?:['\u2019\-.][^\W_]+)*", re.UNICODE)


def tokenize(text: str) -> list[str]:
    """Words of a text: runs of letters/digits, keeping inner apostrophes, hyphens, decimals."""
    return _WORD.findall(text)


def word_count(text: str) -> int:
    """Number of words as :func:`tokenize` sees them."""
    return len(tokenize(text))


def sentence_case(text: str) -> str:
    """Upper-case the first letter of a text, leaving the rest alone."""
    for i, char in enumerate(text):
        if char.isalpha():
            return text[:i] + char.upper() + text[i + 1:]
    return text


_SMALL_WORDS = {"a", "an", "and", "as", "at", "but", "by", "for", "in", "of", "on", "or",
                "the", "to", "with", "from"}


def title_case(text: str) -> str:
    """Title Case with small words kept lower-case (except the first and last)."""
    words = text.split()
    out = []
    for i, word in enumerate(words):
        keep_small = 0 < i < len(words) - 1 and word.lower() in _SMALL_WORDS
        if keep_small:
            out.append(word.lower())
        else:
            out.append("-".join(sentence_case(part) for part in word.split("-")))
    return " ".join(out)


# --------------------------------------------------------------------------------------------
# Language and names

STOPWORDS = {
    "en": {"the", "and", "of", "to", "a", "in", "is", "it", "that", "was", "he", "she", "for",
           "on", "with", "as", "his", "her", "they", "at", "be", "this", "from", "but", "not"},
    "fr": {"le", "la", "les", "et", "de", "des", "un", "une", "est", "dans", "que", "qui", "il",
           "elle", "pour", "pas", "sur", "au", "du", "avec", "ne", "se", "son", "sa"},
    "de": {"der", "die", "das", "und", "ist", "nicht", "ein", "eine", "zu", "den", "mit", "sich",
           "des", "auf", "dem", "im", "er", "sie", "es", "war", "auch", "nach", "wie"},
    "es": {"el", "la", "los", "las", "y", "de", "que", "en", "un", "una", "es", "por", "con",
           "para", "su", "se", "del", "al", "lo", "como", "pero", "sus", "le"},
    "it": {"il", "la", "che", "e", "di", "un", "una", "per", "non", "sono", "della", "con",
           "del", "gli", "le", "si", "lo", "nel", "ma", "anche", "come", "era", "alla"},
}


def detect_language(text: str, min_hits: int = 3) -> str | None:
    """Guess en/fr/de/es/it from stop-word counts; ``None`` when too little evidence.

    The winner needs ``min_hits`` stop words and a clear lead (at least 1.5 times the
    runner-up).
    """
    words = [w.lower() for w in tokenize(text)]
    scores = sorted(
        ((sum(1 for w in words if w in stops), lang) for lang, stops in STOPWORDS.items()),
        reverse=True,
    )
    (best, lang), (second, _) = scores[0], scores[1]
    if best < min_hits or best < 1.5 * second:
        return None
    return lang


_NOT_NAMES = {
    "a", "an", "the", "one", "every", "each", "on", "in", "at", "but", "and", "so", "then",
    "when", "after", "before", "as", "if", "by", "from", "with", "without", "this", "that",
    "there", "here", "his", "her", "their", "its", "he", "she", "they", "it", "we", "i", "you",
    "once", "now", "until", "while", "some", "all", "no", "not", "what", "who", "where", "why",
    "how", "only", "just", "even", "still", "yet", "for", "of", "to", "or", "nor", "my", "our",
    "your", "long", "late", "early", "soon", "later", "meanwhile", "suddenly", "finally",
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday",
    "saturday", "sunday", "mister", "missus", "doctor", "professor", "captain", "saint",
    "dr", "mr", "mrs", "ms", "prof", "capt", "st", "lt", "sgt", "col", "gen", "rev", "jr", "sr",
}
_CAP_RUN = re.compile(r"\b([A-Z][a-z'\u2019]+(?:[ -][A-Z][a-z'\u2019]+)*)\b")
_PLACE_PREPS = {"in", "at", "to", "from", "near", "across", "into", "through", "toward",
                "towards", "of", "over", "beyond"}


@dataclass(frozen=True)
class Name:
    """A proper name found in a text and whether it looks like a place."""

    text: str
    place: bool


def find_names(text: str) -> list[Name]:
    """Proper names in order of first appearance: runs of capitalised words.

    Words that are capitalised only because they start a sentence are ignored unless they
    appear capitalised elsewhere too; a name right after ``in``/``at``/``to``… is a place,
    a name after ``named``/``called`` is always a character.
    """
    names: dict[str, Name] = {}
    for sentence in split_sentences(text):
        for match in _CAP_RUN.finditer(sentence):
            candidate = _trim_name(match.group(1))
            if not candidate:
                continue
            before = sentence[:match.start()].split()
            prev = before[-1].lower().strip(",;:") if before else ""
            sentence_start = not before or before[-1][-1:] in "\"'\u201c:"
            if sentence_start and not _capitalised_elsewhere(text, candidate):
                continue
            is_place = prev in _PLACE_PREPS and prev not in {"named", "called"}
            if candidate not in names:
                names[candidate] = Name(candidate, is_place)
    return list(names.values())


def _trim_name(run: str) -> str:
    """Drop leading words that are not names (``On Tuesday Mara`` -> ``Mara``)."""
    words = run.replace("-", " - ").split()
    while words and (words[0].lower() in _NOT_NAMES or words[0] == "-"):
        words.pop(0)
    while words and (words[-1].lower() in _NOT_NAMES or words[-1] == "-"):
        words.pop()
    return " ".join(words).replace(" - ", "-")


def _capitalised_elsewhere(text: str, word: str) -> bool:
    """Whether ``word`` appears capitalised somewhere that is not a sentence start."""
    for sentence in split_sentences(text):
        for match in re.finditer(rf"\b{re.escape(word)}\b", sentence):
            if match.start() > 0 and sentence[:match.start()].strip()[-1:] not in "\"'\u201c:":
                return True
    return False


# --------------------------------------------------------------------------------------------
# Numbers to words

_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
         "eighteen", "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = [(10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand")]
_ORDINAL_WORDS = {"one": "first", "two": "second", "three": "third", "five": "fifth",
                  "eight": "eighth", "nine": "ninth", "twelve": "twelfth"}
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]


def number_to_words(n: int) -> str:
    """Cardinal number in English words: ``-42`` -> ``minus forty-two``."""
    if n < 0:
        return "minus " + number_to_words(-n)
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_ONES[hundreds]} hundred" + (f" {number_to_words(rest)}" if rest else "")
    for scale, name in _SCALES:
        if n >= scale:
            high, rest = divmod(n, scale)
            return f"{number_to_words(high)} {name}" + (f" {number_to_words(rest)}" if rest else "")
    raise AssertionError("unreachable")  # pragma: no cover


def ordinal_to_words(n: int) -> str:
    """Ordinal in words: ``3`` -> ``third``, ``21`` -> ``twenty-first``."""
    words = number_to_words(n)
    head, sep, last = words.rpartition("-") if "-" in words.split()[-1] else words.rpartition(" ")
    if last in _ORDINAL_WORDS:
        last = _ORDINAL_WORDS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return head + sep + last


def digits_to_words(digits: str) -> str:
    """Digit by digit: ``"07"`` -> ``zero seven``."""
    return " ".join(_ONES[int(d)] for d in digits)


def decimal_to_words(text: str) -> str:
    """``3.14`` -> ``three point one four``; ``-0.5`` -> ``minus zero point five``."""
    sign = "minus " if text.startswith("-") else ""
    whole, _, frac = text.lstrip("+-").replace(",", "").partition(".")
    out = sign + number_to_words(int(whole or "0"))
    return out + (f" point {digits_to_words(frac)}" if frac else "")


def year_to_words(year: int) -> str:
    """A year as spoken: 1999 -> nineteen ninety-nine, 2005 -> two thousand five,
    1905 -> nineteen oh five, 1900 -> nineteen hundred, 2024 -> twenty twenty-four."""
    if year < 1000 or year >= 10000 or 2000 <= year < 2010:
        return number_to_words(year)
    high, low = divmod(year, 100)
    if low == 0:
        return f"{number_to_words(high)} hundred"
    if low < 10:
        return f"{number_to_words(high)} oh {number_to_words(low)}"
    return f"{number_to_words(high)} {number_to_words(low)}"


# --------------------------------------------------------------------------------------------
# Speakable text: each expansion is (text) -> (text, changes)

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


SPEAKABLE_STEPS: tuple[Expander, ...] = (
    strip_markup_changes, expand_symbols, expand_abbreviations, expand_dates, expand_times,
    expand_currency, expand_percent, expand_years, expand_ordinals, expand_numbers,
    remove_unspeakable, tidy_punctuation,
)


def speakable(text: str) -> tuple[str, list[Change]]:
    """Run every expansion in order; the result holds only letters, spaces and
    ``. , ! ? ' - : ;``. Returns the text and every change made."""
    changes: list[Change] = []
    out = " ".join(text.split())
    for step in SPEAKABLE_STEPS:
        out, found = step(out)
        changes += found
    return out, changes


# --------------------------------------------------------------------------------------------
# Long sentences

_CONJUNCTIONS = {"and", "but", "so", "yet", "or", "then"}


def _boundaries(words: list[str]) -> list[tuple[int, int]]:
    """Candidate cuts ``(index of the first word of the second part, strength)``."""
    cuts = []
    for i in range(1, len(words)):
        prev, word = words[i - 1], words[i].lower().strip(",;:")
        if prev.endswith((";", ":")):
            cuts.append((i, 3))
        elif prev.endswith(",") and word in _CONJUNCTIONS:
            cuts.append((i, 3))
        elif prev.endswith(","):
            cuts.append((i, 2))
        elif word in {"and", "but"}:
            cuts.append((i, 1))
    return cuts


def split_long_sentence(sentence: str, max_words: int) -> list[str]:
    """Split a sentence longer than ``max_words`` at clause boundaries (``;``, ``:``, a comma
    before a conjunction, a comma, a bare conjunction), recursively, preferring strong
    boundaries near the middle. Parts shorter than three words are never made. A sentence
    with no boundary is returned whole."""
    words = sentence.split()
    if len(words) <= max_words:
        return [sentence]
    cuts = [(i, s) for i, s in _boundaries(words) if 3 <= i <= len(words) - 3]
    if not cuts:
        return [sentence]
    middle = len(words) / 2
    index, _ = max(cuts, key=lambda c: (c[1] * len(words) / 4 - abs(c[0] - middle), -c[0]))
    first = " ".join(words[:index]).rstrip(",;:") + "."
    end = sentence.rstrip()[-1] if sentence.rstrip()[-1:] in ".!?" else "."
    rest = words[index:]
    if rest[0].lower() == "and" and len(rest) > 3:
        rest = rest[1:]  # "..., and she ran" -> "She ran"
    second = sentence_case(" ".join(rest))
    if second[-1:] not in ".!?":
        second += end
    return split_long_sentence(first, max_words) + split_long_sentence(second, max_words)


# --------------------------------------------------------------------------------------------
# Noun phrases (a light heuristic, no tagger)

ARTICLES = {"a", "an", "the"}
# Words that end a noun phrase: function words and the verbs premises tend to use.
PHRASE_STOP = _SMALL_WORDS | _NOT_NAMES | {
    "must", "will", "can", "could", "should", "would", "is", "are", "was", "were", "has", "have",
    "had", "be", "named", "called", "wants", "tries", "learns", "needs", "finds", "discovers",
    "sets", "decides", "dreams", "hopes", "meets", "loses", "goes", "comes", "gets", "makes",
    "takes", "becomes", "lives", "works", "fails", "falls", "breaks", "begins", "starts",
    "into", "onto", "upon", "under", "over", "above", "below", "behind", "beneath", "near",
    "across", "through", "inside", "outside", "toward", "towards", "between", "among",
    "beyond", "along", "around", "during", "about", "against", "aboard", "which", "whose",
}


def noun_phrase(words: list[str], start: int = 0, max_words: int = 4) -> str:
    """The phrase from ``words[start]`` (an article or not) up to the next stop word or
    punctuation, at most ``max_words`` words after the article; ``""`` when none."""
    out: list[str] = []
    i = start
    if i < len(words) and words[i].lower() in ARTICLES | {"one"}:
        out.append(words[i])
        i += 1
    taken = 0
    while i < len(words) and taken < max_words:
        word = words[i]
        bare = word.strip(",.;:!?\"'")
        if not bare or bare.lower() in PHRASE_STOP or _looks_like_verb(words, i, taken):
            break
        out.append(bare)
        taken += 1
        if bare != word:  # punctuation ends the phrase
            break
        i += 1
    return " ".join(out) if taken else ""


_VERB_FOLLOWERS = {"a", "an", "the", "to", "for", "her", "his", "their", "its", "my", "our",
                   "that", "how", "what", "out", "up", "off", "back", "away", "home"}


def _looks_like_verb(words: list[str], i: int, taken: int) -> bool:
    """A word ending in -s right after a noun and before an article or ``to``/``for`` is
    most likely a verb (``a girl searches for``, ``a robot learns to``)."""
    word = words[i].lower()
    nxt = words[i + 1].lower().strip(",.;:") if i + 1 < len(words) else ""
    if taken >= 1 and len(word) > 4 and word.endswith("ly") and nxt.endswith(("s", "ed")) \
            and not nxt.endswith("ss"):
        return True  # an adverb before a verb: "a station secretly grows"
    return taken >= 1 and word.endswith("s") and not word.endswith("ss") and \
        nxt in _VERB_FOLLOWERS


def definite(phrase: str) -> str:
    """``a lost boat`` -> ``the lost boat``; other phrases unchanged."""
    return re.sub(r"^(?:a|an|one)\s+", "the ", phrase, flags=re.I)


def indefinite_article(word: str) -> str:
    """``a`` or ``an`` for a word (vowel sound by first letter)."""
    return "an" if word[:1].lower() in "aeiou" else "a"
