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
from marshmallow import Schema, ValidationError
from sqlalchemy import func, select

from traceability.api.blueprint import bp
from traceability.api.errors import domain_error_response, error_response
from traceability.core.database import MAX_ID
from traceability.core.errors import DomainError
from traceability.core.extensions import db
from traceability.http.i18n import translate_messages

ERROR_STATUSES = {
    400: "Malformed request: a body that is not a JSON object, or a NUL character anywhere",
    401: "Missing or invalid token",
    403: "Not allowed for this role or tenant",
    404: "Not found, or outside the caller's tenant",
    409: "Conflicts with stored data",
    422: "Invalid input; `fields` names each field and what to fix",
    429: "Too many requests (API_RATE_LIMIT per token, or failed sign-ins): wait `Retry-After` seconds",
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
    a successful write is committed once, here at the request boundary.
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
            try:
                if body is not None:
                    payload = request.get_json(silent=True)
                    if not isinstance(payload, dict):
                        return error_response(
                            400, _("Send a JSON object with Content-Type: application/json.")
                        )
                    kwargs["data"] = body().load(payload)
                if query is not None:
                    kwargs["args"] = query().load(request.args.to_dict())
                result = view(**kwargs)
                if method != "GET":
                    db.session.commit()
            except ValidationError as error:
                db.session.rollback()
                return _validation_error(error)
            except DomainError as error:
                db.session.rollback()
                return domain_error_response(error)
            if isinstance(result, Response):
                return result
            if paginated:
                assert response is not None  # a paginated operation declares its response schema
                items, page, per_page, total = result
                dumped = {
                    "items": response(many=True).dump(items),
                    "page": page,
                    "per_page": per_page,
                    "total": total,
                }
                return jsonify(dumped), status
            return jsonify(response().dump(result) if response else result), status

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
        info={"description": "Products, batches and key tracking events of Vietnam's provincial registries."},
        servers=[{"url": server_url}],
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
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
        # 400 for every operation: input_guard refuses a NUL in any path, query or body.
        # 429 for every authenticated operation: each token's calls are limited by API_RATE_LIMIT.
        error_codes = set(op.errors) | {400} | ({401, 429} if op.auth else set())
        if op.body is not None:
            error_codes |= {422}
        if op.query is not None:
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
