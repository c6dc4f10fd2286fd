"""The console's forms (Flask-WTF: each carries and checks the CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, TextAreaField
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
