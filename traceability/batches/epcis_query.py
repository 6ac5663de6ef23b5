"""EPCIS 2.0 queries answered: one page of a parsed query (``epcis_query_params``) in the
caller's tenant scope, ordered by ``eventTime`` (or ``recordTime``) and the row id, with an opaque,
signed ``nextPageToken`` for the next (keyset paging: events recorded meanwhile never shift a page,
so no event is answered twice or skipped); one event by its ID; the query document; and what the
resources beside ``/events`` list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import ColumnElement, Select, func, or_, select

from traceability.accounts.scope import tenant_clause
from traceability.batches.epcis import PREFIX, project_uris
from traceability.batches.epcis_query_params import ORDER_COLUMNS, EventQuery, QueryParameterError
from traceability.core.dates import VIETNAM_OFFSET, utcnow
from traceability.core.errors import DomainError
from traceability.core.extensions import db
from traceability.gs1.epcis import EPCIS_CONTEXT, parse_time
from traceability.models.epcis import EpcisQueryEvent, EpcisQueryValue

MAX_EVENTS_BY_ID = 100  # rows one eventID may have (identical events recorded twice)
QUERY_NAME = "SimpleEventQuery"
TOKEN_SALT = "epcis-next-page-token"  # noqa: S105 - a salt, not a secret


class QueryTooLarge(DomainError):
    """More events match than ``maxEventCount`` allows: the binding's ``QueryTooLargeException``."""

    status = 413
    code = "query_too_large"


@dataclass
class QueryPage:
    """One page of a query's answer: the events as the query document lists them, and the next token."""

    events: list[dict[str, Any]]
    next_token: str | None = None
    token_expires_at: datetime | None = None


# --- answering ----------------------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def _token_lifetime() -> timedelta:
    return timedelta(seconds=current_app.config["EPCIS_PAGE_TOKEN_SECONDS"])


def sign_page_token(
    fingerprint: str, key: str, row_id: int, remaining: int | None = None
) -> tuple[str, datetime]:
    """An opaque, signed nextPageToken: where the next page starts, for one query; and when it expires."""
    token = _serializer().dumps({"f": fingerprint, "k": key, "i": row_id, "r": remaining})
    return token, utcnow() + _token_lifetime()


def read_page_token(token: str, fingerprint: str) -> tuple[str, int, int | None]:
    """The position a nextPageToken of this query signed: (last key, its row id, events left)."""
    try:
        payload = _serializer().loads(token, max_age=int(_token_lifetime().total_seconds()))
    except SignatureExpired:
        raise QueryParameterError(
            "nextPageToken", _l("This nextPageToken has expired: run the query again.")
        ) from None
    except BadSignature:
        raise QueryParameterError(
            "nextPageToken", _l("This nextPageToken is not one this repository gave.")
        ) from None
    if not isinstance(payload, dict) or payload.get("f") != fingerprint:
        raise QueryParameterError(
            "nextPageToken",
            _l("This nextPageToken belongs to another query: repeat the query's parameters with it."),
        )
    return str(payload["k"]), int(payload["i"]), payload.get("r")


def _read_token(query: EventQuery) -> tuple[datetime, int, int | None] | None:
    if query.page_token is None:
        return None
    key, row_id, remaining = read_page_token(query.page_token, query.fingerprint)
    return parse_time(key), row_id, remaining


def scoped_events(user: Any) -> Select:
    """The indexed events ``user`` may read (its tenant's lots)."""
    return select(EpcisQueryEvent).where(tenant_clause(EpcisQueryEvent, user))


def _joined(statement: Select, matches: list[Select]) -> Select:
    """``statement`` limited to the events of every match, as joins: the matching ids come first
    (an index lookup), rather than the tenant's events in time order filtered one by one."""
    for match in matches:
        ids = match.distinct().subquery()
        statement = statement.join(ids, ids.c.query_event_id == EpcisQueryEvent.id)
    return statement


def run_query(query: EventQuery, user: Any) -> QueryPage:
    """One page of ``query``'s answer in ``user``'s scope, and the token of the next page."""
    column = ORDER_COLUMNS[query.order_by]
    statement = _joined(scoped_events(user).where(*query.conditions), query.matches)
    if not query.include_retracted:
        statement = statement.where(EpcisQueryEvent.retracted.is_(False))
    position = _read_token(query)
    remaining = query.event_count_limit
    if position is None and query.max_event_count is not None:
        matching = select(func.count()).select_from(statement.limit(query.max_event_count + 1).subquery())
        if (db.session.scalar(matching) or 0) > query.max_event_count:
            raise QueryTooLarge(
                _l(
                    "More than %(count)s events match (maxEventCount): narrow the query.",
                    count=query.max_event_count,
                )
            )
    if position is not None:
        key, row_id, remaining = position
        if query.descending:
            statement = statement.where(column <= key, or_(column < key, EpcisQueryEvent.id < row_id))
        else:
            statement = statement.where(column >= key, or_(column > key, EpcisQueryEvent.id > row_id))
    order = (column.desc(), EpcisQueryEvent.id.desc()) if query.descending else (column, EpcisQueryEvent.id)
    take = query.per_page if remaining is None else min(query.per_page, remaining)
    rows = db.session.scalars(statement.order_by(*order).limit(take + 1)).all()
    page = QueryPage([answered_event(row) for row in rows[:take]])
    left = None if remaining is None else remaining - take
    if len(rows) > take and (left is None or left > 0):
        last = rows[take - 1]
        page.next_token, page.token_expires_at = sign_page_token(
            query.fingerprint, getattr(last, column.key).isoformat(), last.id, left
        )
    return page


def events_by_id(event_id: str, user: Any) -> list[dict[str, Any]]:
    """The events with this eventID in ``user``'s scope, retracted ones with their error declaration."""
    rows = db.session.scalars(
        scoped_events(user)
        .where(EpcisQueryEvent.event_id == event_id)
        .order_by(EpcisQueryEvent.id)
        .limit(MAX_EVENTS_BY_ID)
    ).all()
    return [answered_event(row) for row in rows]


def answered_event(row: EpcisQueryEvent) -> dict[str, Any]:
    """An indexed event as a query answers it: the export's JSON, with the repository's recordTime."""
    return {
        **row.document,
        "recordTime": row.record_time.astimezone(VIETNAM_OFFSET).isoformat(timespec="milliseconds"),
    }


def query_document(
    events: list[dict[str, Any]], *, base_url: str | None = None, now: datetime | None = None
) -> dict:
    """An EPCISQueryDocument holding ``events``: the standard context and our vocabulary's prefix."""
    uris = project_uris(base_url)
    created = (now or utcnow()).astimezone(VIETNAM_OFFSET)
    return {
        "@context": [EPCIS_CONTEXT, {PREFIX: uris.vocabulary}],
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": created.isoformat(timespec="milliseconds"),
        "epcisBody": {"queryResults": {"queryName": QUERY_NAME, "resultsBody": {"eventList": events}}},
    }


# --- the resources beside /events ------------------------------------------------------------


def known_in_scope(condition: ColumnElement[bool] | Select, user: Any) -> bool:
    """Whether any event ``user`` may read meets ``condition``, or is among a match's
    (a resource such as an EPC exists here)."""
    if isinstance(condition, Select):
        statement = _joined(scoped_events(user), [condition])
        return db.session.scalar(statement.with_only_columns(EpcisQueryEvent.id).limit(1)) is not None
    return (
        db.session.scalar(scoped_events(user).where(condition).limit(1).with_only_columns(EpcisQueryEvent.id))
        is not None
    )


def distinct_values(column: Any, user: Any, *, after: str | None, limit: int) -> list[str]:
    """The distinct values of an indexed column in ``user``'s scope, in order, after ``after``."""
    statement = (
        select(column)
        .where(
            tenant_clause(EpcisQueryEvent, user), column.is_not(None), EpcisQueryEvent.retracted.is_(False)
        )
        .distinct()
        .order_by(column)
        .limit(limit)
    )
    if after is not None:
        statement = statement.where(column > after)
    return list(db.session.scalars(statement))


def known_identifiers(fields: tuple[str, ...], user: Any, *, after: str | None, limit: int) -> list[str]:
    """The identifiers (in ``fields``) of the events ``user`` may read, in order, after ``after``."""
    statement = (
        select(EpcisQueryValue.value)
        .join(EpcisQueryEvent, EpcisQueryEvent.id == EpcisQueryValue.query_event_id)
        .where(
            EpcisQueryValue.field.in_(fields),
            tenant_clause(EpcisQueryEvent, user),
            EpcisQueryEvent.retracted.is_(False),
        )
        .distinct()
        .order_by(EpcisQueryValue.value)
        .limit(limit)
    )
    if after is not None:
        statement = statement.where(EpcisQueryValue.value > after)
    return list(db.session.scalars(statement))
