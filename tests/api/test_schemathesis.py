"""Schemathesis: requests generated from /api/v1/openapi.json never get a 500 nor an answer off the document.

Each operation of the document becomes a test, run once by a producer user
and once by centre staff with their own bearer tokens, against a registry
holding one record of every kind the paths name. A well-formed id in a
path is replaced by the id of such a record (a random id almost never exists,
and the body would never get past the 404); other values stay as generated,
so huge, negative or non-numeric ids are tried too. Examples are bounded so
the file runs in the normal suite.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.records import collection_app, one_of_each
from traceability.accounts.service import issue_token
from traceability.core.database import MAX_ID
from traceability.core.extensions import db

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def config(*, coverage: bool) -> SchemathesisConfig:
    """Examples bounded for the normal suite, derandomised so every run tries the same requests."""
    return SchemathesisConfig.from_dict(
        {
            "generation": {"max-examples": 15, "deterministic": True, "database": "none"},
            "phases": {"coverage": {"enabled": coverage}},
            "operations": [
                # Each request may create 10,000 items: a few are enough.
                {
                    "include-path": "/batches/{batch_id}/serials",
                    "generation": {"max-examples": 3},
                    "phases": {"coverage": {"enabled": False}},
                },
            ],
        }
    )


# The document does not depend on the data, so it is read once, at collection,
# from an app of its own; each of its operations becomes a test item. The
# coverage phase (every boundary, every missing or mistyped field) runs for
# one caller: validation comes before the caller's role.
with_coverage = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json", collection_app(), config=config(coverage=True)
)
fuzzing_only = schemathesis.openapi.from_dict(with_coverage.raw_schema, config=config(coverage=False))


def isolated_requests(app: Flask) -> Callable[[dict[str, Any], Callable], Iterable[bytes]]:
    """The app as a WSGI callable whose every request gets its own app context, as in production.

    The test holds an app context open (the ``app`` fixture); without this the
    requests would share its ``g`` and its database session, as they would
    without ``RequestIsolatedClient``.
    """

    def wsgi(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        db.session.commit()  # the test's own session holds no transaction while the request runs
        with app.app_context():
            response = app.wsgi_app(environ, start_response)
            try:
                return [b"".join(response)]
            finally:
                if hasattr(response, "close"):
                    response.close()

    return wsgi


@pytest.fixture
def path_ids(tenants, api) -> dict[str, int]:
    ids = one_of_each(tenants["daklak"], api)
    # A token neither caller may revoke (another centre's staff): DELETE /tokens/{id} answers 404
    # and leaves the callers' own tokens valid for the operations after it.
    ids["token_id"] = issue_token(tenants["nghean"].staff)[1].id
    db.session.commit()
    return ids


def well_formed_id(value: Any) -> bool:
    """An id a record could have: an int, or a string of its digits, from 0 to MAX_ID."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return False
    text = str(value)
    return text.isascii() and text.isdigit() and len(text) <= 10 and int(text) <= MAX_ID


@pytest.fixture
def as_producer(tenants, api) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.token(tenants['daklak'].producer_user)}"}


@pytest.fixture
def as_centre_staff(tenants, api) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.token(tenants['daklak'].staff)}"}


def call_and_validate(case: Any, app: Flask, headers: dict[str, str], path_ids: dict[str, int]) -> None:
    for name, value in (case.path_parameters or {}).items():
        if well_formed_id(value):
            case.path_parameters[name] = path_ids[name]
    case.call_and_validate(app=isolated_requests(app), headers=headers, checks=CHECKS)


SETTINGS = settings(
    deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@with_coverage.parametrize()
@SETTINGS
def test_producer_gets_answers_the_document_declares(case, app, as_producer, path_ids):
    call_and_validate(case, app, as_producer, path_ids)


@fuzzing_only.parametrize()
@SETTINGS
def test_centre_staff_get_answers_the_document_declares(case, app, as_centre_staff, path_ids):
    call_and_validate(case, app, as_centre_staff, path_ids)
