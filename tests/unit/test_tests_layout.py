"""The test tree's own rules: helpers in tests/support, conftest.py for fixtures, tiers selected by marker."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
OUTSIDE_UNIT = ("support", "integration", "e2e", "chaos")


def imported_modules(source: str, package: tuple[str, ...]) -> Iterator[str]:
    """Every module (and `module.name`) the source imports, relative imports resolved against `package`."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else ()
            module = ".".join((*base, *([node.module] if node.module else [])))
            yield module
            yield from (f"{module}.{alias.name}" for alias in node.names)


def imports_of(path: Path) -> Iterator[str]:
    return imported_modules(path.read_text(), path.relative_to(ROOT).with_suffix("").parts[:-1])


def test_relative_and_absolute_imports_are_both_seen() -> None:
    source = "from ..unit.orders import fakes\nfrom .conftest import thing\nimport tests.unit.gateway\n"
    seen = set(imported_modules(source, ("tests", "integration")))
    assert {"tests.unit.orders.fakes", "tests.integration.conftest", "tests.unit.gateway"} <= seen


def test_nothing_outside_the_unit_tier_imports_from_it() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for folder in OUTSIDE_UNIT
        for path in sorted((TESTS / folder).rglob("*.py"))
        for module in imports_of(path)
        if module == "tests.unit" or module.startswith("tests.unit.")
    ]
    assert offenders == [], "helpers shared by tiers belong in tests/support:\n" + "\n".join(offenders)


def test_no_module_imports_from_a_conftest() -> None:
    """Fixtures arrive by name from the conftest above a test; anything imported lives in tests/support."""
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sorted(TESTS.rglob("*.py"))
        for module in imports_of(path)
        if module.endswith(".conftest") or ".conftest." in module
    ]
    assert offenders == [], "\n".join(offenders)


def test_conftest_files_define_only_fixtures_and_hooks() -> None:
    def allowed(node: ast.stmt) -> bool:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            decorators = [d.func if isinstance(d, ast.Call) else d for d in node.decorator_list]
            fixture = any(isinstance(d, ast.Attribute) and d.attr == "fixture" for d in decorators)
            return fixture or node.name.startswith("pytest_")
        return not isinstance(node, ast.ClassDef)

    offenders = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"
        for path in sorted(TESTS.rglob("conftest.py"))
        for node in ast.parse(path.read_text()).body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and not allowed(node)
    ]
    assert offenders == [], "helpers belong in tests/support:\n" + "\n".join(offenders)


def test_test_folders_hold_only_tests_and_fixtures() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted(TESTS.rglob("*.py"))
        if not path.is_relative_to(TESTS / "support")
        and not (path.name.startswith("test_") or path.name in ("conftest.py", "__init__.py"))
    ]
    assert offenders == [], "helper modules belong in tests/support:\n" + "\n".join(offenders)


MARKERS_OF_COLLECTED = """
import sys, pytest
class Show:
    def pytest_collection_finish(self, session):
        for item in session.items:
            print("MARKED", item.nodeid, ",".join(m.name for m in item.iter_markers()), sep="\\t")
sys.exit(pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", *sys.argv[1:]], plugins=[Show()]))
"""


def test_the_integration_marker_is_on_every_test_outside_the_unit_tier() -> None:
    """`pytest -m "not integration"` (make test-unit) is the unit tier; tests/e2e is also marked `e2e`."""
    paths = (
        "tests/unit/test_architecture_doc.py",
        "tests/integration/runtime",
        "tests/e2e/test_api_journeys.py",
    )
    done = subprocess.run(
        [sys.executable, "-c", MARKERS_OF_COLLECTED, *paths],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    marked = [line.split("\t")[1:] for line in done.stdout.splitlines() if line.startswith("MARKED\t")]
    tiers = {(test.split("/")[1], frozenset(markers.split(","))) for test, markers in marked}
    assert {tier for tier, _ in tiers} == {"unit", "integration", "e2e"}
    for tier, markers in tiers:
        assert ("integration" in markers) == (tier != "unit"), (tier, markers)
        assert ("e2e" in markers) == (tier == "e2e"), (tier, markers)
