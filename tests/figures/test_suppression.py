"""Complementary suppression on hand-made tables: each level pair and the months of a period."""

from __future__ import annotations

from admin.figures.suppression import (
    COUNTRY,
    determined,
    office_key,
    period_withheld,
    region_key,
    service_key,
    table_of,
    withheld,
)


def _table(offices: dict[tuple[str, str], int], services: dict[str, int] | None = None):
    office_rows = [
        {"region_code": r, "office_code": o, "responses": n} for (r, o), n in offices.items()
    ]
    total = sum(offices.values())
    services = services if services is not None else {"S1": total}
    service_rows = [{"service_code": s, "responses": n} for s, n in services.items()]
    return table_of(office_rows, service_rows)


def test_a_lone_small_office_gets_the_smallest_sibling_as_complement() -> None:
    table = _table({("a", "A1"): 4, ("a", "A2"): 30, ("a", "A3"): 20, ("b", "B1"): 50})
    hidden = withheld(table, 10)
    assert office_key("a", "A1") in hidden and office_key("a", "A3") in hidden
    assert office_key("a", "A2") not in hidden and region_key("a") not in hidden
    assert determined(table, hidden) == set()


def test_a_small_region_gets_a_complement_among_the_regions() -> None:
    table = _table({("a", "A1"): 6, ("b", "B1"): 40, ("c", "C1"): 25})
    hidden = withheld(table, 10)
    assert {region_key("a"), office_key("a", "A1")} <= hidden
    # Region c is the smallest other region; its only office must go too, or it gives c away.
    assert {region_key("c"), office_key("c", "C1")} <= hidden
    assert COUNTRY not in hidden and region_key("b") not in hidden
    assert determined(table, hidden) == set()


def test_a_small_service_gets_a_complement_among_the_services() -> None:
    table = _table({("a", "A1"): 60}, {"S1": 3, "S2": 40, "S3": 17})
    hidden = withheld(table, 10)
    assert {service_key("S1"), service_key("S3")} <= hidden
    assert service_key("S2") not in hidden


def test_the_check_finds_a_cell_given_away_by_a_chain_of_sums() -> None:
    table = _table({("a", "A1"): 4, ("a", "A2"): 30})
    # A1 and its region hidden, A2 shown: region = A1 + A2 and country = region give A1.
    assert office_key("a", "A1") in determined(table, {office_key("a", "A1"), region_key("a")})
    assert determined(table, withheld(table, 10)) == set()


def test_a_period_hides_every_cell_hidden_in_one_of_its_months() -> None:
    months = [
        _table({("a", "A1"): 20, ("a", "A2"): 20}),
        _table({("a", "A1"): 5, ("a", "A2"): 20, ("a", "A3"): 30}),
    ]
    period = _table({("a", "A1"): 25, ("a", "A2"): 40, ("a", "A3"): 30})
    hidden = period_withheld(period, months, 10)
    # A1 is large over the period, but the period minus the first month would give the second.
    assert office_key("a", "A1") in hidden and office_key("a", "A2") in hidden
    assert office_key("a", "A3") not in hidden
