"""/metrics for operators: what the Rasa server counted and what the product database holds."""

from __future__ import annotations

import uuid

import requests
from prometheus_client.parser import text_string_to_metric_families

from harness import Assistant


def _samples(url: str) -> dict[tuple[str, tuple], float]:
    answer = requests.get(url, timeout=10)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def _rest(name: str, samples: dict[tuple[str, tuple], float]) -> float:
    return samples.get((name, (("channel", "rest"),)), 0.0)


def test_the_rasa_server_counts_messages_replies_and_turn_times(assistant: Assistant) -> None:
    before = _samples(f"{assistant.url}/metrics")
    sender = f"metrics-{uuid.uuid4().hex[:6]}"
    replies = sum(len(assistant.chat(sender, text)) for text in ("xin chào", "phí ship bao nhiêu", "cảm ơn"))
    after = _samples(f"{assistant.url}/metrics")
    assert _rest("vietcx_messages_total", after) - _rest("vietcx_messages_total", before) == 3
    assert _rest("vietcx_turn_seconds_count", after) - _rest("vietcx_turn_seconds_count", before) == 3
    assert _rest("vietcx_replies_total", after) - _rest("vietcx_replies_total", before) == replies > 0


def test_the_action_server_reports_open_escalations_from_the_database(assistant: Assistant) -> None:
    url = f"http://127.0.0.1:{assistant.actions_port}/metrics"
    before = _samples(url)[("vietcx_escalations_open", ())]
    assistant.chat(f"metrics-human-{uuid.uuid4().hex[:6]}", "cho mình gặp nhân viên")
    after = _samples(url)
    assert after[("vietcx_escalations_open", ())] == before + 1
    assert ("vietcx_outbox_backlog", ()) in after and ("vietcx_outbox_failed", ()) in after
