"""The console's forms (Flask-WTF: each carries and checks the CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

REPLY_MAX = 2000


def _tidy(value: str | None) -> str | None:
    """Surrounding blanks dropped, line ends as browsers count them, so the limit means the same."""
    return value.replace("\r\n", "\n").strip() if value else value


class LoginForm(FlaskForm):
    username = StringField(
        "Tên đăng nhập",
        validators=[DataRequired("Vui lòng nhập tên đăng nhập."), Length(max=64)],
        filters=[_tidy],
    )
    password = PasswordField(
        "Mật khẩu", validators=[DataRequired("Vui lòng nhập mật khẩu."), Length(max=200)]
    )


class ReplyForm(FlaskForm):
    text = TextAreaField(
        "Nội dung trả lời",
        validators=[
            DataRequired("Nội dung trả lời đang trống."),
            Length(max=REPLY_MAX, message=f"Nội dung trả lời tối đa {REPLY_MAX} ký tự."),
        ],
        filters=[_tidy],
    )


def _lines(value: str | None) -> str | None:
    """One example question a line: blanks dropped, line ends as browsers count them."""
    return "\n".join(line.strip() for line in value.splitlines() if line.strip()) if value else value


class TopicForm(FlaskForm):
    """A knowledge base topic; what `kb check` requires is checked on the whole file before saving."""

    topic_id = StringField("Mã chủ đề", validators=[Length(max=64)], filters=[_tidy])
    title = StringField(
        "Tiêu đề", validators=[Length(max=200, message="Tiêu đề tối đa 200 ký tự.")], filters=[_tidy]
    )
    answer = TextAreaField(
        "Câu trả lời",
        validators=[Length(max=4000, message="Câu trả lời tối đa 4000 ký tự.")],
        filters=[_tidy],
    )
    examples = TextAreaField(
        "Câu hỏi mẫu (mỗi dòng một câu)",
        validators=[Length(max=30000, message="Danh sách câu hỏi mẫu quá dài.")],
        filters=[_lines],
    )
    base = HiddenField()  # the file version the form was made from


class ExampleForm(FlaskForm):
    """An unanswered question added as an example of a topic."""

    question = StringField(validators=[DataRequired(), Length(max=300)], filters=[_tidy])
    topic_id = StringField(validators=[DataRequired(), Length(max=64)], filters=[_tidy])
    base = HiddenField()


class BaseForm(FlaskForm):
    """A form that only confirms an action (delete, restore) on a file version."""

    base = HiddenField()
