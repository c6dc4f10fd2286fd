"""The sentiment classifier and the conversation summary."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from rasa.shared.nlu.training_data.message import Message

from vietcx.conversation_sentiment import ScoredMessage, score_of, sessions, summarize
from vietcx.embeddings import DEFAULT_MODEL_DIR
from vietcx.nlu.sentiment import LABELS, SENTIMENT, SentimentClassifier, SentimentModel

TINY = [
    ("negative", "hàng giao chậm quá, thất vọng"), ("negative", "sp loi ma ko ai xu ly, qua te"),
    ("negative", "nhân viên thái độ tệ 😡"), ("negative", "lừa đảo, không bao giờ mua nữa"),
    ("neutral", "ship mất mấy ngày vậy shop"), ("neutral", "cho mình hỏi giá tủ lạnh"),
    ("neutral", "don hang cua minh toi dau roi"), ("neutral", "shop mở cửa mấy giờ"),
    ("positive", "hàng đẹp, giao nhanh, cảm ơn shop"), ("positive", "rat hai long, se ung ho tiep"),
    ("positive", "nhân viên nhiệt tình quá 😍"), ("positive", "tuyệt vời, 10 điểm"),
]  # fmt: skip


@pytest.fixture(scope="module")
def model() -> SentimentModel:
    return SentimentModel(str(DEFAULT_MODEL_DIR)).fit(TINY)


def test_predictions_have_a_label_a_confidence_and_all_scores(model: SentimentModel) -> None:
    results = model.predict(
        ["giao hàng chậm quá, tôi rất bực", "shop ơi phí ship bao nhiêu", "cảm ơn shop nhiều nhé"]
    )
    assert [r["label"] for r in results] == ["negative", "neutral", "positive"]
    for result in results:
        assert set(result["scores"]) == set(LABELS)
        assert abs(sum(result["scores"].values()) - 1) < 1e-3
        assert result["confidence"] == max(result["scores"].values())


@pytest.mark.parametrize(
    "text", ["", "   ", "😀😀😀", "<script>alert(1)</script>", "a" * 10_000, "What is this?"]
)
def test_hostile_input_gets_a_label(model: SentimentModel, text: str) -> None:
    [result] = model.predict([text])
    assert result["label"] in LABELS and 0 <= result["confidence"] <= 1


def test_the_component_writes_sentiment_into_the_parse_output(model: SentimentModel) -> None:
    component = SentimentClassifier(SentimentClassifier.get_default_config(), None, None, model)  # type: ignore[arg-type]
    message = Message(data={"text": "tệ quá, hàng vỡ hết rồi"})
    component.process([message])
    assert message.get(SENTIMENT)["label"] == "negative"
    assert SENTIMENT in message.as_dict(only_output_properties=True)


def test_summary_of_a_conversation_computed_by_hand() -> None:
    def scored(score: float, label: str, text: str) -> ScoredMessage:
        return ScoredMessage(datetime.now(timezone.utc), text, None, None, label, 0.9, score)

    messages = [scored(0.5, "positive", "a"), scored(0.0, "neutral", "b"), scored(-0.2, "neutral", "c"),
                scored(-0.8, "negative", "d"), scored(-0.9, "negative", "e"), scored(-0.6, "negative", "f")]  # fmt: skip
    summary = summarize(messages)
    assert (summary["negative"], summary["neutral"], summary["positive"], summary["messages"]) == (3, 2, 1, 6)
    assert summary["mean_score"] == round((0.5 + 0 - 0.2 - 0.8 - 0.9 - 0.6) / 6, 4)
    assert summary["trend"] == round((-0.9 - 0.6) / 2 - (0.5 + 0.0) / 2, 4)  # last third − first third
    assert (summary["most_negative_text"], summary["most_negative_score"]) == ("e", -0.9)
    assert summarize([])["messages"] == 0


def test_sessions_from_tracker_events() -> None:
    mood = {
        "label": "negative",
        "confidence": 0.9,
        "scores": {"negative": 0.9, "neutral": 0.05, "positive": 0.05},
    }
    events = [
        {"event": "session_started", "timestamp": 100.0},
        {"event": "slot", "name": "customer_id", "value": "c-1", "timestamp": 100.5},
        {"event": "user", "text": "tệ quá", "timestamp": 101.0, "input_channel": "zalo",
         "parse_data": {"intent": {"name": "complain"}, "sentiment": mood}},
        {"event": "slot", "name": "faq_topic", "value": "warranty", "timestamp": 102.0},
        {"event": "user", "text": "ok", "timestamp": 103.0, "parse_data": {"intent": {"name": "affirm"}}},
        {"event": "session_started", "timestamp": 200.0},
        {"event": "user", "text": "hi", "timestamp": 201.0, "parse_data": {"sentiment": mood}},
    ]  # fmt: skip
    first, second = sessions("s-1", events)
    assert (first.channel, first.customer_id, first.topic, len(first.messages)) == (
        "zalo",
        "c-1",
        "warranty",
        1,
    )
    assert first.messages[0].score == score_of(mood) == -0.85
    assert len(second.messages) == 1 and second.started_at > first.started_at


def test_the_component_reuses_the_featurizers_sentence_vector(
    model: SentimentModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vietcx.nlu.embedding_featurizer import SentenceEmbeddingFeaturizer
    from vietcx.nlu.tokenizer import VietnameseTokenizer

    text = "sp loi ma ko ai xu ly, qua te!!"
    expected = model.predict([text])[0]
    message = Message(data={"text": text})
    VietnameseTokenizer(VietnameseTokenizer.get_default_config()).process([message])
    config = {**SentenceEmbeddingFeaturizer.get_default_config(), "model": str(DEFAULT_MODEL_DIR)}
    SentenceEmbeddingFeaturizer(config, "featurizer").process([message])

    def no_second_pass(texts: list[str]) -> None:
        raise AssertionError(f"embedded again: {texts}")

    monkeypatch.setattr(model, "sentence_vectors", no_second_pass)
    SentimentClassifier(SentimentClassifier.get_default_config(), None, None, model).process([message])  # type: ignore[arg-type]
    result = message.get(SENTIMENT)
    assert result["label"] == expected["label"]
    assert all(abs(result["scores"][k] - expected["scores"][k]) < 1e-3 for k in LABELS)
