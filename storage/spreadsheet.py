"""The one escaping of text for spreadsheets, used by every CSV and XLSX writer.

A cell whose text begins with ``=``, ``+``, ``-`` or ``@`` is run as a formula by spreadsheet
programs (``=HYPERLINK(...)`` sends the sheet's data elsewhere when clicked); a leading tab or
carriage return lets some programs find such a character after it. Such text gets a leading
apostrophe, which spreadsheet programs show as text. Numbers written as text stay as they are.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(text: str) -> str:
    """``text`` made safe for a spreadsheet cell: never read as a formula."""
    if text.startswith(FORMULA_STARTS) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip() == text
