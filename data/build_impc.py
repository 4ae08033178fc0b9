"""Build the processed IMPC hematology table shipped with causalminimax.

Reads ``../shared/data/impc/mouse.csv`` (relative to the repository root), keeps the six
hematology variables of the paper's real-data experiment, renames them to the graph's node
names (Y, X1..X5), labels the genotype environment ``E`` and writes
``causalminimax/datasets/data/impc_hematology.csv``. See ``data/impc.md``.

Usage: ``python data/build_impc.py [path/to/mouse.csv] [output.csv]``
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared" / "data" / "impc" / "mouse.csv"
TARGET = ROOT / "causalminimax" / "datasets" / "data" / "impc_hematology.csv"

RENAME = {
    "IMPC_HEM_034_001": "Y",
    "IMPC_HEM_030_001": "X1",
    "IMPC_HEM_032_001": "X2",
    "IMPC_HEM_036_001": "X3",
    "IMPC_HEM_037_001": "X4",
    "IMPC_HEM_039_001": "X5",
}


def build(source: Path = SOURCE) -> pd.DataFrame:
    """Return the processed table (one row per mouse, sorted by genotype then id)."""
    raw = pd.read_csv(source, dtype={"geno": str, "id": str})
    out = raw[["id", "geno", *RENAME]].rename(columns={"geno": "E", **RENAME})
    if out.isna().any().any():
        raise ValueError("mouse.csv has missing values in the used columns; inspect the source.")
    out["_wt"] = out["E"] != "0"
    out = out.sort_values(["_wt", "E", "id"], kind="mergesort").drop(columns="_wt")
    return out[["id", "E", "Y", "X1", "X2", "X3", "X4", "X5"]].reset_index(drop=True)


def main(argv: list[str]) -> None:
    source = Path(argv[1]) if len(argv) > 1 else SOURCE
    target = Path(argv[2]) if len(argv) > 2 else TARGET
    table = build(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(target, index=False, float_format="%.6g")
    print(f"wrote {len(table)} rows to {target}")


if __name__ == "__main__":
    main(sys.argv)
