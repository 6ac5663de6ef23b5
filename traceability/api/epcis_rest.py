"""The EPCIS 2.0 REST binding (GS1's ``openapi.yaml``) at ``/epcis``: its request boundary.

Served beside ``/api/v1`` with the same bearer tokens (``api.auth``), the same
rate limit per token (API_RATE_LIMIT) and the same tenant scope; its own
contract is GS1's binding, not this app's OpenAPI document: pipe-delimited
query parameters, ``nextPageToken`` paging in a ``Link: <…>; rel="next"``
header, the ``GS1-EPCIS-Version`` and ``GS1-CBV-Version`` headers on every
answer (``OPTIONS`` adds the ``-Min``/``-Max`` ones), and errors as RFC 7807
``application/problem+json`` with the binding's ``epcisException:…`` types.
Each problem also carries the API's ``error`` object (code, message, fields),
so one client reads both; messages are in the caller's language.

``binding_view`` is the boundary every view of the binding goes through: it
checks what the client can read (``Accept``, ``GS1-EPC-Format``, the version
ranges), turns service refusals into problems with the transaction rolled
back, and commits a successful write once. The routes are in
``epcis_rest_queries`` and ``epcis_rest_capture``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, jsonify, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from traceability.api.auth import authenticate
from traceability.api.errors import HTTP_MESSAGES, error_object
from traceability.batches.epcis_capture import MAX_CAPTURE_EVENTS
from traceability.batches.epcis_jobs import CaptureLimitExceeded
from traceability.batches.epcis_query import QueryTooLarge
from traceability.batches.epcis_query_params import DEFAULT_PER_PAGE, QueryParameterError
from traceability.core.dates import VIETNAM_OFFSET
from traceability.core.errors import DomainError
from traceability.core.extensions import csrf, db

bp = Blueprint("epcis", __name__, url_prefix="/epcis")
csrf.exempt(bp)  # bearer tokens only: no cookie is read, so there is nothing to forge

EPCIS_VERSION = "2.0.0"
CBV_VERSION = "2.0.0"
JSON_TYPES = ("application/json", "application/ld+json")
EPC_FORMATS = ("No_Preference", "Always_GS1_Digital_Link", "Never_Translates")  # not Always_EPC_URN
PROBLEM_TYPES = {
    400: "epcisException:ValidationException",
    401: "epcisException:SecurityException",
    403: "epcisException:SecurityException",
    404: "epcisException:NoSuchResourceException",
    406: "epcisException:NotAcceptableException",
    413: "epcisException:CaptureLimitExceededException",
    414: "epcisException:URITooLongException",
    415: "epcisException:UnsupportedMediaTypeException",
    500: "epcisException:ImplementationException",
}
TITLES = {
    400: _l("Invalid request"),
    401: _l("Unauthorised request"),
    403: _l("Access to the resource forbidden"),
    404: _l("Resource not found"),
    405: _l("Method not allowed"),
    406: _l("Not acceptable"),
    413: _l("Too large"),
    414: _l("URI too long"),
    415: _l("Unsupported media type"),
    429: _l("Too many requests"),
    500: _l("Server error"),
}


def is_binding_path(path: str) -> bool:
    """Whether a request path is the binding's (its errors are problem details, not pages)."""
    return path == "/epcis" or path.startswith("/epcis/")


def problem(
    status: int,
    message: Any,
    *,
    kind: str | None = None,
    code: str | None = None,
    fields: Any = None,
    title: Any = None,
) -> Response:
    """An RFC 7807 problem of the binding, with the API's ``error`` object beside it."""
    body = {
        "type": kind or PROBLEM_TYPES.get(status, "about:blank"),
        "title": str(title or TITLES.get(status, message)),
        "status": status,
        "detail": str(message),
        "instance": request.path,
        "error": error_object(status, message, code=code, fields=fields),
    }
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="epcis"'
    return response


def domain_problem(error: DomainError) -> Response:
    """A service's refusal as the binding's problem."""
    if isinstance(error, QueryParameterError):
        return problem(
            400,
            error.message,
            kind="epcisException:QueryParameterException",
            code=error.code,
            fields=error.fields,
            title=_l("Invalid query parameter"),
        )
    if isinstance(error, QueryTooLarge):
        return problem(413, error.message, kind="epcisException:QueryTooLargeException", code=error.code)
    response = problem(error.status, error.message, code=error.code, fields=error.fields)
    if isinstance(error, CaptureLimitExceeded):
        response.headers["GS1-EPCIS-Capture-Limit"] = str(MAX_CAPTURE_EVENTS)
    return response


def http_problem(error: HTTPException) -> Response:
    """A routing or HTTP error under /epcis (404, 405, 413...) as the binding's problem."""
    status = error.code or 500
    description = error.description
    if not description or description == type(error).description:
        description = HTTP_MESSAGES.get(status, error.name)
    response = problem(status, description)
    methods = getattr(error, "valid_methods", None)
    if status == 405 and methods:
        response.headers["Allow"] = ", ".join(methods)
    if status == 413:
        response.headers["GS1-EPCIS-Capture-File-Size-Limit"] = str(current_app.config["MAX_CONTENT_LENGTH"])
    return versioned(response)


def server_problem() -> Response:
    """An unexpected error under /epcis: 500 ImplementationException, nothing said about why."""
    return versioned(problem(500, HTTP_MESSAGES[500]))


@bp.before_request
def authenticate_bearer() -> Response | None:
    """The same bearer tokens and rate limit as /api/v1; refusals as problems."""
    return authenticate(lambda status, message, code=None: problem(status, message, code=code))


def versioned(response: Response) -> Response:
    """The versions this repository speaks, on every answer of the binding."""
    response.headers["GS1-EPCIS-Version"] = EPCIS_VERSION
    response.headers["GS1-CBV-Version"] = CBV_VERSION
    return response


@bp.after_request
def binding_headers(response: Response) -> Response:
    """Version headers on every answer; ``OPTIONS`` answers 204 with what the resource supports."""
    if request.method == "OPTIONS" and response.status_code == 200:
        response.status_code = 204
        response.set_data(b"")
        response.headers.pop("Content-Type", None)
        response.headers["GS1-EPCIS-Min"] = response.headers["GS1-EPCIS-Max"] = EPCIS_VERSION
        response.headers["GS1-CBV-Min"] = response.headers["GS1-CBV-Max"] = CBV_VERSION
        response.headers["GS1-EPC-Format"] = "Always_GS1_Digital_Link"
        if request.path.rstrip("/") == "/epcis/capture":
            response.headers["GS1-EPCIS-Capture-Limit"] = str(MAX_CAPTURE_EVENTS)
            response.headers["GS1-EPCIS-Capture-File-Size-Limit"] = str(
                current_app.config["MAX_CONTENT_LENGTH"]
            )
            response.headers["GS1-Capture-Error-Behaviour"] = "all"  # rollback and proceed
    return versioned(response)


def _version(value: str) -> tuple[int, ...] | None:
    parts = value.strip().split(".")
    if not value.strip() or not all(part.isascii() and part.isdigit() and len(part) < 6 for part in parts):
        return None
    return tuple(int(part) for part in parts) + (0,) * (3 - len(parts))


def not_acceptable() -> Response | None:
    """406 when the client cannot read what this repository answers; None when it can."""
    if request.accept_mimetypes and not request.accept_mimetypes.best_match(
        [*JSON_TYPES, "application/problem+json"]
    ):
        return problem(406, _("This repository answers JSON (application/json or application/ld+json) only."))
    epc_format = request.headers.get("GS1-EPC-Format")
    if epc_format is not None and epc_format.strip() not in EPC_FORMATS:
        return problem(
            406,
            _(
                "Identifiers are answered as GS1 Digital Links (GS1-EPC-Format: Always_GS1_Digital_Link): "
                "EPC URNs need each company prefix's length, which this repository does not hold."
            ),
        )
    ours = {"EPCIS": _version(EPCIS_VERSION) or (2, 0, 0), "CBV": _version(CBV_VERSION) or (2, 0, 0)}
    for standard, version in ours.items():
        low = request.headers.get(f"GS1-{standard}-Min")
        high = request.headers.get(f"GS1-{standard}-Max")
        asked = request.headers.get(f"GS1-{standard}-Version") if request.method == "POST" else None
        bounds = [(low, "min"), (high, "max"), (asked, "version")]
        for value, side in bounds:
            if value is None:
                continue
            parsed = _version(value)
            too_far = (
                parsed is None
                or (side == "min" and parsed > version)
                or (side == "max" and parsed < version)
                or (side == "version" and parsed[0] != version[0])
            )
            if too_far:
                return problem(
                    406,
                    _(
                        "This repository speaks %(standard)s %(version)s; the request asks for %(asked)s.",
                        standard=standard,
                        version=EPCIS_VERSION if standard == "EPCIS" else CBV_VERSION,
                        asked=value[:20],
                    ),
                )
    return None


def binding_view(view: Callable[..., Any]) -> Callable[..., Any]:
    """The binding's request boundary: negotiation, refusals as problems, one commit for a write."""

    @wraps(view)
    def wrapped(**kwargs: Any) -> Any:
        refusal = not_acceptable()
        if refusal is not None:
            return refusal
        try:
            response = view(**kwargs)
            if request.method not in ("GET", "HEAD", "OPTIONS"):
                db.session.commit()
        except DomainError as error:
            db.session.rollback()
            return domain_problem(error)
        return response

    return wrapped


def json_answer(body: Any, status: int = 200) -> Response:
    """A JSON answer in the media type the client prefers (application/ld+json when it asks for it)."""
    response = jsonify(body)
    response.status_code = status
    if request.accept_mimetypes.best_match(JSON_TYPES) == "application/ld+json":
        response.mimetype = "application/ld+json"
    return response


def arguments() -> dict[str, list[str]]:
    """The query string's parameters, each with every value it was given."""
    return dict(request.args.lists())


def collection_paging() -> tuple[int, str | None]:
    """``perPage`` and ``nextPageToken`` of a resource that lists (they are its only parameters)."""
    args = arguments()
    unknown = sorted(set(args) - {"perPage", "nextPageToken"})
    if unknown:
        raise QueryParameterError(
            unknown[0], _l("%(name)s is not a parameter of this resource.", name=unknown[0])
        )
    per_page = DEFAULT_PER_PAGE
    if "perPage" in args:
        raw = args["perPage"][-1]
        if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) < 10**9:
            raise QueryParameterError(
                "perPage", _l("%(name)s must be a whole number from 1.", name="perPage")
            )
        per_page = min(int(raw), current_app.config["EPCIS_MAX_PER_PAGE"])
    return per_page, args["nextPageToken"][-1] if "nextPageToken" in args else None


def with_next_page(response: Response, token: str | None, expires_at: datetime | None) -> Response:
    """The ``Link: <…>; rel="next"`` to the next page (the same query, its token) while one follows."""
    if token is None:
        return response
    query = [
        (name, value) for name, values in request.args.lists() if name != "nextPageToken" for value in values
    ]
    query.append(("nextPageToken", token))
    response.headers["Link"] = f'<{request.base_url}?{urlencode(query)}>; rel="next"'
    if expires_at is not None:
        response.headers["GS1-Next-Page-Token-Expires"] = expires_at.astimezone(VIETNAM_OFFSET).isoformat(
            timespec="seconds"
        )
    return response
