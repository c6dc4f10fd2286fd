"""A Rasa tokenizer for Vietnamese as customers type it.

Vietnamese words are written as space-separated syllables ("sản phẩm" is one word), so a
whitespace tokenizer cuts words apart. This tokenizer
  1. splits the NFC text into syllables, numbers, URLs and symbols (emoji kept: they carry mood);
  2. expands chat shorthand per syllable from the editable lexicon ("sp" → "sản phẩm");
  3. joins syllables into words with underthesea's word segmentation, inside runs of letters only;
  4. returns one token per word, with exact offsets into the original text (entities align).

Each token carries two normalised forms: `lemma` (lower case, no diacritics, the compound plus its
syllables: "san_pham san pham"), which the count-vector featurizers read so that "sp", "sản phẩm"
and "san pham" share features; and `data["norm"]` ("sản phẩm"), which the sentence-embedding
featurizer reads, since the embedding model understands full words with diacritics best.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message

from vietcx.normalize import (
    DEFAULT_LEXICON,
    expand_shorthand,
    load_shorthand,
    nfc_with_offsets,
    strip_diacritics,
)

NORM = "norm"

# URLs and e-mails first, then words/numbers with inner separators ("1.500.000đ", "s23"), then
# any single non-space character (filtered below: punctuation dropped, symbols and emoji kept).
_PIECE = re.compile(r"https?://\S+|www\.\S+|[\w.+-]+@[\w-]+\.[\w.]+|\w+(?:[.,:/'-]\w+)*|\S")
_LETTERS = re.compile(r"[^\W\d_]+")


class _Syllable:
    """One piece of the NFC text, with its span and its expanded (de-abbreviated) form."""

    __slots__ = ("start", "end", "norm", "is_letters")

    def __init__(self, start: int, end: int, norm: str, is_letters: bool) -> None:
        self.start, self.end, self.norm, self.is_letters = start, end, norm, is_letters


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class VietnameseTokenizer(Tokenizer):
    """Word-segmenting, shorthand-aware Vietnamese tokenizer with exact offsets."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Returns the default config (see parent class for full docstring)."""
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
            # the editable shorthand file; relative paths are from the project root
            "shorthand_file": str(DEFAULT_LEXICON),
            # underthesea word segmentation; off = one token per syllable
            "segment_words": True,
        }

    @staticmethod
    def supported_languages() -> list[str] | None:
        """Vietnamese only."""
        return ["vi"]

    @staticmethod
    def required_packages() -> list[str]:
        """underthesea does the word segmentation."""
        return ["underthesea"]

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> VietnameseTokenizer:
        """Creates the tokenizer (see parent class for full docstring)."""
        return cls(config)

    def __init__(self, config: dict[str, Any]) -> None:
        """Reads the shorthand lexicon once."""
        super().__init__(config)
        self._lexicon = load_shorthand(str(config["shorthand_file"]))
        self._segment = config["segment_words"]

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        """Tokenizes the text of the given attribute (see module docstring)."""
        text = message.get(attribute) or ""
        nfc, offsets = nfc_with_offsets(text)
        syllables = list(self._syllables(nfc))
        tokens = []
        for group in self._words(syllables):
            start, end = offsets[group[0].start], offsets[group[-1].end]
            norm = " ".join(s.norm for s in group)
            tokens.append(Token(text[start:end], start, end, data={NORM: norm}, lemma=_lemma(norm)))
        return self._apply_token_pattern(tokens)

    def _syllables(self, nfc: str) -> Iterator[_Syllable]:
        for match in _PIECE.finditer(nfc):
            piece = match.group()
            if len(piece) == 1 and not piece.isalnum() and unicodedata.category(piece)[0] != "S":
                continue  # punctuation, combining marks, control characters
            norm = expand_shorthand(piece, self._lexicon)
            yield _Syllable(match.start(), match.end(), norm, bool(_LETTERS.fullmatch(piece)))

    def _words(self, syllables: list[_Syllable]) -> Iterator[list[_Syllable]]:
        """Groups syllables into words; only adjacent letter syllables can join."""
        run: list[_Syllable] = []
        for syllable in syllables:
            if syllable.is_letters and self._segment:
                run.append(syllable)
                continue
            yield from _segment(run)
            run = []
            yield [syllable]
        yield from _segment(run)


def _segment(run: list[_Syllable]) -> Iterator[list[_Syllable]]:
    """Word-segments a run of letter syllables with underthesea, mapping words back to syllables.

    underthesea works on the expanded text ("sp" → "sản phẩm"), so a word is located by the
    characters it covers in that text and mapped to the syllables it touches.
    """
    if not run:
        return
    from underthesea import word_tokenize

    joined, owner = _join([s.norm for s in run])
    cursor, group_end = 0, -1
    groups: list[list[int]] = []
    for word in word_tokenize(joined):
        covered: list[int] = []
        for part in word.split():
            found = joined.find(part, cursor)
            if found >= 0:
                covered += [owner[found], owner[found + len(part) - 1]]
                cursor = found + len(part)
        if not covered:
            continue
        first, last = min(covered), max(covered)
        if groups and first <= group_end:  # shares a syllable with the previous word: merge
            groups[-1].extend(range(group_end + 1, last + 1))
        else:
            groups.append(list(range(first, last + 1)))
        group_end = max(group_end, last)
    # syllables underthesea dropped (it should not, but never lose text) become their own words
    kept = {i for group in groups for i in group}
    groups.extend([i] for i in range(len(run)) if i not in kept)
    for group in sorted(groups):
        yield [run[i] for i in group]


def _join(parts: list[str]) -> tuple[str, list[int]]:
    """Joins parts with spaces and records, per character, which part it came from."""
    owner: list[int] = []
    for index, part in enumerate(parts):
        owner.extend([index] * (len(part) + 1))
    return " ".join(parts), owner


def _lemma(norm: str) -> str:
    """ "sản phẩm" → "san_pham san pham": the compound and its syllables, without diacritics."""
    folded = strip_diacritics(norm).lower()
    syllables = folded.split()
    if len(syllables) == 1:
        return folded
    return " ".join(["_".join(syllables), *syllables])
