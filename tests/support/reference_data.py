"""Reading tests/reference/ (the fixtures R and samplics wrote); no R needed."""

from __future__ import annotations

import csv
import json
import pathlib

REFERENCE = pathlib.Path(__file__).parents[1] / "reference"


def read_csv(name: str) -> list[dict[str, str]]:
    with open(REFERENCE / name, encoding="utf-8") as f:
        return list(csv.DictReader(f))


def read_json(name: str) -> dict:
    return json.loads((REFERENCE / name).read_text(encoding="utf-8"))
