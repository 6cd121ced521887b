"""How long the complementary suppression of a report takes: a month and a year (12 months).

Synthetic roll-ups: regions of a few offices each, a share of offices below the minimum cell
size each month, and the month's responses spread over the services.

    .venv/bin/python -m bench.suppression_bench [--offices-per-region 3] [--services 60]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from typing import Any

from admin.figures.suppression import period_withheld, table_of, withheld


def month(rng: random.Random, regions: int, per: int, services: int, small: float) -> tuple:
    """One month's responses by office and by service."""
    offices = []
    for r in range(regions):
        for o in range(per):
            n = rng.randrange(1, 10) if rng.random() < small else rng.randrange(10, 400)
            offices.append({"region_code": f"r{r}", "office_code": f"r{r}o{o}", "responses": n})
    total = sum(o["responses"] for o in offices)
    cuts = sorted(rng.randrange(total) for _ in range(services - 1))
    parts = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
    return offices, [{"service_code": f"s{i}", "responses": n} for i, n in enumerate(parts)]


def summed(months: list[list[dict[str, Any]]], key: tuple[str, ...]) -> list[dict[str, Any]]:
    """The months' rows summed by ``key``."""
    totals: dict[tuple[Any, ...], int] = {}
    for rows in months:
        for row in rows:
            group = tuple(row[name] for name in key)
            totals[group] = totals.get(group, 0) + row["responses"]
    return [{**dict(zip(key, group, strict=True)), "responses": n} for group, n in totals.items()]


def main(regions: int, per: int, services: int, small: float, repeat: int) -> None:
    """Print the median time of a month's and a year's suppression."""
    rng = random.Random(1)
    months = [month(rng, regions, per, services, small) for _ in range(12)]
    tables = [table_of(*m) for m in months]
    period = table_of(
        summed([m[0] for m in months], ("region_code", "office_code")),
        summed([m[1] for m in months], ("service_code",)),
    )
    for name, run in (
        ("month", lambda: withheld(tables[0], 10)),
        ("year", lambda: period_withheld(period, tables, 10)),
    ):
        samples, hidden = [], 0
        for _ in range(repeat):
            start = time.perf_counter()
            hidden = len(run())
            samples.append(time.perf_counter() - start)
        cells = len((period if name == "year" else tables[0]).sizes)
        print(
            f"{name}: median {statistics.median(samples) * 1000:.0f} ms, "
            f"{hidden} of {cells} cells withheld"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", type=int, default=17)
    parser.add_argument("--offices-per-region", type=int, default=3)
    parser.add_argument("--services", type=int, default=60)
    parser.add_argument("--small", type=float, default=0.3, help="share of small offices")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    main(args.regions, args.offices_per_region, args.services, args.small, args.repeat)
