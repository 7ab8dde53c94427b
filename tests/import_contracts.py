"""Import Linter contract types for what its own cannot see: the top-level modules app.py and cli.py
(grimp builds its graph of packages only) and import cycles between single modules anywhere (its
`acyclic_siblings` compares whole packages). pyproject.toml's [tool.importlinter] uses them; run
`.venv/bin/lint-imports` (scripts/test.sh does)."""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Iterable, Iterator
from pathlib import Path

from grimp import ImportGraph
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


def _imports_in(module: str, graph: ImportGraph, internal: set[str]) -> Iterator[tuple[str, int, str]]:
    """Every import statement in the top-level module's file (in functions too): what it imports as the
    graph names it (an external package by its top-level name), with the line."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ValueError(f"{module} is not importable from here")
    source = Path(spec.origin).read_text(encoding="utf-8")
    lines = source.splitlines()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in graph.modules else node.module
                     for alias in node.names]
        else:
            continue
        for name in names:
            top = name.partition(".")[0]
            yield (name if top in internal else top), node.lineno, lines[node.lineno - 1].strip()


def _add_top_level(graph: ImportGraph, modules: Iterable[str], internal: set[str]) -> None:
    for module in modules:
        graph.add_module(module)
        for imported, line, contents in _imports_in(module, graph, internal):
            graph.add_import(importer=module, imported=imported, line_number=line, line_contents=contents)


def _internal(contract: Contract, top_level: Iterable[str]) -> set[str]:
    roots = contract.session_options.get("root_packages") or [contract.session_options.get("root_package")]
    return {*roots, *top_level}


class _ChainsContract(Contract):
    """A contract broken by chains of imports, each shown import by import with its lines."""

    def broken_by(self, chains: list[tuple[str, ...]], graph: ImportGraph) -> ContractCheck:
        return ContractCheck(kept=not chains, warnings=None, metadata={"chains": chains, "graph": graph})

    def heading(self, chain: tuple[str, ...]) -> str:
        raise NotImplementedError

    def render_broken_contract(self, check: ContractCheck) -> None:
        graph = check.metadata["graph"]
        for chain in check.metadata["chains"]:
            output.print_error(self.heading(chain))
            for importer, imported in zip(chain, chain[1:], strict=False):
                details = graph.get_import_details(importer=importer, imported=imported)
                where = ", ".join(f"l.{d['line_number']}" for d in details)
                output.print_error(f"    {importer} -> {imported} ({where})", bold=False)
            output.new_line()


class TopLevelForbiddenContract(_ChainsContract):
    """A top-level module (app) imports none of `forbidden_modules`: neither itself nor through the
    packages it imports. Another top-level module it imports (cli) answers for its own imports."""

    type_name = "top_level_forbidden"
    source_modules = fields.ListField(subfield=fields.StringField())
    forbidden_modules = fields.ListField(subfield=fields.StringField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        internal = _internal(self, self.source_modules)
        _add_top_level(graph, self.source_modules, internal)
        broken = []
        for source in self.source_modules:
            for forbidden in self.forbidden_modules:
                if forbidden in graph.modules:
                    broken += sorted(graph.find_shortest_chains(importer=source, imported=forbidden,
                                                                as_packages=True))
        return self.broken_by(broken, graph)

    def heading(self, chain: tuple[str, ...]) -> str:
        return f"{chain[0]} is not allowed to import {chain[-1]}:"


class AcyclicModulesContract(_ChainsContract):
    """No module imports itself through others, in the root packages and the top-level modules: a
    cycle between two single modules anywhere, not only between sibling packages."""

    type_name = "acyclic_modules"
    top_level_modules = fields.ListField(subfield=fields.StringField(), required=False)

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        top_level = self.top_level_modules or []
        internal = _internal(self, top_level)
        _add_top_level(graph, top_level, internal)
        modules = sorted(m for m in graph.modules if m.partition(".")[0] in internal)
        cycles = []
        for component in _strongly_connected(modules, graph):
            first = component[0]
            back = min((graph.find_shortest_chain(importer=after, imported=first) or (after, first)
                        for after in graph.find_modules_directly_imported_by(first) if after in component),
                       key=len)
            cycles.append((first, *back))
        return self.broken_by(cycles, graph)

    def heading(self, chain: tuple[str, ...]) -> str:
        return f"{chain[0]} imports itself through {len(chain) - 2} other module(s):"


def _strongly_connected(modules: list[str], graph: ImportGraph) -> list[list[str]]:
    """The groups of two or more modules that import each other, directly or not (Tarjan's algorithm)."""
    wanted = set(modules)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module) & wanted):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in modules:
        if module not in index:
            visit(module)
    return found
