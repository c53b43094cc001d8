"""Shared text utilities: markup stripping, words, sentences, names, language, speakable text.

This package is the one place where storyreel splits text into paragraphs, sentences and words,
strips markup, finds proper names, and turns written forms into spoken words, per language
(the story's language itself is settled in :mod:`storyreel.core.languages`). Everything here
is pure and deterministic. One module per job:

- :mod:`.markup`: Markdown/HTML stripping, whitespace and paragraphs (and :class:`Change`);
- :mod:`.words`: the one word tokeniser (:func:`tokenize`), and the word lists alignment and WER
  compare (:func:`written_words`, :func:`normalised_words`);
- :mod:`.sentences`: sentence splitting, capitalising, splitting over-long sentences;
- :mod:`.locales`: speakable text and sentences in languages other than English (num2words,
  Babel, sentencex);
- :mod:`.reading`: the form a voice reads (Japanese as kana), traced back to the written text;
- :mod:`.names`: proper names and places;
- :mod:`.numbers`: numbers, ordinals, years and decimals as words (``num2words``);
- :mod:`.spoken`: the speakable expanders and :data:`SPEAKABLE_STEPS` (their order documented
  there), which return the new text and the :class:`Change` records the revise stage logs;
- :mod:`.titles`: Title Case, noun phrases of premises, articles (``inflect``).

``from storyreel import text as tx`` gives all of them.
"""

from __future__ import annotations

from storyreel.text.markup import Change, normalise_whitespace, split_paragraphs, strip_markup
from storyreel.text.names import NOT_NAMES, Name, find_names
from storyreel.text.numbers import (
    MONTHS,
    decimal_to_words,
    digits_to_words,
    number_to_words,
    ordinal_to_words,
    year_to_words,
)
from storyreel.text.sentences import (
    ABBREVIATIONS,
    sentence_case,
    split_long_sentence,
    split_sentences,
)
from storyreel.text.spoken import (
    SPEAKABLE_STEPS,
    Expander,
    expand_abbreviations,
    expand_currency,
    expand_dates,
    expand_numbers,
    expand_ordinals,
    expand_percent,
    expand_symbols,
    expand_times,
    expand_years,
    remove_unspeakable,
    speakable,
    strip_markup_changes,
    tidy_punctuation,
)
from storyreel.text.titles import (
    ARTICLES,
    PHRASE_STOP,
    definite,
    indefinite_article,
    noun_phrase,
    title_case,
)
from storyreel.text.words import (
    join_units,
    normalised_words,
    tokenize,
    word_count,
    written_units,
    written_words,
)

__all__ = [
    "ABBREVIATIONS", "ARTICLES", "MONTHS", "NOT_NAMES", "PHRASE_STOP", "SPEAKABLE_STEPS",
    "Change", "Expander", "Name", "decimal_to_words", "definite",
    "digits_to_words", "expand_abbreviations", "expand_currency",
    "expand_dates", "expand_numbers", "expand_ordinals", "expand_percent", "expand_symbols",
    "expand_times", "expand_years", "find_names", "indefinite_article", "normalise_whitespace",
    "normalised_words", "noun_phrase", "number_to_words", "ordinal_to_words", "remove_unspeakable",
    "sentence_case", "speakable", "split_long_sentence", "split_paragraphs", "split_sentences",
    "strip_markup", "strip_markup_changes", "tidy_punctuation", "title_case", "tokenize",
    "word_count", "written_words", "year_to_words", "join_units", "written_units",
]
