"""The HTML sanity check itself: it must catch what it claims to catch."""

import pytest

from tests.support.html import check_page

GOOD = """<!doctype html><html lang="en"><head><title>t</title></head><body>
<a href="#main">Skip</a><main id="main"><h1>Shop</h1>
<form method="post"><label for="q">Quantity</label><input id="q" name="q"><input type="hidden" name="h">
<button>Go</button></form></main></body></html>"""


def test_a_clean_page_passes():
    assert check_page(GOOD).label_text == {"q": "Quantity"}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (('<label for="q">Quantity</label>', ""), "has no label"),
        (('lang="en"', ""), "without lang"),
        (("<h1>Shop</h1>", "<h1>Shop</h1><h1>Again</h1>"), "one <h1>"),
        (('<a href="#main">Skip</a>', ""), "skip link"),
        (('name="h"', 'name="h" id="q"'), "duplicate id"),
        (("</form>", "</div></form>"), "</div> closes form"),
        (("</main>", ""), "unclosed"),
        (("<!doctype html>", ""), "no doctype"),
    ],
)
def test_broken_pages_are_caught(change, problem):
    with pytest.raises(AssertionError) as caught:
        check_page(GOOD.replace(*change))
    assert problem in str(caught.value)
