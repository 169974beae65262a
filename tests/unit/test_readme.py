"""The README's figures are the recorded ones, rounded as written: a re-recorded benchmark that changes them
fails here until the README says the new figures."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
QUALITY = re.compile(
    r"precision (?P<precision>[\d.]+), recall\s+(?P<recall>[\d.]+), F1 (?P<f1>[\d.]+), ROC-AUC (?P<roc_auc>[\d.]+)"
    r" \(`(?P<record>benchmarks/results/[\w.-]+)\.md`\)"
)


def test_the_default_models_held_out_quality_is_the_recorded_one() -> None:
    found = QUALITY.search((ROOT / "README.md").read_text())
    assert found is not None, "the README states the default model's held-out quality"
    record = json.loads((ROOT / f"{found['record']}.json").read_text())
    ours = next(c for c in record["classifiers"] if c["name"] == "mlsec security-classifier")["metrics"]
    for metric in ("precision", "recall", "f1", "roc_auc"):
        written = found[metric]
        assert written == f"{ours[metric]:.{len(written.split('.')[1])}f}", (metric, written, ours[metric])
