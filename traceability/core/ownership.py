"""Who a record belongs to, declared once on its model and read by everything that needs to know.

A model that belongs to a producer, to one of its products or to one of its
lots says so in one line::

    class Location(db.Model):
        __owner__ = producer_owned()                 # Location.producer_id

    class Scan(db.Model):
        __owner__ = batch_owned(public=False)        # Scan.batch_id; not on the public pages

and from that one declaration:

- the tenant scope (``accounts.scope.tenant_clause``) shows its rows to the
  users of that producer, the staff of the producer's centre and the ministry,
  and hides them (404) from everyone else;
- the page cache (``public.page_cache``) forgets the pages of the owner when
  a row changes, unless the model is declared ``public=False``;
- the retention purge (``audit.retention``) removes the rows of a lot with
  the lot (``batch_owned`` models only: the retention periods are a lot's).

Records that belong to no producer (centres, users, audit entries, a centre's
own contracts) keep their explicit rules in the scope.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Table

if TYPE_CHECKING:
    from traceability.core.database import Base

OwnerKind = Literal["producer", "product", "batch"]


@dataclass(frozen=True)
class Owner:
    """The owner of a model's rows: the ``column`` naming a producer, product or batch (lot)."""

    kind: OwnerKind
    column: str
    # More columns naming an owner of the same kind: a lineage link belongs to both of its lots.
    also: tuple[str, ...] = ()
    # Shown on the public pages: a change forgets the owner's cached pages.
    public: bool = True

    def columns(self, model: type) -> list[Any]:
        return [getattr(model, name) for name in (self.column, *self.also)]


def producer_owned(column: str = "producer_id", *, public: bool = True) -> Owner:
    return Owner("producer", column, public=public)


def product_owned(column: str = "product_id", *, public: bool = True) -> Owner:
    return Owner("product", column, public=public)


def batch_owned(column: str = "batch_id", *also: str, public: bool = True) -> Owner:
    return Owner("batch", column, tuple(also), public=public)


def owner_of(model: type) -> Owner | None:
    """The model's declared owner, if it has one."""
    owner = model.__dict__.get("__owner__")
    return owner if isinstance(owner, Owner) else None


def owned_models(kind: OwnerKind | None = None) -> Iterator[type[Base]]:
    """Every mapped model with a declared owner (of ``kind``), whose table is in the metadata."""
    from traceability.core.extensions import Model, db

    for mapper in sorted(Model.registry.mappers, key=lambda mapper: mapper.class_.__name__):
        model, table = mapper.class_, mapper.local_table
        owner = owner_of(model)
        if owner is None or not isinstance(table, Table) or table.name not in db.metadata.tables:
            continue
        if kind is None or owner.kind == kind:
            yield model
