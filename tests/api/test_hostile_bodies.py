"""Hostile request bodies on every write route: an answer, never a server error.

JSON nested hundreds or thousands of levels deep, huge arrays and strings,
numbers no column holds, the wrong types, invalid UTF-8: each API write
route answers 4xx in the error shape (or succeeds), signed in or not. Every
web form route gets oversized and odd forms and a deep JSON body. The finding
this reproduces: ``[`` × 400 + ``]`` × 400 (801 bytes) to ``POST /api/v1/tokens``
without signing in answered 500 (``RecursionError``). The suite runs this on
SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
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
from traceability.api.spec import OPERATIONS
from traceability.http.json_bodies import MAX_JSON_DEPTH, json_depth

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
PLACEHOLDER = re.compile(r"<(?:[^<>]*:)?(\w+)>")
# Routes that end the visitor's session: visited last (the fixture signs in again).
SESSION_ENDING = ("logout", "sessions", "password")


def deep_array(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def deep_object(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


# Whole bodies, sent as application/json whatever the route expects.
HOSTILE_BODIES = {
    "array-400": deep_array(400),  # the report: 801 bytes, 500 before
    "array-5000": deep_array(5000),
    "array-200000": deep_array(200_000),
    "object-400": deep_object(400),
    "object-20000": deep_object(20_000),
    "just-too-deep": json.dumps({"name": json.loads(deep_array(MAX_JSON_DEPTH))}).encode(),
    "unclosed": b"[" * 100_000,
    "flat-array": b"[" + b"0," * 200_000 + b"0]",
    "huge-string": json.dumps({"name": "x" * 2_000_000}).encode(),
    "many-keys": json.dumps({f"k{index}": index for index in range(50_000)}).encode(),
    "digits": b'{"quantity": ' + b"1" * 5000 + b"}",
    "infinity": b'{"quantity": 1e999, "count": -1e999}',
    "nan": b'{"quantity": NaN}',
    "bad-utf8": b'{"name": "\xff\xfe\xc3"}',
    "bom": b'\xef\xbb\xbf{"name": "x"}',
    "nul": b'{"name": "a\\u0000b"}',
    "lone-surrogate": b'{"name": "\\ud800"}',
    "array": b"[]",
    "string": b'"text"',
    "null": b"null",
    "empty": b"",
}

# Field values, each given to every field of a route's body schema at once.
HOSTILE_VALUES = {
    "deep": json.loads(deep_array(MAX_JSON_DEPTH - 2)),
    "big-int": 10**30,
    "negative": -(2**63) - 1,
    "float": 1e308,
    "long": "Đắk Lắk " * 10_000,
    "object": {"$ne": None},
    "list": [None, {}, []],
    "bool": True,
}


def _write_rules() -> list[Rule]:
    rules = collection_app().url_map.iter_rules()
    return sorted(
        (rule for rule in rules if WRITES & set(rule.methods or ())),
        key=lambda rule: (any(word in rule.endpoint for word in SESSION_ENDING), rule.rule),
    )


WRITE_RULES = {f"{sorted(WRITES & set(rule.methods or ()))[0]} {rule.rule}": rule for rule in _write_rules()}
API_RULES = [name for name, rule in WRITE_RULES.items() if rule.rule.startswith("/api/")]
WEB_RULES = [name for name, rule in WRITE_RULES.items() if not rule.rule.startswith("/api/")]
BODY_SCHEMAS = {f"/api/v1{op.rule}": op.body for op in OPERATIONS if op.body is not None}


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
        email = own.admin.email
    yield SimpleNamespace(web=web, client=web.client, token=token, args=args, email=email, app=_app)
    with _app.app_context():
        _empty_tables()
        login_throttle.reset()


def _path(rule: Rule, args: dict[str, Any]) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1)
        converter = rule._converters[name]
        if hasattr(converter, "items"):
            return sorted(converter.items)[0]
        return quote(str(args.get(name, 1)), safe="/")

    return PLACEHOLDER.sub(value, rule.rule)


def _method(name: str) -> str:
    return name.split(" ", 1)[0]


def _is_error_shape(response) -> bool:
    body = response.get_json(silent=True)
    return (
        isinstance(body, dict)
        and isinstance(body.get("error"), dict)
        and {"code", "message", "fields"} <= body["error"].keys()
    )


def test_the_reported_body_answers_400_in_the_error_shape_without_signing_in(client):
    response = client.post(
        "/api/v1/tokens",
        data=deep_array(400),
        content_type="application/json",
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == {
        "code": "bad_request",
        "message": f"The JSON body is nested too deeply: at most {MAX_JSON_DEPTH} levels.",
        "fields": {},
    }


def test_the_reason_is_in_the_readers_language(client):
    response = client.post(
        "/api/v1/tokens",
        data=deep_array(5000),
        content_type="application/json",
        headers={"Accept-Language": "vi"},
    )
    assert response.status_code == 400
    assert "JSON" in response.get_json()["error"]["message"]
    assert "nested too deeply" not in response.get_json()["error"]["message"]


def test_a_body_at_the_depth_bound_is_read():
    assert json_depth(json.loads(deep_array(MAX_JSON_DEPTH))) == MAX_JSON_DEPTH
    assert json_depth(json.loads(deep_object(MAX_JSON_DEPTH - 1))) == MAX_JSON_DEPTH - 1
    assert json_depth("text") == 0


@pytest.mark.parametrize("body_name", sorted(HOSTILE_BODIES))
def test_hostile_bodies_without_signing_in(client, body_name):
    for path in ("/api/v1/tokens", "/api/v1/epcis/capture", "/api/v1/products"):
        for content_type in ("application/json", "application/ld+json"):
            response = client.post(path, data=HOSTILE_BODIES[body_name], content_type=content_type)
            assert 400 <= response.status_code < 500, (path, response.status_code)
            assert _is_error_shape(response), (path, response.get_data(as_text=True)[:200])


@pytest.mark.parametrize("rule_name", API_RULES)
def test_hostile_json_to_every_api_write_route(visitor, rule_name):
    rule = WRITE_RULES[rule_name]
    path = _path(rule, visitor.args)
    headers = {"Authorization": f"Bearer {visitor.token}"}
    requests = list(HOSTILE_BODIES.items())
    schema = BODY_SCHEMAS.get(rule.rule)
    if schema is not None:
        names = [field.data_key or name for name, field in schema().fields.items() if not field.dump_only]
        for value_name, value in HOSTILE_VALUES.items():
            requests.append((f"fields={value_name}", json.dumps(dict.fromkeys(names, value)).encode()))
    failures = []
    for body_name, body in requests:
        response = visitor.client.open(
            path, method=_method(rule_name), data=body, content_type="application/json", headers=headers
        )
        response.close()
        if response.status_code >= 500 or (response.status_code >= 400 and not _is_error_shape(response)):
            failures.append(f"{response.status_code} {rule_name} {body_name}: {response.get_data()[:120]!r}")
    assert not failures, "\n".join(failures[:5])


# Form fields the views read, each given the hostile values.
FORM_FIELDS = (
    "name", "email", "password", "note", "reason", "code", "quantity", "unit", "lot_code", "gtin", "q",
    "time", "type", "status", "count", "copies", "template", "province_code", "address", "description",
    "producer_id", "product_id", "location_id", "batch_id", "next", "outcome", "number", "valid_from",
)  # fmt: skip
FORM_VALUES = (
    "x" * 200_000,
    "9" * 5000,
    "-1e999",
    "\ud800".encode("utf-8", "surrogatepass").decode("latin-1"),
)


def _signed_in(visitor: SimpleNamespace) -> None:
    if visitor.client.get("/manage/", follow_redirects=False).status_code != 200:
        with visitor.app.app_context():
            assert visitor.web.login(visitor.email).status_code == 302


@pytest.mark.parametrize("rule_name", WEB_RULES)
def test_hostile_forms_to_every_web_write_route(visitor, rule_name):
    rule = WRITE_RULES[rule_name]
    path = _path(rule, visitor.args)
    with visitor.app.app_context():
        token = visitor.web.csrf_token("/manage/")
    failures = []
    requests: list[tuple[str, dict[str, Any]]] = []
    for value in FORM_VALUES:
        fields = dict.fromkeys(FORM_FIELDS, value)
        requests.append((f"form {value[:8]!r}", {"data": {**fields, "csrf_token": token}}))
    requests.append(("2000 fields", {"data": {**{f"f{i}": "1" for i in range(2000)}, "csrf_token": token}}))
    for body_name in ("array-5000", "object-20000", "bad-utf8"):
        requests.append((body_name, {"data": HOSTILE_BODIES[body_name], "content_type": "application/json"}))
    requests.append(
        ("bad multipart", {"data": b"--x\r\nnonsense", "content_type": "multipart/form-data; boundary=x"})
    )
    for body_name, kwargs in requests:
        _signed_in(visitor)
        response = visitor.client.open(path, method=_method(rule_name), **kwargs)
        response.close()
        if response.status_code >= 500:
            failures.append(f"{response.status_code} {rule_name} {body_name}")
    assert not failures, "\n".join(failures[:5])
