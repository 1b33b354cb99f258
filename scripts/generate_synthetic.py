"""Write N seeded synthetic profiles as JSONL, for scale benchmarks only.

Example: python scripts/generate_synthetic.py 100000 --seed 7 -o /tmp/syn-100k.jsonl
"""

from __future__ import annotations

import json
import sys

import click

from matcher.geo import load_gazetteer
from matcher.synthetic import generate_profiles


@click.command()
@click.argument("count", type=click.IntRange(1, 10_000_000))
@click.option("--seed", default=42, show_default=True, help="Random seed.")
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-",
              help="Output file (default: stdout).")
def main(count: int, seed: int, output) -> None:
    """Generate COUNT synthetic profiles (JSONL)."""
    gaz = load_gazetteer()
    with click.progressbar(generate_profiles(count, gaz, seed), length=count,
                           label="Erzeuge Profile", file=sys.stderr) as records:
        for rec in records:
            output.write(json.dumps(rec, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
