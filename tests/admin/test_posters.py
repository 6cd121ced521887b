"""The printable poster, rendered as a printer would see it (pdftoppm, from poppler-utils):
one large QR code when only the web chat has one, two side by side with the Telegram bot, and
either way the page filled, with no empty half."""

from __future__ import annotations

import shutil
import subprocess
from itertools import pairwise
from pathlib import Path

import pytest

from admin.posters import office_links, poster_pdf

NAMES = {"kk": "Астана қ. №1 ХҚКО", "ru": "ЦОН г. Астаны №1", "en": "Astana PSC No. 1"}


def render_gray(pdf: bytes, tmp_path: Path, png: Path, dpi: int = 30) -> list[bytes]:
    """The page as rows of grey bytes (0 black … 255 white); a PNG of it is left at ``png``."""
    source = tmp_path / "poster.pdf"
    source.write_bytes(pdf)
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "pdftoppm is missing: install poppler-utils (make test does)"
    subprocess.run(
        [pdftoppm, "-png", "-r", "50", "-singlefile", str(source), str(png.with_suffix(""))],
        check=True,
    )
    subprocess.run(
        [pdftoppm, "-gray", "-r", str(dpi), "-singlefile", str(source), str(tmp_path / "page")],
        check=True,
    )
    data = (tmp_path / "page.pgm").read_bytes()
    # A binary PGM: "P5", width, height, maxval, each followed by one blank, then the pixels.
    fields = data.split(maxsplit=4)
    assert fields[0] == b"P5"
    width, height = int(fields[1]), int(fields[2])
    pixels = fields[4]
    return [pixels[row * width : (row + 1) * width] for row in range(height)]


def ink(row: bytes) -> list[int]:
    return [x for x, value in enumerate(row) if value < 128]


def largest_blank_band(rows: list[bytes]) -> float:
    """The tallest run of rows without ink between the first and the last inked row, as a
    share of the page's height."""
    inked = [y for y, row in enumerate(rows) if ink(row)]
    longest = max(b - a - 1 for a, b in pairwise(inked))
    return longest / len(rows)


@pytest.mark.parametrize("bot", [None, "pikir_bot"], ids=["one-qr", "two-qr"])
def test_the_poster_fills_the_page(bot: str | None, tmp_path: Path, artifacts_dir: Path) -> None:
    links = office_links("AST-01", "https://pikir.example", bot)
    png = artifacts_dir / f"poster-{'two' if bot else 'one'}-qr.png"
    rows = render_gray(poster_pdf("AST-01", NAMES, links), tmp_path, png)
    height, width = len(rows), len(rows[0])
    # No empty stretch anywhere (the old layout left the lower third blank without a bot).
    assert largest_blank_band(rows) < 0.12
    inked = [y for y, row in enumerate(rows) if ink(row)]
    assert inked[0] < 0.15 * height and inked[-1] > 0.9 * height
    # The codes' rows: where ink spans most of a row.
    spans = [(row_ink[0], row_ink[-1]) for row in rows if len(row_ink := ink(row)) > 8]
    widest = max(right - left for left, right in spans)
    if bot is None:
        # One code, drawn large: over 60% of the page's width and centred.
        assert widest > 0.6 * width
        left, right = max(spans, key=lambda span: span[1] - span[0])
        assert abs((left + right) / 2 - width / 2) < 0.03 * width
    else:
        # Two codes side by side: ink on both sides of a clear middle.
        middle = [row[width // 2 - 2 : width // 2 + 2] for row in rows]
        both = [
            y
            for y, row in enumerate(rows)
            if min(ink(row), default=width) < width * 0.4
            and max(ink(row), default=0) > width * 0.6
            and all(value >= 128 for value in middle[y])
        ]
        assert len(both) > 0.25 * height
