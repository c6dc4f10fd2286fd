"""Questions about other shops are not ours to answer (data/lexicon/other_shops.yml)."""

from __future__ import annotations

import functools
import re

import yaml

from vietcx.normalize import fold
from vietcx.settings import PROJECT

OTHER_SHOPS = PROJECT / "data" / "lexicon" / "other_shops.yml"


@functools.lru_cache(maxsize=1)
def _pattern() -> re.Pattern[str]:
    names = yaml.safe_load(OTHER_SHOPS.read_text(encoding="utf-8")) or []
    alternatives = "|".join(sorted((re.escape(fold(str(n))) for n in names), key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


def mentions_other_shop(text: str) -> bool:
    """Whether the message names another shop or marketplace."""
    return bool(_pattern().search(fold(text)))
