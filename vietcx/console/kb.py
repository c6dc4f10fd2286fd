"""The knowledge base in the browser (/kb), for admins and editors: topics and their example
questions listed, searched, added, changed and deleted, each save checked as `kb check` checks the
file and kept in a history that can be restored; a test question answered as the assistant would;
and the questions customers asked that it could not answer, one click from becoming examples.
The assistant picks every save up by itself, as when the file is edited by hand."""

from __future__ import annotations

import hashlib
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import portalocker
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.engine import Engine
from werkzeug.wrappers import Response

from vietcx.console.auth import record
from vietcx.console.forms import BaseForm, ExampleForm, TopicForm
from vietcx.console.permissions import can_edit_kb
from vietcx.console.queries import faq_rows
from vietcx.embeddings import embed, load_model
from vietcx.kb import editor, unanswered
from vietcx.kb.loader import KnowledgeBaseError
from vietcx.kb.search import KnowledgeBase
from vietcx.normalize import fold
from vietcx.settings import kb_file
from vietcx.store import kb_history

blueprint = Blueprint("kb", __name__)
ACTIONS = {
    "add": "Thêm chủ đề",
    "edit": "Sửa chủ đề",
    "delete": "Xóa chủ đề",
    "example": "Thêm câu hỏi mẫu",
    "restore": "Khôi phục phiên bản",
    "file": "Sửa trực tiếp trong tệp",
}
UNANSWERED_DAYS = (7, 30, 90)
_saving = threading.Lock()  # one save at a time in this process; the file lock covers the others


@blueprint.before_request
def _editors_only() -> None:
    if not can_edit_kb(current_user):
        abort(403, "Chỉ quản trị viên và biên tập viên kiến thức mới xem và sửa được kho kiến thức.")


def _db() -> Engine:
    return current_app.extensions["vietcx.db"]


def _knowledge_base() -> KnowledgeBase:
    """The live knowledge base as the assistant searches it (built on first use: it loads the
    embedding model; it reloads itself when the file changes)."""
    return current_app.extensions.setdefault("vietcx.kb", KnowledgeBase(kb_file()))


def _content() -> str:
    try:
        return editor.read(kb_file())
    except OSError:
        abort(500, "Không đọc được tệp kho kiến thức trên máy chủ. Vui lòng báo quản trị viên.")


def _save(content: str, base: str | None, action: str, topic_id: str | None, summary: str) -> list[str]:
    """Writes `content` if the file is still the version `base` the form was made from and passes
    `kb check`; returns the problems otherwise (nothing is written)."""
    path = kb_file()
    lock = (
        Path(tempfile.gettempdir()) / f"vietcx-kb-{hashlib.sha256(str(path).encode()).hexdigest()[:12]}.lock"
    )
    with _saving, portalocker.Lock(str(lock), timeout=30):
        current = _content()
        if base != editor.fingerprint(current):
            return ["Kho kiến thức vừa được người khác thay đổi. Vui lòng tải lại trang rồi sửa lại."]
        found = editor.problems(content, path)
        if found:
            return found
        if kb_history.latest_content(_db()) != current:  # changed by hand since: kept, to restore it
            kb_history.record(current, kb_history.OUTSIDE, "file", summary="Phiên bản trong tệp", db=_db())
        editor.save(path, content)
        kb_history.record(content, current_user.username, action, topic_id, summary, db=_db())
    record("kb_change", current_user.username, topic_id, summary)
    return []


def _refused(problems: list[str]) -> None:
    for problem in problems:
        flash(problem, "error")


@blueprint.get("/kb")
def topics() -> str:
    content = _content()
    found = editor.topics_of(content)
    query = request.args.get("q", "").strip()[:200]
    if query:
        found = [t for t in found if fold(query) in _searchable(t)]
    ask = request.args.get("ask", "").strip()[:500]
    return render_template(
        "kb.html",
        topics=found,
        query=query,
        ask=ask,
        preview=_preview(ask) if ask else None,
        problems=editor.problems(content, kb_file()),
    )


def _searchable(topic: dict) -> str:
    """A topic's id, title, answer and examples without diacritics: "bao hanh" finds "bảo hành"."""
    return fold(
        " ".join(
            map(
                str,
                [topic.get("id"), topic.get("title"), topic.get("answer"), *(topic.get("examples") or [])],
            )
        )
    )


def _preview(question: str) -> dict:
    """What the knowledge base decides for the question, as the FAQ action uses it."""
    try:
        decision = _knowledge_base().decide(question)
    except KnowledgeBaseError:
        return {"kind": "broken", "matches": []}
    return {
        "kind": decision.kind,
        "answer": decision.matches[0].topic.answer if decision.kind == "answer" else None,
        "matches": [(m.topic, m.score) for m in decision.matches],  # at most three
    }


def _topic_form(topic: dict | None = None) -> TopicForm:
    """The form as posted, or filled from the topic (a new one: from ?example=, an unanswered question)."""
    return TopicForm() if request.method == "POST" else TopicForm(data=_form_data(topic))


def _form_data(topic: dict | None) -> dict:
    base = editor.fingerprint(_content())
    if topic is None:
        example = request.args.get("example", "").strip()[:300]
        return {"examples": example, "base": base}
    return {
        "topic_id": topic.get("id"),
        "title": topic.get("title"),
        "answer": str(topic.get("answer") or "").strip(),
        "examples": "\n".join(map(str, topic.get("examples") or [])),
        "base": base,
    }


def _from_form(form: TopicForm) -> dict:
    examples = list(dict.fromkeys((form.examples.data or "").splitlines()))
    return {"id": form.topic_id.data or "", "title": form.title.data or "", "answer": form.answer.data or "",
            "examples": examples}  # fmt: skip


def _find(topic_id: str, found: list[dict]) -> int:
    index = next((n for n, t in enumerate(found) if str(t.get("id")) == topic_id), None)
    if index is None:
        abort(404, "Không tìm thấy chủ đề này. Có thể chủ đề vừa bị xóa hoặc đổi mã.")
    return index


def _submitted(form: TopicForm, save: Callable[[dict], list[str]], done: str) -> Response | None:
    """What the add and edit pages do with a submission: the topic saved by `save` (the list of
    topics next, `done` flashed with its title), else the problems flashed and None (the page again)."""
    if form.validate_on_submit():
        topic = _from_form(form)
        problems = save(topic)
        if not problems:
            flash(f"{done} “{topic['title']}”. Trợ lý ảo dùng ngay nội dung mới.", "success")
            return redirect(url_for("kb.topics"), code=303)
        _refused(problems)
    elif request.method == "POST":
        _refused([str(e) for errors in form.errors.values() for e in errors])
    return None


@blueprint.route("/kb/topics/new", methods=["GET", "POST"])
def new_topic() -> Response | str | tuple[str, int]:
    form = _topic_form()

    def add(topic: dict) -> list[str]:
        content = _content()
        changed = editor.render([*editor.topics_of(content), topic], content)
        return _save(changed, form.base.data, "add", topic["id"], f"Thêm chủ đề “{topic['title']}”")

    saved = _submitted(form, add, "Đã thêm chủ đề")
    if saved:
        return saved
    page = render_template("kb_topic.html", form=form, topic_id=None)
    return page, 400 if request.method == "POST" else 200


@blueprint.route("/kb/topics/<topic_id>", methods=["GET", "POST"])
def edit_topic(topic_id: str) -> Response | str | tuple[str, int]:
    content = _content()
    found = editor.topics_of(content)
    index = _find(topic_id, found)
    form = _topic_form(found[index])

    def change(topic: dict) -> list[str]:
        found[index] = topic
        summary = f"Sửa chủ đề “{topic['title']}”"
        return _save(editor.render(found, content), form.base.data, "edit", topic["id"], summary)

    saved = _submitted(form, change, "Đã lưu chủ đề")
    if saved:
        return saved
    page = render_template(
        "kb_topic.html", form=form, topic_id=topic_id, delete_form=BaseForm(base=form.base.data)
    )
    return page, 400 if request.method == "POST" else 200


@blueprint.post("/kb/topics/<topic_id>/delete")
def delete_topic(topic_id: str) -> Response:
    form = BaseForm()
    if not form.validate_on_submit():
        abort(400)
    content = _content()
    found = editor.topics_of(content)
    removed = found.pop(_find(topic_id, found))
    summary = f"Xóa chủ đề “{removed.get('title')}”"
    problems = _save(editor.render(found, content), form.base.data, "delete", topic_id, summary)
    if problems:
        _refused(problems)
        return redirect(url_for("kb.edit_topic", topic_id=topic_id), code=303)
    flash(f"Đã xóa chủ đề “{removed.get('title')}”. Có thể khôi phục trong lịch sử thay đổi.", "success")
    return redirect(url_for("kb.topics"), code=303)


@blueprint.get("/kb/history")
def history() -> str:
    return render_template(
        "kb_history.html",
        versions=kb_history.versions(200, _db()),
        actions=ACTIONS,
        form=BaseForm(base=editor.fingerprint(_content())),
    )


@blueprint.post("/kb/history/<int:version_id>/restore")
def restore(version_id: int) -> Response:
    form = BaseForm()
    if not form.validate_on_submit():
        abort(400)
    version = kb_history.get(version_id, _db())
    if version is None:
        abort(404, "Không tìm thấy phiên bản này.")
    summary = f"Khôi phục phiên bản #{version_id}"
    problems = _save(version["content"], form.base.data, "restore", None, summary)
    if problems:
        _refused(problems)
    else:
        flash(f"Đã khôi phục phiên bản #{version_id}. Trợ lý ảo dùng ngay nội dung này.", "success")
    return redirect(url_for("kb.history"), code=303)


@blueprint.get("/kb/unanswered")
def unanswered_questions() -> str:
    days = request.args.get("days", 30, type=int)
    if days not in UNANSWERED_DAYS:
        abort(400, "Khoảng thời gian chưa hợp lệ.")
    content = _content()
    found = editor.topics_of(content)
    rows = faq_rows(time.time() - days * 86400, current_app.config["VIETCX_TRACKER_URL"])
    examples = {unanswered.same_text(str(e)) for t in found for e in (t.get("examples") or [])}
    groups: list = []
    closest: dict[int, list] = {}
    asked = unanswered.questions(rows)
    if asked:
        knowledge = _knowledge_base()
        decided: dict[str, str] = {}

        def still_open(question: unanswered.Question) -> bool:
            """Not an example yet, and not a search miss the knowledge base answers by now."""
            if unanswered.same_text(question.text) in examples:
                return False
            if question.kind == unanswered.MISS and question.text not in decided:
                decided[question.text] = knowledge.decide(question.text).kind
            return decided.get(question.text) != "answer"

        model = load_model(knowledge.model_name)  # the search's own model (loaded once per process)
        groups = unanswered.group(asked, still_open, lambda texts: embed(model, texts))
        ranked = knowledge.index()
        closest = {n: [(m.topic, m.score) for m in ranked.rank(g.text)[:3]] for n, g in enumerate(groups)}
    titles = {str(t.get("id")): str(t.get("title")) for t in found}
    return render_template(
        "kb_unanswered.html",
        groups=groups,
        closest=closest,
        titles=titles,
        days=days,
        choices=UNANSWERED_DAYS,
        base=editor.fingerprint(content),
        form=ExampleForm(),
    )


@blueprint.post("/kb/unanswered")
def add_example() -> Response:
    form = ExampleForm()
    back = redirect(url_for("kb.unanswered_questions", days=request.args.get("days", 30, type=int)), code=303)
    if not form.validate_on_submit():
        abort(400, "Câu hỏi hoặc chủ đề chưa hợp lệ. Vui lòng tải lại trang rồi thử lại.")
    content = _content()
    found = editor.topics_of(content)
    topic = found[_find(form.topic_id.data, found)]
    topic["examples"] = [*(topic.get("examples") or []), form.question.data]
    summary = f"Thêm câu hỏi mẫu vào “{topic.get('title')}”"
    problems = _save(editor.render(found, content), form.base.data, "example", form.topic_id.data, summary)
    if problems:
        _refused(problems)
    else:
        flash(f"Đã thêm “{form.question.data}” làm câu hỏi mẫu của “{topic.get('title')}”.", "success")
    return back
