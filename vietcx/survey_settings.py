"""The survey's settings file (data/survey.yml, or VIETCX_SURVEY_FILE): whether NPS is asked, and
the wording of the questions, so a shop changes them without touching code or retraining.

A file given with VIETCX_SURVEY_FILE may hold only what it changes: the rest comes from
data/survey.yml. A malformed file is an error when it is read, not a survey that asks nonsense.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path

import yaml

from vietcx import settings

DEFAULT_FILE = settings.PROJECT / "data" / "survey.yml"
QUESTIONS = ("intro", "csat", "ces", "nps")
PLACEHOLDERS = {"customer_address", "customer_honorific", "questions"}


class SurveySettingsError(ValueError):
    """The survey file cannot be used as it is."""


@dataclass(frozen=True)
class SurveySettings:
    nps_enabled: bool
    questions: dict[str, str]

    def scored(self) -> tuple[str, ...]:
        """The scored questions asked, in order."""
        return ("csat", "ces", "nps") if self.nps_enabled else ("csat", "ces")

    def wording(self, question: str, address: str, honorific: str) -> str:
        """A question's text addressed to the customer."""
        return self.questions[question].format(
            customer_address=address, customer_honorific=honorific, questions=len(self.scored())
        )


def _read(path: Path) -> dict:
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise SurveySettingsError(f"{path}: {error}") from error
    if not isinstance(content, dict) or set(content) - {"nps_enabled", "questions"}:
        raise SurveySettingsError(f"{path}: only nps_enabled and questions may be set")
    return content


def load(path: Path | None = None) -> SurveySettings:
    """The settings of `path` (default: the configured file) over those of data/survey.yml."""
    default, chosen = _read(DEFAULT_FILE), _read(path or settings.survey_file())
    enabled = chosen.get("nps_enabled", default.get("nps_enabled", False))
    if not isinstance(enabled, bool):
        raise SurveySettingsError("nps_enabled must be true or false")
    questions = {**(default.get("questions") or {}), **(chosen.get("questions") or {})}
    if set(questions) != set(QUESTIONS):
        raise SurveySettingsError(f"questions must be exactly {', '.join(QUESTIONS)}")
    for key, text in questions.items():
        used = {field for _, field, _, _ in string.Formatter().parse(str(text)) if field is not None}
        if not isinstance(text, str) or not text.strip() or used - PLACEHOLDERS:
            raise SurveySettingsError(f"question {key}: a text with only {sorted(PLACEHOLDERS)} to fill")
    return SurveySettings(enabled, questions)
