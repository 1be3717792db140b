"""The layers of the house hold: the import-linter contracts in pyproject.toml are kept (layers one
way down, analysis pure, no framework in the domains, no import cycle even between the files of one
package), and no code imports a dependency's private (underscore) module."""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parents[1]
OUR_CODE = ["survey_service", "analysis", "bench"]


def test_the_import_contracts_are_kept():
    command = shutil.which("lint-imports")
    if command is None:
        pytest.fail("import-linter is not installed: pip install '.[test]'")
    run = subprocess.run([command, "--no-cache"], cwd=CHECKOUT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


def private_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules = [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and not node.level]
    modules += [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    return [
        module
        for module in modules
        if module.split(".")[0] not in ("survey_service", "analysis")
        and any(part.startswith("_") and part != "__future__" for part in module.split("."))
    ]


def test_no_private_module_of_a_dependency_is_imported():
    found = {
        str(path.relative_to(CHECKOUT)): names
        for top in OUR_CODE
        for path in (CHECKOUT / top).rglob("*.py")
        if (names := private_imports(path))
    }
    assert found == {}


def test_the_private_import_check_finds_one(tmp_path):
    """The check above can fail: a framework's underscore module, imported either way, is named."""
    planted = tmp_path / "planted.py"
    planted.write_text(
        "import litestar._kwargs\nfrom litestar._asgi.utils import get_route_handlers\nimport litestar\n"
    )
    assert private_imports(planted) == ["litestar._asgi.utils", "litestar._kwargs"]
