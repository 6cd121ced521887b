"""QR codes and printable posters for an office: the Telegram deep link and the web chat link.

PNG and SVG come from segno; the A4 PDF is drawn with reportlab, the QR codes as vector squares
and the text in DejaVu Sans (it has the Kazakh letters), so it prints sharp at any size.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import segno

from vocabulary import LANGUAGES

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))
FONT_NAME = "DejaVuSans"
FONT_BOLD_NAME = "DejaVuSans-Bold"

# The poster's own words: always all three languages, whatever the staff member's language.
HEADLINES = (
    ("kk", "Қызмет көрсету сапасын бағалаңыз"),
    ("ru", "Оцените качество обслуживания"),
    ("en", "Rate the service you received"),
)
SUBTITLE = "Анонимді · Анонимно · Anonymous — 1 min"
TELEGRAM_CAPTION = "Telegram"
WEB_CAPTION = "Веб-чат · Веб-чат · Web chat"
HOW_TO = (
    "Телефонның камерасын QR-кодқа бағыттаңыз",
    "Наведите камеру телефона на QR-код",
    "Point your phone's camera at the QR code",
)


class FontMissing(RuntimeError):
    """DejaVu Sans is not installed (Debian package fonts-dejavu-core)."""


@dataclass(frozen=True)
class PosterLinks:
    """Where the QR codes of one office lead."""

    telegram: str | None
    web: str


def office_links(code: str, public_url: str, bot_username: str | None) -> PosterLinks:
    """The Telegram deep link (when the bot's name is known) and the web chat link of an office."""
    telegram = None
    if bot_username:
        telegram = f"https://t.me/{quote(bot_username.lstrip('@'))}?start={quote(code)}"
    web = f"{public_url.rstrip('/')}/chat?office={quote(code)}"
    return PosterLinks(telegram=telegram, web=web)


def qr_png(url: str, scale: int = 10) -> bytes:
    """A PNG of the QR code for ``url``."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def qr_svg(url: str, scale: int = 10) -> bytes:
    """An SVG of the QR code for ``url``."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=scale, border=4, xmldecl=False)
    return buffer.getvalue()


def poster_pdf(code: str, names: Mapping[str, str], links: PosterLinks) -> bytes:
    """An A4 poster: the headline and the office name in Kazakh, Russian and English, the QRs.

    With one QR code (no bot configured) it is drawn large in the middle of the page; with two
    they stand side by side. Either way the codes, their captions and the how-to lines are
    spread over the page below the headline, so no half of it is left empty.
    """
    # Imported here: reportlab would add a fifth of a second to every start of the CLI.
    from reportlab.lib.colors import HexColor, black
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    _register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(f"Pikir — {code}")
    width, height = A4
    y = height - 30 * mm
    canvas.setFillColor(HexColor("#0b5394"))
    for _language, headline in HEADLINES:
        canvas.setFont(FONT_BOLD_NAME, 22)
        canvas.drawCentredString(width / 2, y, headline)
        y -= 11 * mm
    canvas.setFillColor(black)
    canvas.setFont(FONT_NAME, 13)
    canvas.drawCentredString(width / 2, y, SUBTITLE)
    y -= 16 * mm
    for language in LANGUAGES:
        canvas.setFont(FONT_NAME, 12)
        canvas.drawCentredString(width / 2, y, _fit(names.get(language, ""), 80))
        y -= 7 * mm
    targets = [(TELEGRAM_CAPTION, links.telegram), (WEB_CAPTION, links.web)]
    shown = [(caption, url) for caption, url in targets if url]
    # The band between the office's name and the footer holds the codes, each with its caption
    # and link below it, then the how-to lines.
    band_top, band_bottom = y - 4 * mm, 30 * mm
    below_code = 17 * mm
    how_to = len(HOW_TO) * 8 * mm + 6 * mm
    margin = 20 * mm
    if len(shown) == 1:
        size = min(width - 2 * margin, band_top - band_bottom - below_code - how_to)
    else:
        size = min((width - 3 * 12 * mm) / 2, band_top - band_bottom - below_code - how_to)
    block = size + below_code + how_to
    top = band_top - (band_top - band_bottom - block) / 2  # the block centred in the band
    gap = (width - size * len(shown)) / (len(shown) + 1)
    for index, (caption, url) in enumerate(shown):
        left = gap + index * (size + gap)
        _draw_qr(canvas, url, left, top - size, size)
        canvas.setFont(FONT_BOLD_NAME, 16 if len(shown) == 1 else 14)
        canvas.drawCentredString(left + size / 2, top - size - 9 * mm, caption)
        canvas.setFont(FONT_NAME, 8)
        canvas.drawCentredString(left + size / 2, top - size - 15 * mm, _fit(url, 70))
    line = top - size - below_code - 6 * mm
    canvas.setFillColor(HexColor("#0b5394"))
    for text in HOW_TO:
        canvas.setFont(FONT_NAME, 13)
        canvas.drawCentredString(width / 2, line, text)
        line -= 8 * mm
    canvas.setFillColor(black)
    canvas.setFont(FONT_NAME, 10)
    canvas.drawCentredString(width / 2, 20 * mm, f"{code} · Pikir")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _draw_qr(canvas: Canvas, url: str, left: float, bottom: float, size: float) -> None:
    from reportlab.lib.colors import black

    qr = segno.make(url, error="m")
    matrix = [list(row) for row in qr.matrix_iter(border=2)]
    cell = size / len(matrix)
    canvas.setFillColor(black)
    for row_index, row in enumerate(matrix):
        for col_index, dark in enumerate(row):
            if dark:
                x = left + col_index * cell
                y = bottom + size - (row_index + 1) * cell
                # A hair of overlap so adjacent squares print without white seams.
                canvas.rect(x, y, cell + 0.2, cell + 0.2, stroke=0, fill=1)


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _register_fonts() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT_NAME in pdfmetrics.getRegisteredFontNames():
        return
    for directory in FONT_DIRS:
        regular, bold = directory / "DejaVuSans.ttf", directory / "DejaVuSans-Bold.ttf"
        if regular.exists() and bold.exists():
            pdfmetrics.registerFont(TTFont(FONT_NAME, str(regular)))
            pdfmetrics.registerFont(TTFont(FONT_BOLD_NAME, str(bold)))
            return
    raise FontMissing("DejaVu Sans not found; install the Debian package fonts-dejavu-core")
