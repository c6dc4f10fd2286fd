"""A message read against the question the assistant has just asked (vietcx/replies.py)."""

from __future__ import annotations

import pytest
import yaml
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered

from vietcx.replies import (
    Asked,
    answered_question,
    in_context,
    is_question,
    last_asked,
    names_a_subject,
    question_part,
    read_answer,
)
from vietcx.settings import PROJECT

RESOLVED = Asked(("utter_ask_resolved",), (("Đã giải quyết", "/faq_resolved"), ("Chưa", "/faq_unresolved")))
PERSON = Asked(("utter_faq_not_solved",), (("Gặp nhân viên", "/request_human"),))
NAME = Asked(("utter_greet", "utter_ask_customer_name"))
CSAT = Asked(
    ("utter_survey_intro", "utter_ask_csat_score"),
    tuple((f"{n}", f'/survey_answer{{"score": {n}}}') for n in range(1, 6)),
)
CES = Asked(("utter_ask_ces_score",), tuple((f"{n}", f'/survey_answer{{"score": {n}}}') for n in range(1, 8)))
CHOICE = Asked(
    ("utter_faq_choose",),
    (
        ("Phí giao hàng", '/faq_choose{"faq_topic": "shipping_fee"}'),
        ("Thời gian giao hàng", '/faq_choose{"faq_topic": "shipping_time"}'),
    ),
)
UNSURE = {"name": "complain", "confidence": 0.55}


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Đã giải quyết", "faq_resolved"),
        ("đã giải quyết rồi", "faq_resolved"),
        ("da giai quyet roi", "faq_resolved"),
        ("xong rồi em", "faq_resolved"),
        ("oke rồi em", "faq_resolved"),
        ("ok tks ad", "faq_resolved"),
        ("ừ", "faq_resolved"),
        ("dạ thôi ạ, em cảm ơn", "faq_resolved"),
        ("chưa ạ", "faq_unresolved"),
        ("chua duoc", "faq_unresolved"),
        ("ko đc", "faq_unresolved"),
        ("vẫn chưa, mình muốn biết riêng chi nhánh Gò Vấp", "faq_unresolved"),
        ("thank you shop, chị xem được đơn rồi", "faq_resolved"),
        ("thôi để mai ra sớm, cảm ơn ad nha", "faq_resolved"),
        ("Rồi, à mình tên Kiên", "faq_resolved"),
        # the question put right is a new question, answered
        ("không phải hủy, mình chỉ muốn đổi địa chỉ giao thôi", "faq"),
        ("cảm ơn nhưng vẫn chưa nhận được hàng", None),
        # not an answer: the NLU's reading stands
        ("ok, mà phí ship bao nhiêu?", None),
        ("thôi", None),
        ("hàng giao chậm quá", None),
        ("thế có giao tới Cà Mau không?", None),
        ("chưa hiểu lắm, có ai tư vấn trực tiếp cho mình không", None),
        ("chưa, em kết nối anh với tổng đài viên nhé", None),
        ("chưa em, cho chị nói chuyện với bạn nhân viên nào đó được không", "request_human"),
    ],
)
def test_did_that_solve_it(text: str, intent: str | None) -> None:
    reading = read_answer(text, RESOLVED, UNSURE)
    assert (reading[0] if reading else None) == intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Có", "request_human"),
        ("dạ có", "request_human"),
        ("uk", "request_human"),
        ("có, cho mình gặp nhân viên", "request_human"),
        ("thôi khỏi, cảm ơn nha", "deny"),
        ("ko can, tks", "deny"),
        ("thôi để em tự gọi hotline, cảm ơn ad", "deny"),
        ("không cần đâu, cảm ơn em", "deny"),
        ("đơn SM123 của mình bị giao sai màu", None),
        ("ok hiểu rồi, cảm ơn", None),  # thanks, not a yes to a person
        ("còn inverter với không inverter khác nhau tiền điện nhiều không", None),
        ("thôi khỏi, thế showroom mấy giờ mở cửa", None),
        ("thôi cho xin số khác hoặc email để liên hệ", None),
    ],
)
def test_shall_i_call_a_person(text: str, intent: str | None) -> None:
    reading = read_answer(text, PERSON, UNSURE)
    assert (reading[0] if reading else None) == intent


@pytest.mark.parametrize(
    ("text", "nlu", "intent"),
    [
        ("Anh là Phạm Quang Huy", UNSURE, "inform_name"),
        ("em tên Lan", UNSURE, "inform_name"),
        ("ten minh la lan", UNSURE, "inform_name"),
        ("Quang Huy ạ", UNSURE, "inform_name"),
        ("Huy", {"name": "out_of_scope", "confidence": 0.7}, "inform_name"),
        ("bí mật", UNSURE, "deny"),
        # a shop question instead of a name breaks out and is answered
        ("Ship COD được không", {"name": "faq", "confidence": 0.9}, None),
        ("Giao hàng mất mấy ngày?", UNSURE, None),
        ("cho hỏi cách huỷ đơn online", {"name": "faq", "confidence": 0.9}, None),
        # a question about a name on an order, not the customer's name: a question
        ("cho minh doi ten ng nhan tren don dc ko", {"name": "inform_name", "confidence": 0.8}, "faq"),
        ("tên shop là gì vậy?", {"name": "inform_name", "confidence": 0.7}, "faq"),
    ],
)
def test_the_name_question(text: str, nlu: dict, intent: str | None) -> None:
    reading = read_answer(text, NAME, nlu)
    assert (reading[0] if reading else None) == intent


@pytest.mark.parametrize(
    ("asked", "text", "score"),
    [
        (CSAT, "5", 5),
        (CSAT, "bốn", 4),
        (CSAT, "4 sao", 4),
        (CSAT, "rat hai long", 5),
        (CSAT, "bt", 3),
        (CES, "dễ ợt", 7),
        (CES, "6", 6),
        (CSAT, "7", None),  # off the CSAT scale: re-asked, never stored
        (CSAT, "5 là cao nhất hả em?", None),  # a question about the scale: explained, asked again
        (CES, "hơi dễ", 5),
        (CSAT, "bỏ qua", None),  # skipping is the survey form's to read
    ],
)
def test_survey_scores(asked: Asked, text: str, score: int | None) -> None:
    reading = read_answer(text, asked, UNSURE)
    assert (reading[1]["score"] if reading else None) == score
    if reading:
        assert reading[0] == "survey_answer"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("em ơi chị không phải Thu, chị tên Hằng, dùng nhờ tài khoản của em gái thôi", "inform_name"),
        ("không phải, tên mình là Lan", "inform_name"),
        ("à gõ nhầm, Trần Minh Tuấn ạ", "inform_name"),
        ("không phải hàng chính hãng à", None),
    ],
)
def test_a_name_corrected_whatever_was_asked(text: str, intent: str | None) -> None:
    reading = read_answer(text, Asked(("utter_thank",)), {"name": "faq", "confidence": 0.9})
    assert (reading[0] if reading else None) == intent


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("1", "shipping_fee"),
        ("cái thứ hai", "shipping_time"),
        ("cái đầu", "shipping_fee"),
        ("thoi gian giao hang", "shipping_time"),
        ("3", None),
        ("giao hàng", None),  # in both titles: ask again rather than guess
    ],
)
def test_choosing_an_offered_topic(text: str, topic: str | None) -> None:
    reading = read_answer(text, CHOICE, UNSURE)
    assert (reading[1]["faq_topic"] if reading else None) == topic


def asked_resolved() -> list:
    buttons = [{"title": t, "payload": p} for t, p in RESOLVED.buttons]
    return [
        ActionExecuted("action_listen"),
        UserUttered("phí ship bao nhiêu"),
        BotUttered("Dạ, miễn phí giao hàng…", metadata={"utter_action": None}),
        BotUttered(
            "Dạ, thông tin trên…?", data={"buttons": buttons}, metadata={"utter_action": "utter_ask_resolved"}
        ),
        ActionExecuted("action_listen"),
    ]


def parsed(text: str, intent: str = "complain") -> dict:
    return {
        "text": text,
        "intent": {"name": intent, "confidence": 0.8},
        "intent_ranking": [{"name": intent, "confidence": 0.8}, {"name": "faq_resolved", "confidence": 0.1}],
        "entities": [],
    }


def test_in_context_keeps_the_words_and_gives_the_buttons_intent() -> None:
    result = in_context(parsed("xong rồi em"), asked_resolved())
    assert result["text"] == "xong rồi em"
    assert result["intent"] == {"name": "faq_resolved", "confidence": 1.0}
    assert [r["name"] for r in result["intent_ranking"]] == ["faq_resolved", "complain"]
    assert result["nlu_intent"] == "complain"


def test_in_context_gives_the_score_entity() -> None:
    buttons = [{"title": t, "payload": p} for t, p in CSAT.buttons]
    events = [
        UserUttered("đã giải quyết"),
        BotUttered("…", {"buttons": buttons}, {"utter_action": "utter_ask_csat_score"}),
    ]
    result = in_context(parsed("năm sao", "out_of_scope"), events)
    assert result["intent"]["name"] == "survey_answer"
    assert [(e["entity"], e["value"]) for e in result["entities"]] == [("score", 5)]


def test_payloads_and_answers_to_nothing_are_left_alone() -> None:
    assert (
        in_context(parsed("/faq_resolved", "faq_resolved"), asked_resolved())["intent"]["confidence"] == 0.8
    )
    assert in_context(parsed("xong rồi"), [UserUttered("hi")]) == parsed("xong rồi")
    # a question asked before the session expired is not the question of the new session
    stale = [*asked_resolved(), SessionStarted(), ActionExecuted("action_listen")]
    assert in_context(parsed("xong rồi"), stale) == parsed("xong rồi")


def test_last_asked_reads_only_the_last_answer() -> None:
    events = [
        *asked_resolved(),
        UserUttered("chưa"),
        BotUttered("Dạ…", metadata={"utter_action": "utter_faq_not_solved"}),
    ]
    assert last_asked(events) == Asked(("utter_faq_not_solved",), ())


def test_a_question_at_a_yes_no_prompt_is_a_new_question() -> None:
    deny = {"name": "deny", "confidence": 0.7}
    assert read_answer("thế có giao tới Cà Mau không?", RESOLVED, deny) == ("faq", {})
    assert read_answer("còn inverter với không inverter khác nhau tiền điện nhiều không", PERSON, deny) == (
        "faq",
        {},
    )
    # a complaint asked as a question keeps the NLU's reading
    assert read_answer("sao giao chậm vậy?", RESOLVED, {"name": "complain", "confidence": 0.8}) is None


def test_an_explicit_request_for_a_person_is_one_whatever_was_asked() -> None:
    text = "em cho anh gặp nhân viên kỹ thuật được không, máy lọc nước nhà anh báo lỗi"
    assert read_answer(text, Asked(("utter_thank",)), {"name": "faq", "confidence": 0.9}) == (
        "request_human",
        {},
    )
    assert read_answer("nhân viên giao hàng thái độ kém quá", Asked(("utter_thank",)), UNSURE) is None


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("cho minh doi ten ng nhan tren don thanh ten em gai dc ko", "faq"),
        ("tên shop là gì vậy?", "faq"),
        ("mình tên Lan, cho hỏi phí ship bao nhiêu?", None),  # a name with the question: kept
        ("Nguyễn Thị Lan", None),
    ],
)
def test_a_question_read_as_a_name_with_no_name_in_it_is_a_question(text: str, intent: str | None) -> None:
    reading = read_answer(text, Asked((), ()), {"name": "inform_name", "confidence": 0.8})
    assert (reading[0] if reading else None) == intent


def test_an_answer_read_in_context_is_marked_so() -> None:
    assert answered_question(in_context(parsed("chua"), asked_resolved()))
    assert not answered_question(parsed("chua"))


@pytest.mark.parametrize(
    ("text", "nlu", "intent"),
    [
        ("em cho anh xin số tổng đài, tối rảnh anh gọi", "request_human", "faq"),
        ("tổng đài trực đến mấy giờ tối vậy", "request_human", "faq"),
        ("cho e xin 1 bạn tư vấn vs ạ", "faq", "request_human"),
        ("chuyển cho người có trách nhiệm đi", "complain", "request_human"),
        ("có ai trực không, mình cần nói chuyện với người chứ không phải máy", "faq", "request_human"),
        ("chị muốn nói chuyện trực tiếp với nhân viên bán hàng em nhé", "request_human", "request_human"),
        ("cho em gặp nhân viên, số tổng đài gọi mãi không được", "request_human", "request_human"),
        ("ko can, cho gap nv luon", "request_human", "request_human"),
        ("thank you shop 😍 chị xem được đơn rồi", "faq", "thank"),
        ("cảm ơn, cho hỏi phí ship bao nhiêu", "faq", None),
        # bot_challenge only when the message is about the assistant itself
        ("hang bi loi thi lam sao", "bot_challenge", "faq"),
        ("hàng bị lỗi rồi", "bot_challenge", None),
        ("bạn là người hay máy vậy", "bot_challenge", None),
        ("đây là bot trả lời à", "bot_challenge", None),
    ],
)
def test_what_is_asked_for_decides_whatever_was_asked(text: str, nlu: str, intent: str | None) -> None:
    """A number or hours of the switchboard is a question, "a consultant" is a person, thanks
    that ask nothing are thanks: read so after any reply of the assistant."""
    reading = read_answer(text, Asked(), {"name": nlu, "confidence": 0.9})
    assert (reading[0] if reading else None) == intent


def test_a_name_read_as_a_bot_challenge_is_a_name() -> None:
    assert read_answer("anh la Hai", NAME, {"name": "bot_challenge", "confidence": 0.8}) == ("inform_name", {})


@pytest.mark.parametrize(
    ("text", "vague"),
    [
        ("ship", True),
        ("giao hàng", True),
        ("mình muốn hỏi về tài khoản thành viên", True),
        ("em muốn hỏi chút về đơn hàng", True),
        ("phí ship bao nhiêu", False),
        ("giao hàng tới Cà Mau", False),
        ("mã đơn của mình là DH123456", False),
        ("hàng bị lỗi rồi", False),
    ],
)
def test_a_message_that_only_names_a_subject(text: str, vague: bool) -> None:
    assert names_a_subject(text) is vague


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("macbook air m3 bên em về hàng chưa", True),
        ("em nhận được tiền chưa ạ", True),
        ("mình đợi mà vẫn chưa", False),  # still not: a statement
        ("vẫn chưa em ạ", False),
        ("phí shíp đơn 2 triệu về cần thơ hết nhiu z", True),  # "nhiu": nhiêu
        ("cảm ơn shop nhiu nha", False),  # "nhiu": nhiều
    ],
)
def test_a_question_that_ends_in_chua(text: str, asks: bool) -> None:
    assert is_question(text) is asks


@pytest.mark.parametrize(
    ("text", "comment", "question"),
    [
        ("nen tich diem nhieu hon, ma cho hoi gio co ma giam gia nao ko", "nen tich diem nhieu hon",
         "cho hoi gio co ma giam gia nao ko"),
        ("Nhân viên nhiệt tình. Cho hỏi có xuất VAT không?", "Nhân viên nhiệt tình", "Cho hỏi có xuất VAT không?"),
        ("giao nhanh, đóng gói kỹ, mà bảo hành mấy năm vậy", "giao nhanh, đóng gói kỹ", "bảo hành mấy năm vậy"),
        ("à mà cho hỏi xuất VAT thế nào", "à", "cho hỏi xuất VAT thế nào"),
        ("hàng đẹp lắm, giao nhanh", "hàng đẹp lắm, giao nhanh", ""),
    ],
)  # fmt: skip
def test_the_question_after_a_comment(text: str, comment: str, question: str) -> None:
    assert question_part(text) == (comment, question)


def test_every_bot_challenge_example_names_the_assistant() -> None:
    """The NLU's bot_challenge is kept only for a message about the assistant itself: every way the
    training data asks it must be recognised as such."""
    data = yaml.safe_load((PROJECT / "data" / "nlu" / "core.yml").read_text(encoding="utf-8"))
    [block] = [item["examples"] for item in data["nlu"] if item.get("intent") == "bot_challenge"]
    examples = [line.strip()[2:] for line in block.splitlines() if line.strip().startswith("- ")]
    assert len(examples) > 50
    for example in examples:
        assert read_answer(example, Asked(), {"name": "bot_challenge", "confidence": 0.9}) is None, example
