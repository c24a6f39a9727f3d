"""The test tree's own rules: helpers in tests/support, the unit tier private, tiers selected by marker."""

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


def test_no_conftest_re_imports_the_fixtures_of_another() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sorted(TESTS.rglob("conftest.py"))
        for module in imports_of(path)
        if ".conftest" in module
    ]
    assert offenders == [], "a fixture several packages share goes in the conftest above them:\n" + "\n".join(
        offenders
    )


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
