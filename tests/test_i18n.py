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
from traceability.config import PROJECT_ROOT

TRANSLATIONS = PROJECT_ROOT / "translations"
LOCALES = ("vi", "en")
FIX = "run scripts/i18n.sh all, translate the vi catalog, then scripts/i18n.sh compile"
PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrs]")


def _po(locale: str) -> Catalog:
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=locale)


def _ids(catalog: Catalog) -> set[str]:
    return {message.id for message in catalog if message.id}


def _placeholders(text: str) -> list[str]:
    return sorted(match.group(0) for match in PLACEHOLDER.finditer(text))


def test_every_vietnamese_message_is_translated_and_none_is_fuzzy():
    catalog = _po("vi")
    assert not catalog.fuzzy, "the vi catalog's header is marked fuzzy: pybabel compile would skip it"
    untranslated = [message.id for message in catalog if message.id and not message.string]
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
    assert in_pot == in_code, f"messages.pot is stale ({FIX}): {sorted(in_pot ^ in_code)}"
    for locale in LOCALES:
        in_catalog = _ids(_po(locale))
        assert in_catalog == in_code, (
            f"the {locale} catalog is stale ({FIX}); "
            f"missing {sorted(in_code - in_catalog)}, no longer used {sorted(in_catalog - in_code)}"
        )


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalog_matches_its_po(locale: str):
    translated = {
        message.id: message.string
        for message in _po(locale)
        if message.id and message.string and not message.fuzzy
    }
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo").open("rb") as f:
        compiled = {message.id: message.string for message in read_mo(f) if message.id}
    assert compiled == translated, f"messages.mo of {locale} is stale: run scripts/i18n.sh compile"


@pytest.fixture
def browser(_app) -> WebHelper:
    """A client whose every request has its own app context, as in production.

    The ``app`` fixture keeps one app context open for the whole test and the
    test client reuses it, so Flask-Babel (which caches the locale on ``g``)
    would keep the first request's language for the next ones.
    """
    return WebHelper(_app.test_client())


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


def test_language_switch_changes_language_and_returns_to_the_page(browser):
    token = browser.csrf_token("/login")
    response = browser.client.post("/lang/en", data={"csrf_token": token, "next": "/login?next=/manage"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/manage"
    # The choice is remembered and wins over the browser's language.
    page = browser.client.get("/login", headers={"Accept-Language": "vi"}).get_data(as_text=True)
    assert "Sign in" in page
    assert "Đăng nhập" not in page

    response = browser.client.post("/lang/vi", data={"csrf_token": token, "next": "/login"})
    assert response.status_code == 302
    assert "Đăng nhập" in browser.client.get("/login").get_data(as_text=True)


def test_language_switch_refuses_an_unknown_language(browser):
    token = browser.csrf_token("/login")
    response = browser.client.post("/lang/xx", data={"csrf_token": token, "next": "/login"})
    assert response.status_code == 404
    assert "Đăng nhập" in browser.client.get("/login").get_data(as_text=True)


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
