"""The harness is the lower layer: it never imports the pytest plugin (the plugin imports it)."""

import ast
from pathlib import Path

import harness


def imported_modules(path: Path):
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from ((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module, node.lineno


def test_no_harness_module_imports_the_plugin():
    root = Path(harness.__file__).parent
    offenders = [f"{path.relative_to(root.parent)}:{line} imports {module}"
                 for path in sorted(root.rglob("*.py"))
                 for module, line in imported_modules(path) if module.split(".")[0] == "pytest_mlptune"]
    assert offenders == []
