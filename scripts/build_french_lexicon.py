"""Rebuild bot/sentiment/data/fr_lexicon.tsv from the vaderSentiment-fr package (MIT) on PyPI.

Run once by a developer, never at run time:

    pip download --no-deps --no-binary :all: -d /tmp/vfr vadersentiment-fr==1.3.4
    tar -xzf /tmp/vfr/vaderSentiment_fr-1.3.4.tar.gz -C /tmp/vfr
    python -m scripts.build_french_lexicon /tmp/vfr/vaderSentiment_fr-1.3.4/vaderSentiment_fr/fr_lexicon.txt

We keep the word entries (emoticons are handled by our own table), fold accents the way the scorer looks
words up, and average the rare entries that fold to the same key. Veille's hand-written corrections live in
fr_social.tsv, which the scorer applies on top, so this file stays a faithful copy of the upstream lexicon.
"""

from __future__ import annotations

import argparse
import re
from collections import defaultdict
from pathlib import Path

from bot.sentiment.text import fold

OUT = Path(__file__).resolve().parents[1] / "bot" / "sentiment" / "data" / "fr_lexicon.tsv"
HEADER = """\
# French sentiment lexicon from vaderSentiment-fr 1.3.4 (PyPI: vadersentiment-fr; github.com/thomas7lieues/vader_FR),
# by Olivier Deprez and Thomas Ek, a manual translation of the VADER lexicon. Licence: MIT, as the package declares
# and as its LICENSE.txt states: "Copyright (c) 2016 C.J. Hutto" (VADER's MIT licence, reproduced in LICENSES.md).
# Converted by scripts/build_french_lexicon.py: word entries only, accents folded, duplicates averaged.
# word<TAB>valence on VADER's -4..+4 scale.
"""
_WORDY = re.compile(r"^[^\W\d_]+(?:['\- ][^\W\d_]+)*$")


def convert(source: Path) -> dict[str, float]:
    values: dict[str, list[float]] = defaultdict(list)
    for line in source.read_text(encoding="utf-8").splitlines():
        term, sep, valence = line.rpartition("->")
        if not sep or not _WORDY.match(term.strip()):
            continue
        values[fold(term.strip())].append(float(valence))
    return {term: round(sum(v) / len(v), 2) for term, v in sorted(values.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="fr_lexicon.txt from the vaderSentiment-fr sdist")
    args = parser.parse_args()
    lexicon = convert(args.source)
    OUT.write_text(HEADER + "".join(f"{term}\t{valence:g}\n" for term, valence in lexicon.items()), encoding="utf-8")
    print(f"wrote {len(lexicon)} entries to {OUT}")


if __name__ == "__main__":
    main()
