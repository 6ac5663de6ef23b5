"""Trace queries: every batch upstream or downstream of one, in one recursive query."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import func, literal, select
from sqlalchemy.orm import selectinload

from traceability.batches.models import Batch, BatchInput
from traceability.extensions import db
from traceability.registry.models import Product

Direction = Literal["upstream", "downstream"]
MAX_DEPTH = 64  # a guard only: lineage cycles are refused when inputs are recorded


def _chain(batch_id: int, direction: Direction):
    """The recursive CTE of (batch_id, depth) upstream or downstream of a batch."""
    if direction == "upstream":
        start, step_from, step_to = (
            BatchInput.output_batch_id,
            BatchInput.output_batch_id,
            BatchInput.input_batch_id,
        )
    else:
        start, step_from, step_to = (
            BatchInput.input_batch_id,
            BatchInput.input_batch_id,
            BatchInput.output_batch_id,
        )
    chain = (
        select(step_to.label("batch_id"), literal(1).label("depth"))
        .where(start == batch_id)
        .cte(f"{direction}_chain", recursive=True)
    )
    chain = chain.union(
        select(step_to, chain.c.depth + 1)
        .join(chain, step_from == chain.c.batch_id)
        .where(chain.c.depth < MAX_DEPTH)
    )
    return chain


def related_batch_ids(batch_id: int, direction: Direction) -> dict[int, int]:
    """The ids of every batch upstream (its inputs, their inputs...) or downstream, with their depth.

    One recursive query that runs on SQLite and PostgreSQL; each batch appears
    once, at its shortest depth.
    """
    chain = _chain(batch_id, direction)
    rows = db.session.execute(
        select(chain.c.batch_id, func.min(chain.c.depth)).group_by(chain.c.batch_id)
    ).all()
    return {row[0]: row[1] for row in rows if row[0] != batch_id}


def origin_batch_ids(batch_id: int, *, limit: int) -> list[int]:
    """Up to ``limit`` batches at the far end of a batch's upstream chain: those made from no other batch.

    One query over the same recursive walk as ``related_batch_ids``, so a lot
    deep in a long chain is found without reading the lots between.
    """
    chain = _chain(batch_id, "upstream")
    made_from_something = select(BatchInput.id).where(BatchInput.output_batch_id == chain.c.batch_id).exists()
    return list(
        db.session.scalars(
            select(chain.c.batch_id)
            .where(~made_from_something)
            .group_by(chain.c.batch_id)
            .order_by(chain.c.batch_id)
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class Trace:
    """A batch's chain in one direction: the batches (nodes) and the lineage links between them (edges)."""

    root: Batch
    direction: Direction
    depths: dict[int, int]
    nodes: list[Batch]
    edges: list[BatchInput]


def trace(batch: Batch, direction: Direction) -> Trace:
    """The whole chain of ``batch`` in ``direction``: three queries, whatever its size."""
    depths = related_batch_ids(batch.id, direction)
    # The chain again as a subquery, rather than a list of ids that could pass
    # the database's limit of bound parameters on a large chain.
    chain_ids = select(_chain(batch.id, direction).c.batch_id).union(select(literal(batch.id)))
    nodes = db.session.scalars(
        select(Batch)
        .where(Batch.id.in_(chain_ids))
        .options(selectinload(Batch.product).selectinload(Product.producer), selectinload(Batch.events))
        .order_by(Batch.id)
    ).all()
    edges = db.session.scalars(
        select(BatchInput)
        .where(BatchInput.input_batch_id.in_(chain_ids), BatchInput.output_batch_id.in_(chain_ids))
        .order_by(BatchInput.id)
    ).all()
    depths[batch.id] = 0
    return Trace(batch, direction, depths, list(nodes), list(edges))


@dataclass
class ChainNode:
    """A batch in a chain tree, with the quantity that links it to its parent."""

    batch: Batch
    depth: int
    link: BatchInput | None
    children: list[ChainNode]


def chain_tree(result: Trace) -> ChainNode:
    """The trace as a tree from its root: inputs below an upstream root, outputs below a downstream one.

    A batch reached by two paths appears under each (fan-in and fan-out are
    real in supply chains); the tree is built in memory from the trace's rows.
    """
    by_id = {node.id: node for node in result.nodes}
    below: dict[int, list[BatchInput]] = {}
    for edge in result.edges:
        parent = edge.output_batch_id if result.direction == "upstream" else edge.input_batch_id
        below.setdefault(parent, []).append(edge)

    def build(batch_id: int, depth: int, link: BatchInput | None, path: frozenset[int]) -> ChainNode:
        children = []
        for edge in below.get(batch_id, []):
            child = edge.input_batch_id if result.direction == "upstream" else edge.output_batch_id
            if child in by_id and child not in path and depth < MAX_DEPTH:
                children.append(build(child, depth + 1, edge, path | {child}))
        return ChainNode(by_id[batch_id], depth, link, children)

    return build(result.root.id, 0, None, frozenset({result.root.id}))
