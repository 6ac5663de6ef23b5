"""Translations: the catalogs are complete and current, and users get their language.

When a test here fails after you added a string, run ``scripts/i18n.sh all``,
translate the new msgids in ``translations/vi/LC_MESSAGES/messages.po`` and run
``scripts/i18n.sh compile``; commit the .pot, .po and .mo files together.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.conftest import WebHelper
from traceability.core.config import PROJECT_ROOT

TRANSLATIONS = PROJECT_ROOT / "translations"
LOCALES = ("vi", "en")
FIX = "run scripts/i18n.sh all, translate the vi catalog, then scripts/i18n.sh compile"
PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrs]")


def _po(locale: str) -> Catalog:
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=locale)


def _ids(catalog: Catalog) -> set[str]:
    return {message.id for message in catalog if message.id}


def _texts(value: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """A message's text, or its singular and plural forms, as a tuple."""
    return (value,) if isinstance(value, str) else tuple(value)


def _placeholders(value: str | tuple[str, ...] | list[str]) -> list[str]:
    return sorted({match.group(0) for text in _texts(value) for match in PLACEHOLDER.finditer(text)})


def _translated(message) -> bool:
    return bool(message.string) and all(_texts(message.string))


def test_every_vietnamese_message_is_translated_and_none_is_fuzzy():
    catalog = _po("vi")
    assert not catalog.fuzzy, "the vi catalog's header is marked fuzzy: pybabel compile would skip it"
    untranslated = [message.id for message in catalog if message.id and not _translated(message)]
    fuzzy = [message.id for message in catalog if message.id and message.fuzzy]
    assert untranslated == [], f"untranslated in vi ({FIX}): {untranslated}"
    assert fuzzy == [], f"fuzzy in vi, check and clear the flag: {fuzzy}"


def test_vietnamese_keeps_every_placeholder_of_the_english():
    wrong = {
        message.id: message.string
        for message in _po("vi")
        if message.id and _placeholders(message.id) != _placeholders(message.string)
    }
    assert wrong == {}


def test_english_catalog_is_a_real_locale_with_no_fuzzy_entries():
    catalog = _po("en")
    assert str(catalog.locale) == "en"
    assert not catalog.fuzzy
    assert [message.id for message in catalog if message.id and message.fuzzy] == []


def test_catalogs_hold_exactly_the_strings_in_the_code(tmp_path: Path):
    fresh_pot = tmp_path / "messages.pot"
    result = subprocess.run(
        ["bash", str(PROJECT_ROOT / "scripts" / "i18n.sh"), "extract", str(fresh_pot)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    with fresh_pot.open("rb") as f:
        in_code = _ids(read_po(f))
    with (TRANSLATIONS / "messages.pot").open("rb") as f:
        in_pot = _ids(read_po(f))
    assert in_code, "extraction found no strings: is babel.cfg right?"
    assert "Sign in" in in_code  # a template string
    assert "Wrong email or password." in in_code  # gettext in Python
    assert "Lot code" in in_code  # lazy_gettext (_l) in a form
    assert in_pot == in_code, f"messages.pot is stale ({FIX}): {sorted(map(str, in_pot ^ in_code))}"
    for locale in LOCALES:
        in_catalog = _ids(_po(locale))
        assert in_catalog == in_code, (
            f"the {locale} catalog is stale ({FIX}); "
            f"missing {sorted(map(str, in_code - in_catalog))}, no longer used {sorted(map(str, in_catalog - in_code))}"
        )


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalog_matches_its_po(locale: str):
    translated = {
        _texts(message.id): _texts(message.string)
        for message in _po(locale)
        if message.id and _translated(message) and not message.fuzzy
    }
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo").open("rb") as f:
        compiled = {
            _texts(message.id): _texts(message.string)
            for message in read_mo(f)
            if message.id and _translated(message)
        }
    assert compiled == translated, f"messages.mo of {locale} is stale: run scripts/i18n.sh compile"


def test_pages_are_vietnamese_by_default(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="vi">' in page
    assert "Đăng nhập" in page
    assert "Mật khẩu" in page  # a lazily translated form label
    assert "Sign in" not in page


def test_browser_language_english_gives_english_pages(client):
    page = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Sign in" in page
    assert "Password" in page
    assert "Đăng nhập" not in page


def test_unsupported_browser_language_falls_back_to_vietnamese(client):
    page = client.get("/login", headers={"Accept-Language": "fr-FR,fr"}).get_data(as_text=True)
    assert "Đăng nhập" in page


def test_language_switch_changes_language_and_returns_to_the_page(web):
    token = web.csrf_token("/login")
    response = web.client.post("/lang/en", data={"csrf_token": token, "next": "/login?next=/manage"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/manage"
    # The choice is remembered and wins over the browser's language.
    page = web.client.get("/login", headers={"Accept-Language": "vi"}).get_data(as_text=True)
    assert "Sign in" in page
    assert "Đăng nhập" not in page

    response = web.client.post("/lang/vi", data={"csrf_token": token, "next": "/login"})
    assert response.status_code == 302
    assert "Đăng nhập" in web.client.get("/login").get_data(as_text=True)


def test_the_language_follows_the_user_across_sign_in(web, make, db):
    """The language chosen before signing in is kept and saved; a new browser opens in the saved one."""
    user = make.user("producer", producer=make.producer(make.centre("66")))
    db.session.commit()
    token = web.csrf_token("/login")
    web.client.post("/lang/en", data={"csrf_token": token, "next": "/login"})
    web.login(user.email)
    assert "My records" in web.client.get("/manage").get_data(as_text=True)
    db.session.refresh(user)
    assert user.locale == "en"
    # Another browser, which asks for Vietnamese: the user's saved English wins once they sign in.
    other = WebHelper(web.client.application.test_client())
    assert "Đăng nhập" in other.client.get("/login").get_data(as_text=True)
    other.login(user.email)
    assert "My records" in other.client.get("/manage", headers={"Accept-Language": "vi"}).get_data(
        as_text=True
    )


def test_language_switch_refuses_an_unknown_language(web):
    token = web.csrf_token("/login")
    response = web.client.post("/lang/xx", data={"csrf_token": token, "next": "/login"})
    assert response.status_code == 404
    assert "Đăng nhập" in web.client.get("/login").get_data(as_text=True)


@pytest.mark.parametrize(
    ("accept_language", "message"),
    [(None, "Sai email hoặc mật khẩu."), ("en", "Wrong email or password.")],
)
def test_api_error_message_follows_the_accept_language(client, make, db, accept_language, message):
    user = make.user("ministry")
    db.session.commit()
    headers = {"Accept-Language": accept_language} if accept_language else {}
    response = client.post(
        "/api/v1/tokens", json={"email": user.email, "password": "not-the-password"}, headers=headers
    )
    assert response.status_code == 401
    assert response.get_json()["error"]["message"] == message


@pytest.mark.parametrize(
    ("accept_language", "message"),
    [
        (None, "Không tìm thấy, hoặc nằm ngoài phạm vi dữ liệu bạn được xem."),
        ("en", "Not found, or outside the records you may see."),
    ],
)
def test_api_replaces_werkzeug_english_error_texts(client, accept_language, message):
    headers = {"Accept-Language": accept_language} if accept_language else {}
    response = client.get("/api/v1/no-such-resource", headers=headers)
    assert response.status_code == 404
    assert response.get_json()["error"]["message"] == message


def test_form_validation_messages_are_vietnamese(web, tenants):
    web.login(tenants["daklak"].producer_user.email)
    page = web.post_form("/manage/batches/new", {"product_id": str(tenants["daklak"].product.id)})
    text = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "Trường này là bắt buộc." in text
    assert "This field is required." not in text


def test_api_field_errors_follow_the_language(api, tenants):
    user = tenants["daklak"].producer_user
    vietnamese = api.post("/batches", user, json={"lot_code": "A" * 30}).get_json()["error"]["fields"]
    assert vietnamese["product_id"] == ["Thiếu dữ liệu cho trường bắt buộc."]
    assert vietnamese["lot_code"] == ["Độ dài phải từ 1 đến 20 ký tự."]
    english = api.post("/batches", user, json={"lot_code": "A" * 30}, headers={"Accept-Language": "en"})
    fields = english.get_json()["error"]["fields"]
    assert fields["product_id"] == ["Missing data for required field."]
    assert fields["lot_code"] == ["Length must be between 1 and 20."]


def test_csrf_failure_page_says_what_to_do(client):
    page = client.post("/login", data={"email": "a@b.vn", "password": "x"})
    assert page.status_code == 400
    assert "Biểu mẫu đã hết hạn" in page.get_data(as_text=True)


def test_language_switch_never_leaves_the_site(web):
    for target in ("//evil.example/x", "/\\evil.example/x", "https://evil.example/x"):
        response = web.client.post("/lang/en", data={"csrf_token": web.csrf_token(), "next": target})
        assert response.headers["Location"] in ("/", "/x"), target
