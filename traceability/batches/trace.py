"""Trace queries: every batch upstream or downstream of one, each visited once, nearest first.

A lot reached by many paths (on a "ladder" of lots each made from both lots of
the step below, the lot n steps away is reached by 2^n paths) is found once,
expanded once and shown once: the walk costs the lots and links of the chain,
never its paths. What a person or a client reads of a chain (the chain page,
the API's trace, the spreadsheet, the EPCIS document) is bounded by
``CHAIN_MAX_LOTS`` lots in each direction, the nearest ones, and says when it
is cut. A recall and the lineage's cycle check read the whole chain: they must
reach every lot.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from flask import current_app
from sqlalchemy import BindParameter, bindparam, select
from sqlalchemy.orm import selectinload

from traceability.core.extensions import db
from traceability.models.batches import Batch, BatchInput
from traceability.models.registry import Product

Direction = Literal["upstream", "downstream"]
DEFAULT_MAX_LOTS = 1000
IN_LIST_CHUNK = 5000  # ids per IN (...) list: well under SQLite's and PostgreSQL's limits of bound parameters


def _link_ends(direction: Direction):
    """The columns of a lineage link walked in ``direction``: where it starts, where it leads."""
    if direction == "upstream":
        return BatchInput.output_batch_id, BatchInput.input_batch_id
    return BatchInput.input_batch_id, BatchInput.output_batch_id


def _chain(batch_id: int | BindParameter[int], direction: Direction):
    """The recursive CTE of the ids of a batch and of every batch upstream or downstream of it.

    UNION, not UNION ALL, over the id alone: a lot reached by several paths
    enters the walk once and is expanded once, and the walk ends by itself.
    """
    step_from, step_to = _link_ends(direction)
    chain = (
        select(Batch.id.label("batch_id"))
        .where(Batch.id == batch_id)
        .cte(f"{direction}_chain", recursive=True)
    )
    return chain.union(select(step_to).join(chain, step_from == chain.c.batch_id))


def _walk_statement(direction: Direction):
    """The links of a walk (id, start, end, kind), for the bound ``root``; built once per direction.

    Built once, the statement's cache key is computed once too: building and
    keying it cost more than running it on a short chain (the consumer page walks on every miss).
    """
    step_from, step_to = _link_ends(direction)
    chain = _chain(bindparam("root"), direction)
    return select(BatchInput.id, step_from, step_to, BatchInput.kind).where(
        step_from.in_(select(chain.c.batch_id))
    )


_WALKS = {direction: _walk_statement(direction) for direction in ("upstream", "downstream")}


@dataclass(frozen=True)
class Walk:
    """A chain's lots by their shortest distance from its root (root included, at 0), nearest first, and its links."""

    depths: dict[int, int]
    links: list[tuple[int, int, int]]  # (link id, the lot it starts from, the lot it leads to)
    kinds: dict[int, str] = field(default_factory=dict)  # link id: how it made its lot (transformation...)


def walk(batch_id: int, direction: Direction) -> Walk:
    """Every lot upstream or downstream of ``batch_id`` and the links between them: one query.

    The links come from the recursive CTE; the distances by a breadth-first
    walk over them in memory, so each lot is met once at its shortest
    distance, ordered by (distance, id).
    """
    rows = db.session.execute(_WALKS[direction], {"root": batch_id}).all()
    links = [(row[0], row[1], row[2]) for row in rows]
    link_kinds = {row[0]: row[3] for row in rows}
    leads_to: dict[int, list[int]] = defaultdict(list)
    for _link_id, start, end in links:
        leads_to[start].append(end)
    depths = {batch_id: 0}
    frontier, depth = [batch_id], 0
    while frontier:
        depth += 1
        frontier = sorted({end for start in frontier for end in leads_to[start] if end not in depths})
        depths.update(dict.fromkeys(frontier, depth))
    return Walk(depths, links, link_kinds)


def related_batch_ids(batch_id: int, direction: Direction) -> dict[int, int]:
    """The ids of every batch upstream (its inputs, their inputs...) or downstream, with their depth.

    One recursive query that runs on SQLite and PostgreSQL; each batch appears
    once, at its shortest depth, nearest first. Unbounded: a recall reaches every lot.
    """
    depths = walk(batch_id, direction).depths
    del depths[batch_id]
    return depths


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
            .where(chain.c.batch_id != batch_id, ~made_from_something)
            .order_by(chain.c.batch_id)
            .limit(limit)
        )
    )


def chain_max_lots() -> int:
    """The most lots a chain shows in each direction (``CHAIN_MAX_LOTS``)."""
    return int(current_app.config.get("CHAIN_MAX_LOTS") or DEFAULT_MAX_LOTS)


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    ids = list(ids)
    for start in range(0, len(ids), IN_LIST_CHUNK):
        yield ids[start : start + IN_LIST_CHUNK]


@dataclass(frozen=True)
class Trace:
    """A batch's chain in one direction: the batches (nodes) and the lineage links between them (edges).

    At most ``max_lots`` batches besides the root, the nearest; ``total`` counts
    every batch of the chain besides the root, so ``truncated`` says when some
    were left out.
    """

    root: Batch
    direction: Direction
    depths: dict[int, int]
    nodes: list[Batch]
    edges: list[BatchInput]
    total: int = 0
    max_lots: int = DEFAULT_MAX_LOTS

    @property
    def truncated(self) -> bool:
        return self.total > len(self.nodes) - 1


def trace(batch: Batch, direction: Direction, *, max_lots: int | None = None) -> Trace:
    """The chain of ``batch`` in ``direction``, its nearest ``max_lots`` batches (default ``CHAIN_MAX_LOTS``).

    A few queries whatever the chain's size or its number of paths: the walk,
    the batches with their products, producers and events, the links.
    """
    limit = chain_max_lots() if max_lots is None else max_lots
    found = walk(batch.id, direction)
    kept = dict(list(found.depths.items())[: limit + 1])  # nearest first, the root at the head
    nodes: list[Batch] = []
    for ids in _chunks(kept):
        nodes += db.session.scalars(
            select(Batch)
            .where(Batch.id.in_(ids))
            .options(selectinload(Batch.product).selectinload(Product.producer), selectinload(Batch.events))
        )
    nodes.sort(key=lambda node: node.id)
    edge_ids = sorted(link_id for link_id, start, end in found.links if start in kept and end in kept)
    edges: list[BatchInput] = []
    for ids in _chunks(edge_ids):
        edges += db.session.scalars(select(BatchInput).where(BatchInput.id.in_(ids)))
    edges.sort(key=lambda edge: edge.id)
    return Trace(batch, direction, kept, nodes, edges, total=len(found.depths) - 1, max_lots=limit)


@dataclass
class ChainLot:
    """A batch on the chain page, once, with the links of the lots it was made from that the page shows."""

    batch: Batch
    made_from: list[tuple[BatchInput, Batch]] = field(default_factory=list)


@dataclass
class ChainStep:
    """The batches of a chain at the same distance from its root."""

    depth: int
    lots: list[ChainLot]


def chain_steps(result: Trace) -> list[ChainStep]:
    """The trace as a graph for the page: each batch once, grouped by its distance, with what it was made from.

    A batch reached by two paths (fan-in and fan-out are real in supply
    chains) is listed once, under its shortest distance, and its links name
    the lots it was made from instead of repeating their chains.
    """
    by_id = {node.id: node for node in result.nodes}
    lots = {node.id: ChainLot(node) for node in result.nodes if node.id != result.root.id}
    for edge in result.edges:
        if edge.output_batch_id in lots and edge.input_batch_id in by_id:
            lots[edge.output_batch_id].made_from.append((edge, by_id[edge.input_batch_id]))
    steps: dict[int, list[ChainLot]] = defaultdict(list)
    for lot_id, lot in lots.items():
        steps[result.depths[lot_id]].append(lot)
    return [
        ChainStep(depth, sorted(steps[depth], key=lambda lot: (lot.batch.lot_code, lot.batch.id)))
        for depth in sorted(steps)
    ]
