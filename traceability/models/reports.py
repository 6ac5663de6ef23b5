"""A centre's own work for its yearly report: contracts, technology processes and S&T tasks.

Each record belongs to one centre and may name the products it produced
(products of that centre's producers), through a plain association table.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traceability.core.database import UTCDateTime
from traceability.core.dates import utcnow
from traceability.core.extensions import Model, db

if TYPE_CHECKING:
    from traceability.models.registry import Centre, Product

CONTRACT_KINDS = ("technology_transfer", "service", "consulting")
# Levels of a science and technology task (nhiệm vụ KH&CN): national, ministry, province, grassroots.
TASK_LEVELS = ("national", "ministry", "province", "grassroots")
TASK_STATUSES = ("in_progress", "accepted", "stopped")
MAX_VALUE_VND = 10**15  # a million billion đồng: anything above is a typing mistake


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _product_link(name: str, owner_table: str) -> Table:
    """An association table between ``owner_table`` rows and the products they produced."""
    return Table(
        name,
        db.metadata,
        Column(f"{owner_table}_id", ForeignKey(f"{owner_table}.id", ondelete="CASCADE"), primary_key=True),
        Column("product_id", ForeignKey("product.id", ondelete="CASCADE"), primary_key=True, index=True),
    )


centre_contract_product = _product_link("centre_contract_product", "centre_contract")
technology_process_product = _product_link("technology_process_product", "technology_process")
science_task_product = _product_link("science_task_product", "science_task")


class CentreContract(Model):
    """A technology transfer, service or consulting contract the centre signed."""

    __tablename__ = "centre_contract"
    __table_args__ = (
        UniqueConstraint("centre_id", "number"),
        CheckConstraint(_in("kind", CONTRACT_KINDS), name="kind"),
        CheckConstraint(f"value_vnd >= 0 AND value_vnd <= {MAX_VALUE_VND}", name="value_vnd"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    number: Mapped[str] = mapped_column(String(100))
    counterparty: Mapped[str] = mapped_column(String(300))
    signed_on: Mapped[date] = mapped_column(Date, index=True)
    value_vnd: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    centre: Mapped[Centre] = relationship()
    products: Mapped[list[Product]] = relationship(secondary=centre_contract_product, order_by="Product.name")


class TechnologyProcess(Model):
    """A technology process (quy trình công nghệ) the centre mastered, and when."""

    __tablename__ = "technology_process"
    __table_args__ = (UniqueConstraint("centre_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    mastered_on: Mapped[date] = mapped_column(Date, index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    centre: Mapped[Centre] = relationship()
    products: Mapped[list[Product]] = relationship(
        secondary=technology_process_product, order_by="Product.name"
    )


class ScienceTask(Model):
    """A science and technology task (nhiệm vụ KH&CN) the centre carries out."""

    __tablename__ = "science_task"
    __table_args__ = (
        UniqueConstraint("centre_id", "code"),
        CheckConstraint(_in("level", TASK_LEVELS), name="level"),
        CheckConstraint(_in("status", TASK_STATUSES), name="status"),
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="dates"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"), index=True)
    name: Mapped[str] = mapped_column(String(500))
    code: Mapped[str] = mapped_column(String(50))
    level: Mapped[str] = mapped_column(String(20))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="in_progress")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    centre: Mapped[Centre] = relationship()
    products: Mapped[list[Product]] = relationship(secondary=science_task_product, order_by="Product.name")
