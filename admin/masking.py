"""Masking personal data in citizens' text: IIN, card numbers, phone numbers, e-mail addresses.

Reviewers read complaints with these replaced by a placeholder; only the anti-corruption unit and
administrators see the original (and each such view is audited). The patterns err on the side of
masking: a long run of digits that is not an IIN is still hidden.
"""

from __future__ import annotations

import re

# Separators people put inside numbers: spaces (incl. no-break), dashes, dots, brackets.
_SEP = r"[\s\u00a0\-.()]*"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.\w{2,}", re.UNICODE)
# 13–19 digits, possibly in groups: bank cards (and anything as long, to be safe).
_CARD = re.compile(r"(?<![\d+])\d(?:[ \u00a0-]?\d){12,18}(?!\d)")
# Kazakhstan phone numbers: +7 / 8 / 7, then ten digits starting with 6 or 7 (mobile 7xx and
# the city codes), in any grouping: "+7 701 123 45 67", "8(7172)55-12-34", "7011234567".
_PHONE = re.compile(rf"(?<![\w+])(?:(?:\+\s?7|8|7){_SEP})?[67](?:{_SEP}\d){{9}}(?!\d)")
# The individual identification number: exactly 12 digits (YYMMDD + 6).
_IIN = re.compile(r"(?<!\d)\d{12}(?!\d)")

PLACEHOLDERS = {
    "email": "[e-mail]",
    "card": "[card]",
    "iin": "[IIN]",
    "phone": "[phone]",
}


def mask_personal_data(text: str) -> str:
    """``text`` with e-mail addresses, card numbers, IINs and phone numbers replaced."""
    text = _EMAIL.sub(PLACEHOLDERS["email"], text)
    text = _IIN.sub(PLACEHOLDERS["iin"], text)
    text = _CARD.sub(PLACEHOLDERS["card"], text)
    return _PHONE.sub(PLACEHOLDERS["phone"], text)


def contains_personal_data(text: str) -> bool:
    """True if masking would change ``text``."""
    return mask_personal_data(text) != text
