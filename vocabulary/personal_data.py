"""Patterns of personal data in citizens' text: e-mail addresses, card numbers, phones, IINs.

The staff panel masks them for reviewers and the classifier's normaliser replaces them by
placeholders, from these same patterns. They err on the side of matching: a long run of digits
that is not an IIN is still a card number to mask.
"""

from __future__ import annotations

import re

# Separators people put inside numbers: spaces (incl. no-break), dashes, dots, brackets.
_SEP = r"[\s\u00a0\-.()]*"

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.\w{2,}", re.UNICODE)
CARD = re.compile(r"(?<![\d+])\d(?:[ \u00a0-]?\d){12,18}(?!\d)")
"""13–19 digits, possibly in groups: bank cards (and anything as long, to be safe)."""
PHONE = re.compile(rf"(?<![\w+])(?:(?:\+\s?7|8|7){_SEP})?[67](?:{_SEP}\d){{9}}(?!\d)")
"""Kazakhstan phone numbers: +7 / 8 / 7, then ten digits starting with 6 or 7 (mobile 7xx and
the city codes), in any grouping: "+7 701 123 45 67", "8(7172)55-12-34", "7011234567"."""
IIN = re.compile(r"(?<!\d)\d{12}(?!\d)")
"""The individual identification number: exactly 12 digits (YYMMDD + 6)."""
