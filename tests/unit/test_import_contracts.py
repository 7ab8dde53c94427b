"""The import contracts of tests/import_contracts.py find what they are for: a cycle between single
modules, and a top-level module's forbidden import, made by itself or through a package."""

from __future__ import annotations

import grimp

from tests.import_contracts import AcyclicModulesContract, TopLevelForbiddenContract

SESSION = {"root_packages": ["pkg"]}


def graph(*imports: tuple[str, str]) -> grimp.ImportGraph:
    built = grimp.ImportGraph()
    for name in ("pkg", "pkg.web", "pkg.pages", "pkg.lab"):
        built.add_module(name)
    for importer, imported in imports:
        built.add_import(importer=importer, imported=imported, line_number=1, line_contents="import")
    return built


def top_level(tmp_path, monkeypatch, name: str, source: str) -> str:
    (tmp_path / f"{name}.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


def acyclic(top: list[str] | None = None) -> AcyclicModulesContract:
    return AcyclicModulesContract("no cycles", SESSION, {"top_level_modules": top or []})


def forbidden(source: str) -> TopLevelForbiddenContract:
    return TopLevelForbiddenContract("no lab", SESSION, {"source_modules": [source], "forbidden_modules": ["pkg.lab"]})


def test_a_cycle_between_modules_is_found_and_a_chain_is_not():
    cyclic = acyclic().check(graph(("pkg.web", "pkg.pages"), ("pkg.pages", "pkg.lab"), ("pkg.lab", "pkg.web")), False)
    assert not cyclic.kept
    assert sorted(cyclic.metadata["chains"]) == [("pkg.lab", "pkg.web", "pkg.pages", "pkg.lab")]
    assert acyclic().check(graph(("pkg.web", "pkg.pages"), ("pkg.pages", "pkg.lab")), False).kept


def test_a_cycle_through_a_top_level_module_is_found(tmp_path, monkeypatch):
    name = top_level(tmp_path, monkeypatch, "inkorg_probe_cycle", "def factory():\n    from pkg import web\n")
    assert acyclic([name]).check(graph(("pkg.pages", "pkg.web")), False).kept
    broken = acyclic([name]).check(graph(("pkg.web", name)), False)
    assert not broken.kept and sorted(broken.metadata["chains"][0][:-1]) == [name, "pkg.web"]


def test_a_top_level_module_may_not_import_what_is_forbidden_itself_or_through_a_package(tmp_path, monkeypatch):
    itself = top_level(tmp_path, monkeypatch, "inkorg_probe_itself", "def demo():\n    import pkg.lab\n")
    assert forbidden(itself).check(graph(), False).metadata["chains"] == [(itself, "pkg.lab")]
    through = top_level(tmp_path, monkeypatch, "inkorg_probe_through", "from pkg import web\n")
    assert forbidden(through).check(graph(("pkg.web", "pkg.pages")), False).kept
    chained = forbidden(through).check(graph(("pkg.web", "pkg.pages"), ("pkg.pages", "pkg.lab")), False)
    assert chained.metadata["chains"] == [(through, "pkg.web", "pkg.pages", "pkg.lab")]
