"""A follow-up question ("thế còn bên mình thì sao") is searched with the message it follows."""

from __future__ import annotations

from rasa_sdk import Tracker

from actions.faq import with_the_question_it_follows


def tracker(*said: str) -> Tracker:
    events = [{"event": "user", "text": text} for text in said]
    return Tracker("s1", {}, {"text": said[-1]}, events, False, None, {}, "action_listen")


def test_a_follow_up_carries_the_question_before_it() -> None:
    before = "cho hoi ben dien may xanh co tra gop 0% ko"
    assert with_the_question_it_follows(
        tracker(before, "the con ben minh thi sao"), "the con ben minh thi sao"
    ) == (f"{before} the con ben minh thi sao")
    assert with_the_question_it_follows(
        tracker("phí ship bao nhiêu", "còn Cà Mau thì sao?"), "còn Cà Mau thì sao?"
    ) == ("phí ship bao nhiêu còn Cà Mau thì sao?")


def test_other_messages_are_searched_as_they_are() -> None:
    assert (
        with_the_question_it_follows(tracker("chào", "phí ship bao nhiêu"), "phí ship bao nhiêu")
        == "phí ship bao nhiêu"
    )
    first = "còn hàng thì sao"
    assert with_the_question_it_follows(tracker(first), first) == first  # nothing before it
