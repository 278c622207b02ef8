"""Shipped sentiment resources (lexicons, phrase tables, emoji valences, trained models) read from package data.

Every file lives in `bot/sentiment/data/` and installs with the project; nothing is downloaded at run time.
Loaders are cached: the files are read once per process, however many scorers are built.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


def read_text(name: str) -> str:
    return resources.files("bot.sentiment").joinpath("data", name).read_text(encoding="utf-8")


@cache
def load_tsv(name: str) -> dict[str, float]:
    """Read a `term<TAB>valence` file; '#' lines are comments. Later lines win."""
    table: dict[str, float] = {}
    for line in read_text(name).splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        term, _, value = line.rpartition("\t")
        table[term.strip()] = float(value)
    return table


@cache
def load_json(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(read_text(name))
    return data
