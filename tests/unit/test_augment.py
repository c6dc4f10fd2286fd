"""Training-time diacritic-free copies."""

from __future__ import annotations

from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

from vietcx.nlu.augment import DiacriticFreeCopies

DATA = """
version: '3.1'
nlu:
- intent: request_human
  examples: |
    - cho tôi gặp [nhân viên](role) nhé
    - gap nguoi that
"""


def test_copies_are_added_once_with_aligned_entities() -> None:
    data = RasaYAMLReader().reads(DATA)
    out = DiacriticFreeCopies({"enabled": True}).process_training_data(data)
    texts = [m.get("text") for m in out.training_examples]
    assert texts == ["cho tôi gặp nhân viên nhé", "gap nguoi that", "cho toi gap nhan vien nhe"]
    copy = out.training_examples[-1]
    assert copy.get("intent") == "request_human"
    entity = copy.get("entities")[0]
    assert copy.get("text")[entity["start"] : entity["end"]] == entity["value"] == "nhan vien"
    # the original keeps its accented entity
    assert out.training_examples[0].get("entities")[0]["value"] == "nhân viên"


def test_disabled_changes_nothing() -> None:
    data = RasaYAMLReader().reads(DATA)
    assert len(DiacriticFreeCopies({"enabled": False}).process_training_data(data).training_examples) == 2
