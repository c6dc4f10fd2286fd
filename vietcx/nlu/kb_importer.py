"""A Rasa training-data importer that teaches the NLU what a shop question looks like.

Every example question of the knowledge base (data/kb/faq.yml) becomes an example of the intent
`faq`, as do the questions only staff can answer (for_staff.yml: the FAQ search turns them to a
person). The classifier only learns to route shop questions to the FAQ search; which answer to give
is decided at run time by the search over the live file, so an edited answer is served without
retraining. Retraining after adding examples sharpens the routing.
"""

from __future__ import annotations

from typing import Any

from rasa.shared.core.domain import Domain
from rasa.shared.core.training_data.structures import StoryGraph
from rasa.shared.importers.importer import TrainingDataImporter
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from vietcx.kb.loader import load, load_for_staff
from vietcx.settings import PROJECT, for_staff_file, kb_file

FAQ_INTENT = "faq"


class KnowledgeBaseImporter(TrainingDataImporter):
    """Adds the knowledge base's example questions as NLU examples of the `faq` intent."""

    def __init__(
        self,
        config_file: str | None = None,
        domain_path: str | None = None,
        training_data_paths: Any = None,
        kb: str | None = None,
        examples_per_topic: int = 12,
        for_staff_examples: int = 24,
    ) -> None:
        """`kb`: path relative to the project root (default: VIETCX_KB_FILE or data/kb/faq.yml).

        `examples_per_topic` caps what the NLU trains on: enough to learn what a shop question
        looks like, few enough to keep training short; the FAQ search itself uses them all.
        """
        self._kb_file = PROJECT / kb if kb else kb_file()
        self._per_topic = examples_per_topic
        self._for_staff = for_staff_examples

    def get_nlu_data(self, language: str | None = "vi") -> TrainingData:
        """One `faq` example per knowledge base question (the file must be valid to train)."""
        questions = [q for topic in load(self._kb_file) for q in topic.examples[: self._per_topic]]
        questions += load_for_staff(for_staff_file(self._kb_file))[: self._for_staff]
        examples = [Message(data={TEXT: question, INTENT: FAQ_INTENT}) for question in questions]
        return TrainingData(training_examples=examples)

    def get_domain(self) -> Domain:
        """Contributes nothing to the domain (the `faq` intent is declared in domain.yml)."""
        return Domain.empty()

    def get_stories(self, exclusion_percentage: int | None = None) -> StoryGraph:
        """Contributes no stories."""
        return StoryGraph([])

    def get_config(self) -> dict:
        """Contributes no configuration."""
        return {}

    def get_config_file_for_auto_config(self) -> str | None:
        """Not used for auto-configuration."""
        return None
