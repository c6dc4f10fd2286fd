"""Reading a customer's message against the question the assistant has just asked.

Alone, "xong rồi" or "Anh là Phạm Quang Huy" may read as a complaint and "5" as out of scope;
as the answer to "đã giải quyết chưa ạ?", "cho em xin tên" or the CSAT question they are plainly
a yes, a name and a score. So after the NLU has read a message, `in_context` looks at what the
assistant asked in its last answer (the response it sent, the buttons it offered) and, when the
message reads as an answer to that question, gives the intent (and entities) the matching button
would have sent, keeping the customer's own words. Anything that does not read as an answer (a new
question, a complaint, a long story) keeps the NLU's reading and breaks out of the question.

The rasa server calls it on every parsed message (vietcx/rasa_server.py), so every channel gets it.
"""

from __future__ import annotations

import difflib
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rasa.shared.core.events import BotUttered, Event, SessionStarted, UserUttered

from vietcx.names import Name, parse_name_answer, stated_name
from vietcx.normalize import expand_text, fold
from vietcx.survey_answers import asks_about_scale, parse_score

logger = logging.getLogger(__name__)

ASK_NAME = "utter_ask_customer_name"
NLU_INTENT = "nlu_intent"  # in a message read in context: what the NLU alone had read
SCORE_QUESTIONS = {"utter_ask_csat_score": "csat", "utter_ask_ces_score": "ces", "utter_ask_nps_score": "nps"}
# At the name question the NLU's reading wins over a name read loosely (no "tên là") when it is
# this sure the message is a shop question or a request for a person: "Ship COD được không".
BREAKOUT_INTENTS = frozenset({"faq", "request_human"})
BREAKOUT_CONFIDENCE = 0.6
# what the NLU may make of a question typed at a yes/no prompt because it contains "không", "ok"…
YES_NO_INTENTS = frozenset({"affirm", "deny", "thank"})

# Words of a short answer, compared folded (no diacritics) after shorthand is expanded.
_YES = frozenset(
    "co u uh uk um uhm ukm vang ok oke okay oki okie okela oce yes yeah yep duoc roi xong on dung "
    "chuan giai quyet dong y hieu ro tot yen tam".split()
)
_NO = frozenset("khong chua hong hok khum no nope chang".split())
# "thôi", "không cần": the customer needs nothing more
_ENOUGH = re.compile(r"\b(?:thoi|khoi|khong can|khong sao|khong co gi)\b")
_FILLER = frozenset(
    "a ak ah ha da nha nhe nhen nhi ne shop ad admin em e anh chi minh toi to tui oi luon day do "
    "the vay van nua ma thi la ban ho cho voi rat lam qua het that".split()
)
_THANKS = frozenset("cam on tks thanks thank you nhieu".split())
# at "shall I connect you with a person?": a plain yes, or saying so in words ("hiểu rồi, cảm ơn"
# is an acknowledgement, not a yes to a person)
_OFFER_YES = frozenset("co u uh uk um uhm ukm vang ok oke okay oki okie yes yeah yep duoc dong y".split())
_PERSON = frozenset("gap nhan vien nv ket noi chuyen nguoi tu van ho tro giup lien he".split())
_ASKS = re.compile(
    r"\b(?:bao nhieu|bao lau|the nao|nhu nao|o dau|khi nao|tai sao|vi sao|lam sao"
    r"|may (?:gio|ngay|nam|thang|tuan|hom|tieng|phut|lan)"
    r"|toi dau|den dau|sao roi|(?:het|gia|mat|ton|la) nhiu|nhiu tien)\b"  # "hết nhiu z": how much
    r"|\bco\b.*\b(?:khong|chua)(?: a| nhi| vay| the| shop| em| ad)?$|\bduoc khong(?: a| vay| em| shop)?$"
    r"|^(?:\S+ ){3,}khong(?: a| nhi| vay| the| shop| em| ad)?$"
    r"|^(?:\S+ ){3,}(?<!van )chua(?: a| nhi| vay| the| shop| em| ad)?$"
)
# asking for a person in words, at a question that did not offer one: "chưa, em kết nối anh với
# tổng đài viên nhé" is a request for staff more than an answer
_ASKS_FOR_PERSON = re.compile(
    r"\b(?:gap|goi|noi chuyen voi|ket noi voi|chuyen sang|chuyen cho|chuyen|can|muon gap|xin|cho gap) "
    r"(?:cho (?:\S+ )?)?(?:ban |mot |1 |em |anh |chi )?"
    r"(?:nhan vien|nguoi that|tu van vien|tong dai vien|nguoi ho tro|ban tu van|nguoi tu van"
    r"|nguoi co trach nhiem|quan ly|ban nhan vien)\b"
    r"|\bnoi chuyen (?:truc tiep )?voi (?:nguoi|ai do|nhan vien)\b"
)
# what a question about the shop's contacts asks for: "cho xin số tổng đài", "tổng đài trực đến mấy
# giờ" name the switchboard, yet ask a number or hours the knowledge base gives, not for a person
_CONTACT_INFO = re.compile(r"\b(?:so|sdt|hotline|email|mail|may gio|gio nao|gio lam viec|dia chi)\b")
# "không phải hủy, mình muốn đổi địa chỉ": not a no to "did that solve it?" but the question put right
_NOT_WHAT_I_ASKED = re.compile(r"^(?:da |a )?(?:khong|ko|k|hong) phai\b")
_PERSON_REQUEST = re.compile(r"\b(?:nhan vien|tong dai vien|nguoi that|tu van vien|ket noi|gap nguoi)\b")
_ASKING = re.compile(r"\b(?:cho hoi|hoi chut|hoi ve|muon hoi|minh hoi|em hoi|chi hoi|anh hoi)\b")
# what a question about the assistant itself names ("bạn là người hay máy", "đây là bot à"): without
# it, the NLU's bot_challenge is a misreading ("hàng bị lỗi thì làm sao")
_ABOUT_THE_ASSISTANT = re.compile(
    r"\b(?:bot|robot|chatbot|chatgpt|gpt|ai|human|person|auto|automated|tu dong|tri tue|tro ly ao|soan san"
    r"|nguoi|voi may|giong may|nhu may|la may|may tra loi|may (?:a|ha|ak|hay|dung|phai))\b"
)
_NOT_THAT = re.compile(r"\b(?:khong phai|nham ten|sai ten|go nham|viet nham|nham)\b")
_ANSWERABLE = frozenset({"faq", "out_of_scope", "nlu_fallback"})
_THANKS_FIRST = re.compile(r"^(?:da |vang |ok |oke )?(?:cam on|thank|thanks|tks|thk|camon)\b")
_BUT = re.compile(r"\b(?:nhung|ma|tuy|van|con)\b")
_CLAUSE = re.compile(r"[,.;!?\n]+|\s(?:nhung|ma|con)\s")
MIN_RESTATED_WORDS = 5
# "mình muốn hỏi chút về vấn đề …": the words that frame a subject
_ABOUT_WORDS = frozenset("cho muon hoi chut xiu ti ve van de".split())
MAX_SUBJECT_WORDS = 4  # syllables after "hỏi về": "tài khoản thành viên"
MAX_BARE_SUBJECT_WORDS = 2  # without: "ship", "giao hàng"
_ORDINAL = re.compile(r"^(?:cai |so |muc |y |thu |cau )*(?:thu )?(\d|mot|hai|ba|bon|nam|dau tien|dau)$")
_ORDINAL_WORDS = {"mot": 1, "dau": 1, "dau tien": 1, "hai": 2, "ba": 3, "bon": 4, "nam": 5}


@dataclass(frozen=True)
class Asked:
    """What the assistant asked in its last answer: the responses it sent and the buttons offered."""

    responses: tuple[str, ...] = ()
    buttons: tuple[tuple[str, str], ...] = field(default=())

    def offers(self, intent: str) -> bool:
        return any(_payload_intent(payload) == intent for _, payload in self.buttons)


def last_asked(events: Iterable[Event]) -> Asked:
    """The assistant's messages since the customer last wrote (in this session)."""
    responses: list[str] = []
    buttons: list[tuple[str, str]] = []
    for event in reversed(list(events)):
        if isinstance(event, (UserUttered, SessionStarted)):
            break
        if isinstance(event, BotUttered):
            responses.insert(0, str((event.metadata or {}).get("utter_action") or ""))
            offered = [
                (str(b.get("title") or ""), str(b.get("payload")))
                for b in (event.data or {}).get("buttons") or []
                if b.get("payload")
            ]
            buttons[:0] = offered
    return Asked(tuple(responses), tuple(buttons))


def in_context(parsed: dict[str, Any], events: Iterable[Event]) -> dict[str, Any]:
    """The NLU's `parsed` message, its intent (and entities) replaced by the answer it gives to the
    question just asked, if it reads as one."""
    text = str(parsed.get("text") or "")
    if not text.strip() or text.lstrip().startswith("/"):
        return parsed  # a button's payload says what it means already
    asked = last_asked(events)
    reading = read_answer(text, asked, parsed.get("intent") or {})
    if reading is None:
        return parsed
    intent, entities = reading
    logger.debug("Read %r as %s%s, the answer to %s", text, intent, entities or "", asked.responses)
    nlu_intent = parsed.get("intent") or {}
    ranking = [r for r in parsed.get("intent_ranking") or [] if r.get("name") != intent]
    return {
        **parsed,
        "intent": {"name": intent, "confidence": 1.0},
        "intent_ranking": [{"name": intent, "confidence": 1.0}, *ranking],
        "entities": [e for e in parsed.get("entities") or [] if e.get("entity") not in entities]
        + [_entity(name, value, text) for name, value in entities.items()],
        NLU_INTENT: nlu_intent.get("name"),
    }


def answered_question(parsed: dict[str, Any]) -> bool:
    """Whether a message was read as the answer to the assistant's question: a short "chưa" or
    "không" is then an answer, not a sign of anger (the negative-sentiment policy asks)."""
    return parsed.get(NLU_INTENT) is not None


def read_answer(text: str, asked: Asked, nlu_intent: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """(intent, entities) that `text` means as the answer to `asked`, or None. Whatever was asked,
    "không phải …, chị tên Hằng" corrects the name."""
    if _NOT_THAT.search(fold(text)) and corrected_name(text):
        return "inform_name", {}
    folded = fold(expand_text(text))
    if _ASKS_FOR_PERSON.search(folded):
        return "request_human", {}  # "em cho anh gặp nhân viên kỹ thuật được không, máy báo lỗi"
    if nlu_intent.get("name") == "request_human" and _CONTACT_INFO.search(folded):
        return "faq", {}  # "em cho anh xin số tổng đài, tối rảnh anh gọi"
    misread = nlu_intent.get("name") == "bot_challenge" and not _ABOUT_THE_ASSISTANT.search(folded)
    if misread and is_question(text):
        return "faq", {}
    if nlu_intent.get("name") == "inform_name" and is_question(text) and not _holds_a_name(text):
        # a question that says "tên" but holds no name ("đổi tên người nhận trên đơn được không")
        # is a question: as "inform_name" it would only have the customer asked for their name
        return "faq", {}
    if ASK_NAME in asked.responses:
        return _name(text, nlu_intent)
    question = next((SCORE_QUESTIONS[r] for r in reversed(asked.responses) if r in SCORE_QUESTIONS), None)
    if question:
        if asks_about_scale(text):
            return None  # the survey explains its scale and asks again
        score = parse_score(question, text)
        return ("survey_answer", {"score": score}) if isinstance(score, int) else None
    if asked.offers("faq_choose"):
        return _choice(text, asked)
    yes_no = asked.offers("faq_resolved") or asked.offers("request_human")
    if yes_no and nlu_intent.get("name") in YES_NO_INTENTS and is_question(text):
        return "faq", {}  # a new question at a yes/no prompt ("thế có giao tới Cà Mau không?")
    if asked.offers("faq_resolved"):
        if _NOT_WHAT_I_ASKED.match(folded) and len(folded.split()) >= MIN_RESTATED_WORDS:
            return "faq", {}  # the question put right ("không phải hủy, mình muốn đổi địa chỉ")
        answer = yes_or_no(text, enough_is="yes")
        if answer is None and stated_name(text) and yes_or_no(_CLAUSE.split(text)[0], "yes") == "yes":
            answer = "yes"  # "Rồi, à mình tên Kiên": solved, and a name given in passing
        return {"yes": ("faq_resolved", {}), "no": ("faq_unresolved", {})}.get(answer or "")
    if asked.offers("request_human"):
        answer = yes_or_no(text, enough_is="no", yes_words=_OFFER_YES | _PERSON)
        return {"yes": ("request_human", {}), "no": ("deny", {})}.get(answer or "")
    if nlu_intent.get("name") in _ANSWERABLE and _THANKS_FIRST.match(folded) and not is_question(text):
        return "thank", {}  # "thank you shop 😍 chị xem được đơn rồi" asks nothing
    return None


def yes_or_no(text: str, enough_is: str, yes_words: frozenset[str] = _YES) -> str | None:
    """ "yes", "no" or None for a short reply to a yes/no question. A message that asks something
    ("thế có giao tới Cà Mau không?") or asks for a person is a new request, left to the NLU. A "no"
    then decides ("chưa, web vẫn ghi đang xử lý" is a no with details); a "yes" only when nothing
    but courtesy follows. "Thôi", "không cần" (nothing more) count as `enough_is`: a yes to "did
    that solve it?" when thanked, a no to an offer."""
    folded = fold(expand_text(text))
    clauses = [c.strip() for c in _CLAUSE.split(folded) if c and c.strip()]
    if not clauses or "?" in text or any(asks_something(c) for c in clauses):
        return None
    offer = yes_words is not _YES
    if not offer and _PERSON_REQUEST.search(folded):
        return None
    first, rest = clauses[0], clauses[1:]
    words = [w for w in first.split() if w not in _FILLER]
    thanked = any(w in _THANKS for c in clauses for w in c.split())
    enough = _ENOUGH.search(first)
    if enough and _courteous(_ENOUGH.sub(" ", first), frozenset()):
        return enough_is if enough_is == "no" or thanked else None
    if words and words[0] in _NO:
        return "no"
    if thanked and not _BUT.search(folded) and not any(w in _NO for c in clauses for w in c.split()):
        # "thôi để mai ra sớm, cảm ơn ad nha": thanks and nothing left wrong; to an offer of a
        # person, a polite no when "thôi" says so
        if not offer:
            return "yes"
        if enough:
            return "no"
    if offer and thanked and not any(w in _PERSON for c in clauses for w in c.split()):
        return None  # "ok, cảm ơn": thanks, not a yes to a person
    said_yes = any(w in yes_words for w in words)
    if said_yes and all(_courteous(c, yes_words) for c in [" ".join(words), *rest]):
        return "yes"
    return None


def asks_something(clause: str) -> bool:
    """Whether a folded clause is a question ("có giao tới Cà Mau không", "phí ship bao nhiêu")."""
    return _ASKS.search(clause) is not None


def names_a_subject(text: str) -> bool:
    """Whether a message only names what it is about, asking nothing yet ("ship", "mình muốn hỏi
    về tài khoản thành viên"): then the close topics are offered rather than the likeliest one
    answered, as an agent asks "về phí ship hay thời gian giao ạ?"."""
    folded = fold(expand_text(text)).strip(" .!")
    if "?" in text or asks_something(folded) or re.search(r"\d", folded):
        return False  # a question, or an order number, a price: something specific
    words = [w for w in folded.split() if w not in _FILLER and w not in _ABOUT_WORDS]
    framed = re.search(r"\bhoi\b(?: \S+)? ve\b", folded) is not None  # "hỏi (chút) về …"
    return 0 < len(words) <= (MAX_SUBJECT_WORDS if framed else MAX_BARE_SUBJECT_WORDS)


def is_question(text: str) -> bool:
    """Whether a message asks something anywhere: "…, mình hỏi trả góp 0% thôi", "à mà cho hỏi
    xuất hóa đơn VAT thì làm thế nào?"."""
    folded = fold(expand_text(text))
    if "?" in text or _ASKING.search(folded):
        return True
    return any(asks_something(clause.strip()) for clause in _CLAUSE.split(folded))


def question_part(text: str) -> tuple[str, str]:
    """What a message says before it asks, and what it asks: ("nên tích điểm nhiều hơn", "cho hỏi
    giờ có mã giảm giá nào ko") for "nên tích điểm nhiều hơn, mà cho hỏi giờ có mã giảm giá nào
    ko"; (text, "") if nothing is asked."""
    folded = fold(text)  # folding keeps offsets
    start, before = 0, 0
    for separator in [*_CLAUSE.finditer(folded), None]:
        end = separator.start() if separator else len(folded)
        clause = fold(expand_text(text[start:end])).strip()
        if clause and (asks_something(clause) or _ASKING.search(clause) or "?" in text[end : end + 1]):
            return text[:before].strip(" ,.;!\n"), text[start:].strip(" ,.;!\n")
        if separator:
            start, before = separator.end(), separator.start()
    return text.strip(), ""


def _courteous(clause: str, answer_words: frozenset[str]) -> bool:
    """Nothing in the clause but more of the answer, fillers and thanks."""
    return all(w in _FILLER or w in _THANKS or w in answer_words for w in clause.split())


def corrected_name(text: str) -> Name | None:
    """The name in a correction: framed anywhere ("không phải Thu, chị tên Hằng") or alone after
    the correction ("à gõ nhầm, Trần Minh Tuấn ạ")."""
    stated = stated_name(text)
    if stated:
        return stated
    match = _NOT_THAT.search(fold(text))
    after = text[match.end() :].lstrip(" ,.:;!-") if match else ""
    name = parse_name_answer(after).name if after else None
    # a bare name only when written as one ("Trần Minh Tuấn ạ", not "hàng chính hãng à")
    written = after.split()[: len(name.full.split())] if name else []
    return name if written and all(word[:1].isupper() for word in written) else None


def _holds_a_name(text: str) -> bool:
    return stated_name(text) is not None or parse_name_answer(text).name is not None


def _name(text: str, nlu_intent: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    answer = parse_name_answer(text)
    if answer.declined:
        return "deny", {}
    if answer.name is None:
        return None
    sure_breakout = (
        nlu_intent.get("name") in BREAKOUT_INTENTS
        and float(nlu_intent.get("confidence") or 0) >= BREAKOUT_CONFIDENCE
    )
    if not answer.explicit and ("?" in text or sure_breakout):
        return None
    return "inform_name", {}


def _choice(text: str, asked: Asked) -> tuple[str, dict[str, Any]] | None:
    """One of the topics offered as buttons, by its number ("2", "cái thứ hai") or its title."""
    topics = [(title, _payload_entities(p).get("faq_topic")) for title, p in asked.buttons]
    topics = [(title, topic) for title, topic in topics if topic]
    folded = " ".join(fold(expand_text(text)).split())
    ordinal = _ORDINAL.match(folded)
    if ordinal:
        raw = ordinal.group(1)
        number = int(raw) if raw.isdigit() else _ORDINAL_WORDS[raw]
        return ("faq_choose", {"faq_topic": topics[number - 1][1]}) if 1 <= number <= len(topics) else None
    titles = {" ".join(fold(title).split()): topic for title, topic in topics}
    named = [topic for title, topic in titles.items() if title and title in folded]
    if len(named) == 1:
        return "faq_choose", {"faq_topic": named[0]}
    close = difflib.get_close_matches(folded, list(titles), n=2, cutoff=0.85)
    if len(close) == 1:
        return "faq_choose", {"faq_topic": titles[close[0]]}
    return None


def _payload_intent(payload: str) -> str:
    return payload[1:].split("{", 1)[0].strip() if payload.startswith("/") else ""


def _payload_entities(payload: str) -> dict[str, Any]:
    if "{" not in payload:
        return {}
    try:
        entities = json.loads(payload[payload.index("{") :])
    except ValueError:
        return {}
    return entities if isinstance(entities, dict) else {}


def _entity(name: str, value: Any, text: str) -> dict[str, Any]:
    return {"entity": name, "value": value, "start": 0, "end": len(text), "extractor": "in_context"}
