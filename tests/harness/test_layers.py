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


def test_the_command_line_lists_the_plugin_s_commands_without_loading_the_plugin():
    import subprocess
    import sys

    probe = ("import sys; from harness import cli; parser = cli.build_parser(); "
             "assert 'baselines' in parser.format_help(); "
             "print(sorted(m for m in sys.modules if m.startswith('pytest_mlptune')))")
    listed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert listed.stdout.strip() == "[]"


def test_every_package_is_shipped():
    """setuptools' explicit package list does not recurse: a new subpackage must be named in pyproject."""
    import tomllib

    root = Path(harness.__file__).parent.parent
    shipped = set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    packages = {".".join(init.parent.relative_to(root).parts)
                for top in ("harness", "pytest_mlptune") for init in (root / top).rglob("__init__.py")}
    assert packages <= shipped
