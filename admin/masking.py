"""Masking personal data in citizens' text: IIN, card numbers, phone numbers, e-mail addresses.

Reviewers read complaints with these replaced by a placeholder; only the anti-corruption unit and
administrators see the original (and each such view is audited). The patterns err on the side of
masking: a long run of digits that is not an IIN is still hidden. The patterns are the
vocabulary's (:mod:`vocabulary.personal_data`), which the classifier's normaliser uses too.
"""

from __future__ import annotations

from vocabulary import personal_data as patterns

_EMAIL, _CARD, _PHONE, _IIN = (patterns.EMAIL, patterns.CARD, patterns.PHONE, patterns.IIN)

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
