"""The window's side of a live check: absent projection values are not missing ones; thin features wait."""

from __future__ import annotations

import math

import numpy as np

from mlsec.ml.drift import detect_drift
from mlsec.services.analytics.service.live import current_columns, thin_features


def _records() -> list[dict[str, object]]:
    """60 predictions; every third in the projection sample; `amount` missing (None) on ten."""
    records: list[dict[str, object]] = []
    for i in range(60):
        features: dict[str, object] = {"length": float(i), "score": 0.5, "amount": None if i < 10 else float(i)}
        if i % 3 == 0:
            features |= {"proj_0": i / 60, "proj_1": math.nan if i == 0 else -i / 60}
        records.append({"features": features})
    return records


def test_unsampled_predictions_are_left_out_of_projection_features_only() -> None:
    current = current_columns(_records(), ["length", "amount", "proj_0", "proj_1", "colour"])
    assert len(current["length"]) == len(current["amount"]) == len(current["colour"]) == 60
    assert current["amount"][:10] == [None] * 10 and current["colour"] == [None] * 60  # missing values
    assert len(current["proj_0"]) == len(current["proj_1"]) == 20  # the sample, nothing more
    assert math.isnan(current["proj_1"][0])  # a logged non-value stays, to be counted as missing


def test_features_with_fewer_values_than_min_rows_are_named_with_the_reason() -> None:
    current = current_columns(_records(), ["length", "amount", "proj_0", "proj_1", "colour"])
    skipped = thin_features(current, rows=60, min_values=20)
    assert set(skipped) == {"proj_1", "colour"}
    assert skipped["proj_1"] == (
        "19 of the window's 60 predictions have a value (projection sample); a feature needs at least "
        "min_rows (20) to be tested"
    )
    assert skipped["colour"].startswith("0 of the window's 60 predictions have a value; ")
    assert thin_features(current, rows=60, min_values=10) == {"colour": skipped["colour"].replace("(20)", "(10)")}


def test_the_detector_drops_what_is_absent_and_does_not_call_it_drift() -> None:
    rng = np.random.default_rng(0)
    reference = {"length": rng.normal(size=500), "proj_0": rng.normal(size=500)}
    records = [
        {"features": {"length": float(v), **({"proj_0": float(v)} if i % 4 == 0 else {})}}
        for i, v in enumerate(rng.normal(size=400))
    ]
    report = detect_drift(reference, current_columns(records, ["length", "proj_0"]))
    assert not report.drift_detected
    projected = report.feature("proj_0")
    assert (projected.current_rows, projected.current_missing) == (100, 0)
