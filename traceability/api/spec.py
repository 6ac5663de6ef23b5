"""Declaring API operations once: the Flask route and its OpenAPI description.

``operation`` registers a view on the API blueprint, loads and validates its
JSON body and query string with marshmallow schemas, dumps the answer with the
response schema, and records all of it; ``build_spec`` turns the records into
the OpenAPI 3 document with apispec. The document cannot drift from the code
because both come from the same declaration.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Response, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import Schema, ValidationError
from sqlalchemy import func, select

from traceability.api.blueprint import bp
from traceability.api.errors import domain_error_response, error_response
from traceability.core.database import MAX_ID
from traceability.core.errors import BadRequest, DomainError
from traceability.core.extensions import db
from traceability.http.i18n import translate_messages
from traceability.idempotency import (
    IDEMPOTENCY_HEADER,
    StoredAnswer,
    claim,
    read_key,
    request_fingerprint,
    store_answer,
)

ERROR_STATUSES = {
    400: "Malformed request: a body that is not a JSON object, or a NUL character anywhere",
    401: "Missing or invalid token",
    403: "Not allowed for this role or tenant",
    404: "Not found, or outside the caller's tenant",
    409: "Conflicts with stored data",
    422: "Invalid input; `fields` names each field and what to fix",
    429: "Too many requests (API_RATE_LIMIT per token, or failed sign-ins): wait `Retry-After` seconds",
}

API_DESCRIPTION = (
    "Products, batches and key tracking events of Vietnam's provincial registries.\n\n"
    "**Idempotency.** Every write (POST, PUT, PATCH, DELETE) with a bearer token accepts an "
    "`Idempotency-Key` header: 1 to 128 visible ASCII characters, such as a UUID made by the client "
    "for the operation. The first successful answer (status, body, `Content-Type` and `Location`) is "
    "stored with the change, in the same transaction, and kept for `IDEMPOTENCY_KEEP_HOURS` (a week by "
    "default). A repeat with the same key and the same method, path and body gets that answer again, "
    "with `Idempotent-Replayed: true`, and stores nothing; a repeat sent while the first is still "
    "running waits for it. The same key with another method, path or body answers 422 "
    "(`idempotency_key_reused`). A refused request (4xx) keeps nothing: its repeat is judged again. "
    "Keys belong to the caller: another user's same key is another key."
)

IDEMPOTENCY_PARAMETER: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "A key of the client's choosing (a UUID, say) that makes a repeat of this write "
    "answer the first answer instead of writing again; the same key with another request answers 422.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[!-~]+$"},
}

REPLAYED_HEADER_DOC: dict[str, Any] = {
    "description": "`true` when this is the stored answer of an earlier request with the same Idempotency-Key",
    "schema": {"type": "string", "enum": ["true"]},
}


@dataclass
class Operation:
    rule: str
    method: str
    endpoint: str
    summary: str
    tag: str
    body: type[Schema] | None = None
    query: type[Schema] | None = None
    response: type[Schema] | None = None
    status: int = 200
    paginated: bool = False
    media_type: str = "application/json"
    auth: bool = True
    errors: tuple[int, ...] = field(default=(401, 403, 404, 422))


OPERATIONS: list[Operation] = []


def _validation_error(error: ValidationError) -> Response:
    return error_response(
        422, _("The request has invalid fields."), fields=translate_messages(error.messages)
    )


def _load(op: Operation, kwargs: dict[str, Any]) -> None:
    """Put the operation's loaded body (``data``) and query (``args``) into the view's arguments."""
    if op.body is not None:
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict):
            raise BadRequest(_("Send a JSON object with Content-Type: application/json."))
        kwargs["data"] = op.body().load(payload)
    if op.query is not None:
        kwargs["args"] = op.query().load(request.args.to_dict())


def _answer(op: Operation, result: Any) -> Response:
    """The view's result as the operation's response: dumped with its schema, paginated if it is a list."""
    if isinstance(result, Response):
        return result
    if op.paginated:
        assert op.response is not None  # a paginated operation declares its response schema
        items, page, per_page, total = result
        dumped: Any = {
            "items": op.response(many=True).dump(items),
            "page": page,
            "per_page": per_page,
            "total": total,
        }
    else:
        dumped = op.response().dump(result) if op.response else result
    reply = jsonify(dumped)
    reply.status_code = op.status
    return reply


def _read(op: Operation, view: Callable, kwargs: dict[str, Any]) -> Response:
    try:
        _load(op, kwargs)
        return _answer(op, view(**kwargs))
    except ValidationError as error:
        return _validation_error(error)
    except DomainError as error:
        return domain_error_response(error)


def _write(op: Operation, view: Callable, kwargs: dict[str, Any]) -> Response:
    """A write, committed once, or rolled back with its refusal.

    With an ``Idempotency-Key`` (authenticated operations), the key is claimed
    first and the answer kept in the same transaction; a repeat gets the kept
    answer and runs nothing (``traceability.idempotency``).
    """
    claimed = None
    try:
        key = read_key(request.headers.get(IDEMPOTENCY_HEADER)) if op.auth else None
        if key is not None:
            found = claim(current_user.id, key, request_fingerprint(request))
            if isinstance(found, StoredAnswer):
                db.session.commit()  # nothing was written: only ends the transaction
                return found.response()
            claimed = found
        _load(op, kwargs)
        result = view(**kwargs)
        db.session.flush()  # the answer shows the ids and defaults the write was given
        reply = _answer(op, result)
        if claimed is not None:
            store_answer(claimed, reply.status_code, reply.get_data(), reply.headers)
        db.session.commit()
    except ValidationError as error:
        db.session.rollback()
        return _validation_error(error)
    except DomainError as error:
        db.session.rollback()
        return domain_error_response(error)
    return reply


def operation(
    rule: str,
    method: str,
    *,
    summary: str,
    tag: str,
    body: type[Schema] | None = None,
    query: type[Schema] | None = None,
    response: type[Schema] | None = None,
    status: int = 200,
    paginated: bool = False,
    media_type: str = "application/json",
    auth: bool = True,
    errors: tuple[int, ...] = (401, 403, 404, 422),
) -> Callable:
    """Register an API view and its OpenAPI operation in one declaration.

    The view gets ``data`` (the loaded body) and ``args`` (the loaded query)
    when the operation has them; it returns a model object, a list (paginated
    operations return ``(items, page, per_page, total)``) or a Response.
    Service refusals become JSON errors and the transaction is rolled back;
    a successful write is committed once, here at the request boundary, and
    with an ``Idempotency-Key`` its answer is kept for the key's repeats.
    """

    def decorator(view: Callable) -> Callable:
        op = Operation(
            rule,
            method,
            view.__name__,
            summary,
            tag,
            body,
            query,
            response,
            status,
            paginated,
            media_type,
            auth,
            errors,
        )
        OPERATIONS.append(op)

        @wraps(view)
        def wrapped(**kwargs: Any) -> Any:
            return _read(op, view, kwargs) if method == "GET" else _write(op, view, kwargs)

        bp.add_url_rule(rule, endpoint=view.__name__, view_func=wrapped, methods=[method])
        return wrapped

    return decorator


def paginate(query: Any, args: dict[str, Any]) -> tuple[list[Any], int, int, int]:
    """One page of ``query`` for a paginated operation: (items, page, per_page, total)."""
    page, per_page = args["page"], args["per_page"]
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return list(items), page, per_page, total or 0


def _openapi_path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    params = []
    for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", rule):
        # The app's <int:...> matches 0 to MAX_ID; a path with another number is a 404.
        schema = (
            {"type": "integer", "minimum": 0, "maximum": MAX_ID} if converter == "int" else {"type": "string"}
        )
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule), params


def _schema_name(schema: type[Schema] | Schema) -> str:
    schema_class = schema if isinstance(schema, type) else type(schema)
    return schema_class.__name__.removesuffix("Schema")


def build_spec(server_url: str) -> dict[str, Any]:
    """The OpenAPI 3 document of every declared operation."""
    spec = APISpec(
        title="Traceability registry API",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin(schema_name_resolver=_schema_name)],
        info={"description": API_DESCRIPTION},
        servers=[{"url": server_url}],
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.parameter("IdempotencyKey", "header", IDEMPOTENCY_PARAMETER)
    spec.components.schema(
        "Error",
        {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message", "fields"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "fields": {"type": "object", "additionalProperties": True},
                    },
                }
            },
        },
    )
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        path, params = _openapi_path(op.rule)
        operation_doc: dict[str, Any] = {
            "operationId": op.endpoint,
            "summary": op.summary,
            "tags": [op.tag],
            "responses": {},
        }
        if op.query is not None:
            operation_doc["parameters"] = [{"in": "query", "schema": op.query}]
        if params:
            operation_doc.setdefault("parameters", []).extend(params)
        if op.body is not None:
            operation_doc["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": op.body}},
            }
        if op.response is not None and op.paginated:
            content_schema: Any = {
                "type": "object",
                "required": ["items", "page", "per_page", "total"],
                "properties": {
                    "items": {"type": "array", "items": op.response},
                    "page": {"type": "integer"},
                    "per_page": {"type": "integer"},
                    "total": {"type": "integer"},
                },
            }
        elif op.response is not None:
            content_schema = op.response
        elif op.media_type.endswith("json"):  # application/json, application/ld+json
            content_schema = {"type": "object"}
        elif op.media_type.startswith("text/"):
            content_schema = {"type": "string"}
        else:  # images, spreadsheets, PDF
            content_schema = {"type": "string", "format": "binary"}
        operation_doc["responses"][str(op.status)] = {
            "description": "Success",
            "content": {op.media_type: {"schema": content_schema}},
        }
        idempotent = op.auth and op.method != "GET"
        if idempotent:
            # Every authenticated write takes an Idempotency-Key; 422 answers a key reused for another request.
            operation_doc.setdefault("parameters", []).append("IdempotencyKey")
            operation_doc["responses"][str(op.status)]["headers"] = {
                "Idempotent-Replayed": REPLAYED_HEADER_DOC
            }
        # 400 for every operation: input_guard refuses a NUL in any path, query or body.
        # 429 for every authenticated operation: each token's calls are limited by API_RATE_LIMIT.
        error_codes = set(op.errors) | {400} | ({401, 429} if op.auth else set())
        if op.body is not None:
            error_codes |= {422}
        if op.query is not None or idempotent:
            error_codes |= {422}
        for code in sorted(error_codes):
            operation_doc["responses"][str(code)] = {
                "description": ERROR_STATUSES.get(code, "Error"),
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        if op.auth:
            operation_doc["security"] = [{"bearer": []}]
        else:
            operation_doc["security"] = []
        paths.setdefault(path, {})[op.method.lower()] = operation_doc
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()
