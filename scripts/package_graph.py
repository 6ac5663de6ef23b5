"""Print the import graph between the packages of ``traceability`` and the cycles in it.

    .venv/bin/python scripts/package_graph.py            # edges "a -> b (n imports)" and cycles
    .venv/bin/python scripts/package_graph.py --dot      # the same graph for Graphviz

A node is a subpackage (``traceability.batches``) or a loose module at the
package root (``traceability.core.config``). Imports inside ``if TYPE_CHECKING:``
are left out (they are not run). Built with grimp, the graph library under
import-linter, which ``make lint`` runs with the contracts in pyproject.toml.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import grimp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def node_of(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2])


def package_edges() -> Counter[tuple[str, str]]:
    graph = grimp.build_graph("traceability", exclude_type_checking_imports=True)
    edges: Counter[tuple[str, str]] = Counter()
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            a, b = node_of(importer), node_of(imported)
            if a != b and b != "traceability":
                edges[(a, b)] += 1
    return edges


def strongly_connected(nodes: set[str], edges: set[tuple[str, str]]) -> list[list[str]]:
    """Tarjan's components with more than one node: the import cycles."""
    successors: dict[str, list[str]] = {node: [] for node in nodes}
    for a, b in edges:
        successors[a].append(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for successor in successors[node]:
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(nodes):
        if node not in index:
            visit(node)
    return components


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dot", action="store_true", help="print Graphviz dot instead of text")
    arguments = parser.parse_args()
    edges = package_edges()
    nodes = {node for edge in edges for node in edge}
    if arguments.dot:
        print("digraph traceability {")
        for (a, b), count in sorted(edges.items()):
            print(f'  "{a}" -> "{b}" [label={count}];')
        print("}")
        return
    for (a, b), count in sorted(edges.items()):
        print(f"{a} -> {b} ({count})")
    cycles = strongly_connected(nodes, set(edges))
    print(f"\n{len(nodes)} packages and modules, {len(edges)} edges, {len(cycles)} cycle(s)")
    for component in cycles:
        print("cycle: " + ", ".join(component))


if __name__ == "__main__":
    main()
