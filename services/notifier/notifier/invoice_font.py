"""notifier: the invoice's font: Noto Sans from the `fontpkg-noto-sans` package, cut once per process.

The built-in PDF fonts cover Latin-1 only (€ printed as "?"), so the invoice embeds Noto Sans (SIL OFL
1.1, from Google Fonts' repository, as the package ships it). fpdf2 parses the whole font file and
subsets it again for every document, which costs in proportion to the file: 60 ms of CPU per invoice
with the package's file as it is. So each process cuts it once (about 0.15 s) to what an invoice
prints, Latin with its accents and Vietnamese, Greek, Cyrillic, punctuation, the currency signs and
letterlike symbols (about 1,700 glyphs), and drops what fpdf2 never reads without text shaping (the
layout tables) and the variation tables (the outlines left are the default instance, the regular
weight): 15 ms per invoice. Not covered: Chinese, Japanese, Korean and other scripts.
"""

from __future__ import annotations

import atexit
import io
import logging
import shutil
import tempfile
from functools import cache
from importlib.resources import files
from pathlib import Path

from fontTools import subset  # type: ignore[import-untyped]  # fontTools ships no types
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

log = logging.getLogger(__name__)
# fpdf2 subsets the font with fontTools for every invoice, and fontTools logs each step at INFO: about
# thirty lines per receipt that drowned the worker's own log (seen in make chaos's logs)
logging.getLogger("fontTools").setLevel(logging.WARNING)
SOURCE = Path(str(files("fontpkg_noto_sans") / "files" / "NotoSans[wdth,wght].ttf"))
COVERED = (
    (0x20, 0x7E),  # Basic Latin
    (0xA0, 0x36F),  # Latin-1, Latin Extended-A and -B, IPA, spacing modifiers, combining accents
    (0x370, 0x3FF),  # Greek
    (0x400, 0x52F),  # Cyrillic and its supplement
    (0x1E00, 0x1EFF),  # Latin Extended Additional (Vietnamese, ...)
    (0x2000, 0x206F),  # General Punctuation
    (0x20A0, 0x20CF),  # Currency Symbols
    (0x2100, 0x214F),  # Letterlike Symbols
)
_UNUSED_TABLES = ("GSUB", "GPOS", "GDEF", "fvar", "gvar", "avar", "cvar", "HVAR", "MVAR", "STAT")


def cut(source: Path) -> bytes:
    """The source font reduced to COVERED, static (default instance), without layout tables."""
    font = TTFont(source, recalcTimestamp=False)  # the same bytes in every process
    for table in _UNUSED_TABLES:
        if table in font:
            del font[table]
    options = subset.Options()
    options.layout_features = []
    options.name_IDs = ["*"]  # the copyright and licence names travel with the font
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[code for first, last in COVERED for code in range(first, last + 1)])
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


@cache
def font_file() -> Path:
    """The cut font in a private temporary directory (fpdf2 reads fonts from files), removed at exit;
    the package's file itself when no temporary directory can be written (correct, four times slower)."""
    try:
        folder = Path(tempfile.mkdtemp(prefix="paybus-invoice-font-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        path = folder / "NotoSans-invoice.ttf"
        path.write_bytes(cut(SOURCE))
    except OSError as exc:
        log.warning("invoice font not cut (%s): embedding %s as it is", exc, SOURCE.name)
        return SOURCE
    return path
