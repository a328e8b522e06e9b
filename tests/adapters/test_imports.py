"""Adapters are plugins: they import the adapter API and the edXML model, never the gateway's
internals (DESIGN §3), and the gateway core never imports an adapter."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# gateway.vdxp is the national axis' protocol (signing, answers), format code like gateway.edxml
# that imports nothing of the gateway (docs/vdxp.md): the vdxp bridge speaks it.
ALLOWED = ("gateway.adapter_api", "gateway.edxml", "gateway.vdxp")


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def allowed(module: str) -> bool:
    if module == "gateway" or module.startswith("gateway."):
        return any(module == a or module.startswith(a + ".") for a in ALLOWED)
    return True


def test_adapters_import_only_the_adapter_api_and_the_edxml_model() -> None:
    files = sorted((ROOT / "adapters").rglob("*.py"))
    assert len(files) > 5
    offending = {
        str(path.relative_to(ROOT)): sorted(m for m in imported(path) if not allowed(m))
        for path in files
    }
    assert {path: found for path, found in offending.items() if found} == {}


def test_the_gateway_never_imports_an_adapter() -> None:
    offending = {
        str(path.relative_to(ROOT)): sorted(
            m for m in imported(path) if m == "adapters" or m.startswith("adapters.")
        )
        for path in sorted((ROOT / "gateway").rglob("*.py"))
    }
    assert {path: found for path, found in offending.items() if found} == {}


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("from gateway.store import db\nimport gateway.edxml.parse\nimport aiohttp\n")
    assert sorted(m for m in imported(module) if not allowed(m)) == ["gateway.store"]
