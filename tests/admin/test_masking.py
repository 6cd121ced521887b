"""Masking personal data in citizens' text (a pure function: no database needed)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from admin.masking import contains_personal_data, mask_personal_data


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("мой ИИН 870101300123, проверьте", "мой ИИН [IIN], проверьте"),
        ("ЖСН:870101300123.", "ЖСН:[IIN]."),
        ("звоните +7 701 123 45 67", "звоните [phone]"),
        ("тел 87011234567", "тел [phone]"),
        ("8 (701) 123-45-67 вечером", "[phone] вечером"),
        ("+77011234567", "[phone]"),
        ("городской 8 7172 55 12 34", "городской [phone]"),
        ("7011234567", "[phone]"),
        ("пишите aigul.s@mail.kz или A_B@gov.kz", "пишите [e-mail] или [e-mail]"),
        ("карта 4400 4300 1234 5678", "карта [card]"),
        ("карта 4400-4300-1234-5678!", "карта [card]!"),
        ("4400430012345678", "[card]"),
        (
            "IIN 870101300123 phone +7-777-000-11-22 mail x@y.kz",
            "IIN [IIN] phone [phone] mail [e-mail]",
        ),
    ],
)
def test_personal_data_is_masked(text: str, masked: str) -> None:
    assert mask_personal_data(text) == masked
    assert contains_personal_data(text)


@pytest.mark.parametrize(
    "text",
    [
        "Ждали 3 часа в очереди, талон 145",
        "в 2023 году 15 человек, окно 12",
        "просили 5000 тенге, потом 20 000",
        "Дата 12.03.2026 в 10:30",
        "ХҚКО №3, кабинет 201",
        "cost 5000 tenge, queue of 40 people",
    ],
)
def test_ordinary_numbers_are_left_alone(text: str) -> None:
    assert mask_personal_data(text) == text
    assert not contains_personal_data(text)


@given(st.from_regex(r"\d{12}", fullmatch=True), st.text(max_size=30))
def test_any_iin_is_hidden_wherever_it_stands(iin: str, around: str) -> None:
    text = f"{around} {iin} {around}"
    assert iin not in mask_personal_data(text)


@given(st.text(max_size=200))
def test_masking_is_idempotent_and_never_grows_digits(text: str) -> None:
    once = mask_personal_data(text)
    assert mask_personal_data(once) == once
    assert sum(ch.isdigit() for ch in once) <= sum(ch.isdigit() for ch in text)
