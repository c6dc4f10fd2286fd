"""NPS (0–10) answers typed instead of clicked, and the survey settings file that switches NPS on
and words the questions."""

from __future__ import annotations

from pathlib import Path

import pytest

from vietcx.survey_answers import SKIP, parse_score
from vietcx.survey_settings import DEFAULT_FILE, SurveySettingsError, load


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("9", 9),
        ("0", 0),
        ("10", 10),
        ("9 điểm", 9),
        ("10 điểm", 10),
        ("cho 8đ", 8),
        ("9/10", 9),
        ("chín", 9),
        ("chín điểm", 9),
        ("chin diem", 9),
        ("mười", 10),
        ("muoi diem", 10),
        ("tám", 8),
        ("không điểm", 0),
        ("chắc chắn", 10),
        ("không bao giờ", 0),
        ("11", None),
        ("-1", None),
        ("hmm để xem", None),
        ("bỏ qua", SKIP),
    ],
)
def test_nps_answers(text: str, score: int | str | None) -> None:
    assert parse_score("nps", text) == score


def test_the_other_scales_keep_their_range() -> None:
    assert parse_score("csat", "0") is None and parse_score("csat", "tám") is None
    assert parse_score("ces", "bảy") == 7 and parse_score("ces", "chín") is None


def test_defaults_nps_off_with_todays_wording(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VIETCX_SURVEY_FILE", raising=False)
    survey = load()
    assert not survey.nps_enabled and survey.scored() == ("csat", "ces")
    assert (
        survey.wording("csat", "chị Ngọc", "chị")
        == "Dạ, chị Ngọc hài lòng với sự hỗ trợ hôm nay ở mức nào ạ?"
    )
    assert "trả lời 2 câu hỏi ngắn" in survey.wording("intro", "anh/chị", "anh/chị")


def test_a_file_switches_nps_on_and_changes_only_what_it_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = tmp_path / "survey.yml"
    own.write_text('nps_enabled: true\nquestions:\n  csat: "{customer_address} chấm mấy sao ạ?"\n', "utf-8")
    monkeypatch.setenv("VIETCX_SURVEY_FILE", str(own))
    survey = load()
    assert survey.nps_enabled and survey.scored() == ("csat", "ces", "nps")
    assert survey.wording("csat", "anh Nam", "anh") == "anh Nam chấm mấy sao ạ?"
    assert "trả lời 3 câu hỏi ngắn" in survey.wording("intro", "anh Nam", "anh")
    assert survey.questions["ces"] == load(DEFAULT_FILE).questions["ces"]


@pytest.mark.parametrize(
    "content",
    [
        "nps_enabled: maybe\n",
        "nps: true\n",
        'questions:\n  csat: "{ten_khach} ơi"\n',
        'questions:\n  stars: "?"\n',
        "questions: [1, 2\n",
    ],
)
def test_a_malformed_file_is_an_error(tmp_path: Path, content: str) -> None:
    broken = tmp_path / "survey.yml"
    broken.write_text(content, "utf-8")
    with pytest.raises(SurveySettingsError):
        load(broken)
