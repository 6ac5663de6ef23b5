"""Hostile query strings and path segments on every GET route: an answer, never a server error.

Each GET route of ``app.url_map`` is visited by a signed-in centre administrator
(web routes) or with their API token (API routes), with the URL naming real
records, and every query parameter the views read set to hostile values: huge
and negative numbers, more digits than Python converts, non-numbers,
non-ASCII digits, NUL bytes, impossible dates, very long strings. Each name
takes every value once, next to different values of the other names, so that
one refused parameter does not hide another. Routes with text in the path
(short codes, file names, Digital Link paths) get the hostile values there too.
The suite runs this on SQLite and on PostgreSQL, which refuses NUL bytes in text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from werkzeug.routing import Rule

from tests import factories
from tests.conftest import ApiHelper, WebHelper, _empty_tables
from tests.records import collection_app, one_of_each
from traceability.accounts.throttle import login_throttle

# What the views read from query strings: request.args.get names and the fields of
# the filter forms bound to request.args.
PARAMETERS = (
    "page", "per_page", "q", "next", "sent", "year", "size", "ec", "thumbnail", "copies", "template",
    "direction", "producer_id", "product_id", "batch_id", "location_id", "object_id", "object_type",
    "user", "action", "date_from", "date_to", "status", "state", "kind", "type", "scope", "severity",
    "outcome", "subject", "subject_kind", "province", "group", "stars", "ocop_group", "ocop_stars",
    "flagship",
)  # fmt: skip

HOSTILE = (
    "99999999999999999999999999",
    "-1",
    "1" * 5000,  # more digits than int() converts
    "1e309",
    "abc",
    "\x00",
    "1\x00",
    "١٢٣",  # Arabic-Indic digits: int() and \d take them
    "²",  # str.isdigit() is true, int() refuses it
    "Đắk Lắk 🐍 \u202e",
    "x" * 10_000,
    "%_\\'\";--",
    "2026-02-30",
    "0001-01-01",
    "9999-12-31",
    "",
    "1",  # a sane value next to the others, so their validation is reached
)

SKIPPED_ENDPOINTS = {"static", "api.openapi"}  # files; the document, which reads no query
PLACEHOLDER = re.compile(r"<(?:[^<>]*:)?(\w+)>")


def _get_rules() -> list[Rule]:
    rules = collection_app().url_map.iter_rules()
    return sorted(
        (rule for rule in rules if "GET" in (rule.methods or ()) and rule.endpoint not in SKIPPED_ENDPOINTS),
        key=lambda rule: rule.rule,
    )


GET_RULES = {rule.rule: rule for rule in _get_rules()}


@pytest.fixture(scope="module")
def visitor(_app: Flask) -> Iterator[SimpleNamespace]:
    """A centre administrator signed in on the website and holding an API token, and the URL arguments."""
    with _app.app_context():
        centre = factories.make_centre("66")
        own = SimpleNamespace(centre=centre)
        own.staff = factories.make_user("centre_staff", centre=centre)
        own.admin = factories.make_user("centre_admin", centre=centre)
        own.producer = factories.make_producer(centre)
        own.producer_user = factories.make_user("producer", producer=own.producer)
        own.location = factories.make_location(own.producer)
        own.product = factories.make_product(own.producer)
        own.batch = factories.make_batch(own.product)
        api = ApiHelper(_app.test_client())
        args = one_of_each(own, api)
        token = api.token(own.admin)
        web = WebHelper(_app.test_client())
        assert web.login(own.admin.email).status_code == 302
    yield SimpleNamespace(client=web.client, token=token, args=args)
    with _app.app_context():
        _empty_tables()
        login_throttle.reset()


def _path(rule: Rule, args: dict[str, Any], hostile: str | None = None) -> str:
    """The rule's URL with real ids, and ``hostile`` (when given) in each text segment."""

    def value(match: re.Match) -> str:
        name = match.group(1)
        converter = rule._converters[name]
        if hasattr(converter, "items"):  # any(a, b): its first value
            return sorted(converter.items)[0]
        if hostile is not None and _is_text(converter):
            return quote(hostile, safe="")
        return quote(str(args.get(name, 1)), safe="/")

    return PLACEHOLDER.sub(value, rule.rule)


def _is_text(converter: Any) -> bool:
    return not hasattr(converter, "items") and not converter.regex.startswith("\\d")


def _has_text_segment(rule: Rule) -> bool:
    return any(_is_text(converter) for converter in rule._converters.values())


@pytest.mark.parametrize("rule_text", sorted(GET_RULES))
def test_hostile_query_strings_get_an_answer_not_a_server_error(visitor, rule_text):
    rule = GET_RULES[rule_text]
    headers = {"Authorization": f"Bearer {visitor.token}"} if rule.rule.startswith("/api/") else {}
    failures = []
    requests = []
    path = _path(rule, visitor.args)
    for shift in range(len(HOSTILE)):
        query = {name: HOSTILE[(index + shift) % len(HOSTILE)] for index, name in enumerate(PARAMETERS)}
        requests.append((path, query))
    if _has_text_segment(rule):
        requests += [(_path(rule, visitor.args, hostile), {}) for hostile in HOSTILE if hostile]
    for name, converter in rule._converters.items():
        if not _is_text(converter) and not hasattr(converter, "items"):
            # The largest and smallest numbers an <int:...> segment matches.
            requests += [(_path(rule, {**visitor.args, name: number}), {}) for number in ("9999999999", "0")]
    for url, query in requests:
        response = visitor.client.get(url, query_string=query, headers=headers)
        response.close()  # file downloads hold their file open until then
        if response.status_code >= 500:
            sample = "&".join(f"{name}={value[:12]!r}" for name, value in query.items())
            failures.append(f"{response.status_code} GET {url[:100]}?{sample}")
    assert not failures, "\n".join(failures[:3])
