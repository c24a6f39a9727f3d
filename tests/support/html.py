"""A screenshot-free sanity check of the shop's HTML with html.parser: structure, labels, landmarks."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
UNLABELLED_INPUTS = {"hidden", "submit", "button", "reset"}
FIELDS = ("input", "select", "textarea")


@dataclass
class Page(HTMLParser):
    """Everything the checks need from one document."""

    stack: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    elements: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    label_text: dict[str, str] = field(default_factory=dict)
    _label_for: str | None = None

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.elements.append((tag, values))
        if tag == "label":
            self._label_for = values.get("for", "")
            self.label_text[self._label_for] = ""
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
            return
        self.stack.pop()
        if tag == "label":
            self._label_for = None

    def handle_data(self, data: str) -> None:
        self.texts.append(data)
        if self._label_for is not None:
            self.label_text[self._label_for] += data

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.texts).split())

    def all(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [a for t, a in self.elements if t == tag and all(a.get(k) == v for k, v in attrs.items())]

    def meta_refresh(self) -> str | None:
        metas = self.all("meta", **{"http-equiv": "refresh"})
        return metas[0]["content"] if metas else None


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def check_page(html: str) -> Page:
    """Fails with every problem found; returns the parsed page for further checks."""
    page = parse(html)
    problems = list(page.problems)
    if page.stack:
        problems.append(f"unclosed: {page.stack}")
    if not html.lstrip().lower().startswith("<!doctype html>"):
        problems.append("no doctype")
    if not page.all("html") or not page.all("html")[0].get("lang"):
        problems.append("<html> without lang")
    if len(page.all("title")) != 1 or len(page.all("h1")) != 1:
        problems.append("not exactly one <title> and one <h1>")
    if not page.all("a", href="#main") or not page.all("main", id="main"):
        problems.append("no skip link to <main id=main>")
    ids = Counter(a["id"] for _, a in page.elements if "id" in a)
    problems += [f"duplicate id {i!r}" for i, n in ids.items() if n > 1]
    for tag, attrs in page.elements:
        labelled = page.label_text.get(attrs.get("id", "\0"), "").strip() or attrs.get("aria-label")
        needs_label = tag in FIELDS and attrs.get("type", "text") not in UNLABELLED_INPUTS
        if needs_label and not labelled:
            problems.append(f"{tag} {attrs.get('name')!r} has no label")
        if tag == "form" and attrs.get("method", "get").lower() == "post" and not page.all("button"):
            problems.append("a form without a button")
    assert not problems, problems
    return page
