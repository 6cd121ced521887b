"""Which cells of a report are withheld from publication, so that no small cell can be read off.

Primary suppression withholds every cell with fewer responses than the minimum. Complementary
suppression then withholds more cells until no withheld cell can be recovered by adding and
subtracting published ones: the published totals are linear equations (the country is the sum of
its regions and of its services, a region the sum of its offices), and a withheld cell is safe
when no combination of those equations isolates it. Two steps get there:

1. every equation with exactly one withheld member gets a second one: its smallest published
   child (the parent only when no child is left), until no equation has a lone withheld member;
2. an exact check over all equations at once (Gaussian elimination in fractions) finds a
   withheld cell still determined by a chain of equations, and withholds the smallest published
   member of an equation holding it; repeated until no withheld cell is determined.

A quarter or year view withholds every cell withheld in any of its months: each published period
cell is then the sum of published month cells, and adds nothing a reader of the monthly figures
could not already compute. The same pattern holds for every count of a cell (responses,
complaints, each tag, cases), since all of them add up along the same equations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

Key = tuple[str, ...]
COUNTRY: Key = ("country",)


def region_key(region: str | None) -> Key:
    """The key of a region's cell ("" is feedback without an office)."""
    return ("region", region or "")


def office_key(region: str | None, office: str | None) -> Key:
    """The key of an office's cell ("" is feedback without an office)."""
    return ("office", region or "", office or "")


def service_key(service: str | None) -> Key:
    """The key of a service's cell ("" is feedback without a service)."""
    return ("service", service or "")


@dataclass
class Table:
    """The responses of each cell of one month or period and the sums that tie them together."""

    sizes: dict[Key, int] = field(default_factory=dict)
    equations: list[tuple[Key, list[Key]]] = field(default_factory=list)


def table_of(
    office_rows: Iterable[Mapping[str, Any]], service_rows: Iterable[Mapping[str, Any]]
) -> Table:
    """The cells and equations from rows of responses by office and by service.

    The rows without an office or a service are cells too (never shown, but part of the sums).
    """
    table = Table()
    offices: dict[str, list[Key]] = {}
    for row in office_rows:
        n = int(row.get("responses") or 0)
        if n <= 0:
            continue
        region = row.get("region_code") or ""
        key = office_key(region, row.get("office_code"))
        table.sizes[key] = table.sizes.get(key, 0) + n
        table.sizes[region_key(region)] = table.sizes.get(region_key(region), 0) + n
        table.sizes[COUNTRY] = table.sizes.get(COUNTRY, 0) + n
        if key not in offices.setdefault(region, []):
            offices[region].append(key)
    services: list[Key] = []
    for row in service_rows:
        n = int(row.get("responses") or 0)
        if n <= 0:
            continue
        key = service_key(row.get("service_code"))
        table.sizes[key] = table.sizes.get(key, 0) + n
        if key not in services:
            services.append(key)
    if offices:
        table.equations.append((COUNTRY, [region_key(region) for region in sorted(offices)]))
    for region in sorted(offices):
        table.equations.append((region_key(region), sorted(offices[region])))
    if services:
        table.equations.append((COUNTRY, sorted(services)))
    return table


def withheld(table: Table, min_cell: int, forced: Iterable[Key] = ()) -> frozenset[Key]:
    """The cells to withhold: the small ones, ``forced`` ones, and their complements."""
    sizes = table.sizes
    hidden = {key for key, n in sizes.items() if n < min_cell}
    hidden |= {key for key in forced if sizes.get(key, 0) > 0}
    while True:
        if _pair_lone_cells(table, hidden):
            continue
        exposed = determined(table, hidden)
        if not exposed:
            return frozenset(hidden)
        cell = min(exposed)
        around = [[p, *c] for p, c in table.equations if cell in (p, *c)]
        candidates = [k for members in around for k in members[1:] if k not in hidden]
        candidates = candidates or [k for members in around for k in members if k not in hidden]
        candidates = candidates or [k for k in sizes if k not in hidden]
        if not candidates:  # everything is withheld: nothing is left to give a cell away
            return frozenset(hidden)
        hidden.add(min(candidates, key=lambda k: (sizes[k], k)))


def _pair_lone_cells(table: Table, hidden: set[Key]) -> bool:
    """Give every equation with one withheld member a second one; True if anything changed."""
    changed = False
    for parent, children in table.equations:
        members = [k for k in (parent, *children) if table.sizes.get(k, 0) > 0]
        if sum(k in hidden for k in members) != 1:
            continue
        shown = [k for k in members[1:] if k not in hidden and k != parent]
        shown = shown or [k for k in members if k not in hidden]
        if shown:
            hidden.add(min(shown, key=lambda k: (table.sizes[k], k)))
            changed = True
    return changed


def determined(table: Table, hidden: set[Key] | frozenset[Key]) -> set[Key]:
    """The withheld cells that the published cells and the equations pin to one value.

    Each equation, with its published members moved to the constant side, is a row over the
    withheld cells; a cell is determined exactly when its unit vector lies in the rows' span,
    i.e. when the reduced row echelon form holds a row that is that unit vector.
    """
    unknown = sorted(k for k in hidden if table.sizes.get(k, 0) > 0)
    column = {key: index for index, key in enumerate(unknown)}
    rows: list[list[Fraction]] = []
    for parent, children in table.equations:
        row = [Fraction(0)] * len(unknown)
        for key, sign in ((parent, 1), *((child, -1) for child in children)):
            if key in column:
                row[column[key]] += sign
        if any(row):
            rows.append(row)
    reduced = _rref(rows, len(unknown))
    return {
        unknown[next(i for i, v in enumerate(row) if v)]
        for row in reduced
        if sum(1 for v in row if v) == 1
    }


def _rref(rows: list[list[Fraction]], width: int) -> list[list[Fraction]]:
    """The nonzero rows of the reduced row echelon form."""
    rows = [list(row) for row in rows]
    pivot_row = 0
    for col in range(width):
        found = next((r for r in range(pivot_row, len(rows)) if rows[r][col]), None)
        if found is None:
            continue
        rows[pivot_row], rows[found] = rows[found], rows[pivot_row]
        pivot = rows[pivot_row][col]
        rows[pivot_row] = [v / pivot for v in rows[pivot_row]]
        for r in range(len(rows)):
            if r != pivot_row and rows[r][col]:
                factor = rows[r][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[pivot_row], strict=True)]
        pivot_row += 1
    return [row for row in rows[:pivot_row] if any(row)]


def period_withheld(period: Table, months: Sequence[Table], min_cell: int) -> frozenset[Key]:
    """A quarter's or year's withheld cells: those of the period and of any of its months."""
    forced: set[Key] = set()
    for month in months:
        forced |= withheld(month, min_cell)
    return withheld(period, min_cell, forced)
