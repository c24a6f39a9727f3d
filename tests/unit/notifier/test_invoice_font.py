"""The invoice's font: Noto Sans cut once to what invoices print, static and without layout tables."""

from __future__ import annotations

import io
import tempfile

import pytest
from fontTools.ttLib import TTFont

from notifier import invoice_font


def test_the_cut_font_covers_the_currency_signs_and_european_scripts() -> None:
    font = TTFont(io.BytesIO(invoice_font.cut(invoice_font.SOURCE)))
    cmap = font.getBestCmap()
    for char in "€¥£$₩₹₺ÆæŁłŐőŽžßẞçñøåẠạĀāΩμέЖжЇї\u2013\u2014\u2026":
        assert ord(char) in cmap, char
    assert not {"GSUB", "GPOS", "fvar", "gvar"} & set(font.keys())  # static: the regular weight
    assert 1000 < len(font.getGlyphOrder()) < 2500  # a fraction of the source, which costs per document


def test_the_cut_font_lives_in_a_file_of_its_own() -> None:
    path = invoice_font.font_file()
    assert path.suffix == ".ttf"
    assert path.read_bytes() == invoice_font.cut(invoice_font.SOURCE)  # the same bytes in every process


def test_without_a_writable_temporary_directory_the_packaged_font_is_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(**_: object) -> str:
        raise PermissionError("read-only file system")

    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    assert invoice_font.font_file.__wrapped__() == invoice_font.SOURCE
