"""Issue 14: no consumer claims a message outside `Inbox`, and every handler claims through it.

Read from the source, so a new handler that forgets the inbox, or a claim made some other way, fails
here rather than in production under a redelivery.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLAIM_SQL = "INSERT INTO inbox"


def _modules() -> list[Path]:
    return sorted(p for p in (ROOT / "services").glob("*/*/**/*.py") if "migrations" not in p.parts)


def _calls(tree: ast.AST, name: str) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == name
    ]


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_only_the_inbox_claims(path: Path) -> None:
    source = path.read_text()
    assert CLAIM_SQL not in source, "the claim's SQL lives in messaging.inbox only"
    claims = _calls(ast.parse(source), "claim")
    if path.name == "repository.py":  # the Claims port: one method delegating to messaging.inbox
        assert len(claims) <= 1
        return
    assert not claims, "claim messages with Inbox.accept(repo, msg), never repo.claim"


def _handlers(path: Path) -> list[ast.AsyncFunctionDef]:
    tree = ast.parse(path.read_text())
    return [n for n in tree.body if isinstance(n, ast.AsyncFunctionDef) and n.name.startswith("on_")]


@pytest.mark.parametrize(
    "path",
    [p for p in sorted((ROOT / "services").glob("*/*/handlers.py"))],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_every_handler_goes_through_the_inbox(path: Path) -> None:
    """Each `on_*` handler, or the one helper it delegates to, calls `accept`."""
    tree = ast.parse(path.read_text())
    functions = {n.name: n for n in tree.body if isinstance(n, ast.AsyncFunctionDef | ast.FunctionDef)}
    accepting = {name for name, fn in functions.items() if _calls(fn, "accept")}
    handlers = _handlers(path)
    assert handlers
    for handler in handlers:
        called = {
            node.func.id
            for node in ast.walk(handler)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        }
        assert handler.name in accepting or called & accepting, f"{handler.name} does not claim its message"
