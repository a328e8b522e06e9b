"""The folders are the layers (docs/architecture.md): a module imports only from its own layer or
the layers below it, no import cycle (type-only and deferred imports included), and no private
name (`_x`) imported from another module. Read with ast, as tests/adapters/test_imports.py does."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Lowest first. A module's layer is that of the longest prefix listed here.
LAYERS: tuple[tuple[str, ...], ...] = (
    # the basics: contracts, settings, errors, small helpers, how the process runs
    (
        "gateway.errors",
        "gateway.clock",
        "gateway.ids",
        "gateway.log",
        "gateway.metrics",
        "gateway.config",
        "gateway.directory",
        "gateway.adapter_api",
        "gateway.vdxp",
        "gateway.runtime",
        "gateway.sizes",
    ),
    # storage, transport and formats; the steps of the intake that belong to trust and policy,
    # and the submission they read
    (
        "gateway.store",
        "gateway.bus",
        "gateway.edxml",
        "gateway.trust",
        "gateway.policy",
        "gateway.intake.submission",
    ),
    # the audit log and the statistics counted from it
    ("gateway.audit", "gateway.stats"),
    # the services; the department's client and the conformance kit
    (
        "gateway.intake",
        "gateway.delivery",
        "gateway.maintenance",
        "gateway.client",
        "gateway.conformance",
    ),
    ("gateway.api", "gateway.console"),  # the console calls what the API calls
    ("gateway.app",),  # the composition root
    ("gateway.cli", "gateway.__main__"),  # `edocgw serve` starts the composition root
)


def layer(module: str) -> int:
    best, found = -1, None
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, found = len(prefix), index
    if found is None:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS")
    return found


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(module: str, source: str, known: Iterable[str]) -> set[str]:
    """The gateway modules `module` imports, anywhere in it (TYPE_CHECKING, functions)."""
    modules = set(known)
    package = module if f"{module}.__init__" in modules else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:  # `from pkg import module` imports the module
                child = f"{base}.{alias.name}"
                found.add(child if child in modules else base)
    return {name for name in found if name == "gateway" or name.startswith("gateway.")}


def gateway_graph(root: Path = ROOT) -> dict[str, set[str]]:
    paths = {module_name(p, root): p for p in sorted((root / "gateway").rglob("*.py"))}
    known = set(paths) | {f"{m}.__init__" for m, p in paths.items() if p.name == "__init__.py"}
    return {
        module: {m for m in imports_of(module, path.read_text(encoding="utf-8"), known)} - {module}
        for module, path in paths.items()
        if ".migrations." not in module  # Alembic's scripts, loaded by path
    }


def upward(graph: Mapping[str, set[str]]) -> dict[str, list[str]]:
    found = {
        module: sorted(m for m in imported if layer(m) > layer(module))
        for module, imported in graph.items()
    }
    return {module: names for module, names in found.items() if names}


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in graph.get(node, ()):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def private_imports(module: str, source: str) -> list[str]:
    """Private names taken from another module; a private module only from its own package."""
    package = module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
            private = [part for part in node.module.split(".") if part.startswith("_")]
            if private and node.module.rpartition(".")[0] != package:
                found.append(node.module)
    return [name for name in found if not name.startswith("__future__")]


def test_every_module_imports_only_its_layer_and_those_below() -> None:
    graph = gateway_graph()
    assert len(graph) > 100
    assert upward(graph) == {}


def test_no_import_cycle_not_even_a_type_only_one() -> None:
    assert cycles(gateway_graph()) == []


def test_no_private_name_is_imported_from_another_module() -> None:
    offending = {}
    for root in ("gateway", "adapters"):
        for path in sorted((ROOT / root).rglob("*.py")):
            module = module_name(path, ROOT)
            names = private_imports(module, path.read_text(encoding="utf-8"))
            if names:
                offending[module] = names
    assert offending == {}


def test_the_checks_see_a_forbidden_import_a_cycle_and_a_private_name(tmp_path: Path) -> None:
    for name, text in {
        "gateway/__init__.py": "",
        "gateway/store/__init__.py": "",
        "gateway/store/db.py": "from gateway.intake import pipeline\n",
        "gateway/intake/__init__.py": "",
        "gateway/intake/pipeline.py": (
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from gateway.intake.exchange import Exchange\n"
        ),
        "gateway/intake/exchange.py": "from .pipeline import Step\n",
    }.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    graph = gateway_graph(tmp_path)
    assert upward(graph) == {"gateway.store.db": ["gateway.intake.pipeline"]}
    assert cycles(graph) == [["gateway.intake.exchange", "gateway.intake.pipeline"]]
    source = "from gateway.bus.local.bus import _Outcome\nfrom gateway.cli._common import x\n"
    assert private_imports("gateway.bus.amqp.consumer", source) == [
        "gateway.bus.local.bus._Outcome",
        "gateway.cli._common",
    ]
    assert private_imports("gateway.cli.ops", source) == ["gateway.bus.local.bus._Outcome"]
