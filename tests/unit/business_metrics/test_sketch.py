"""The latency sketch answers quantiles within 1% of the exact ones, merges like one sketch fed everything, and
survives its JSON form."""

from __future__ import annotations

import numpy as np
import pytest

from mlsec.services.business_metrics.service.sketch import LatencySketch

QUANTILES = (0.0, 0.01, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0)


def _exact(values: np.ndarray, q: float) -> float:
    """The order statistic the sketch estimates (rank q * (n - 1), rounded down)."""
    return float(np.sort(values)[int(q * (len(values) - 1))])


@pytest.mark.parametrize(
    "draw",
    [
        lambda rng: rng.lognormal(mean=2.5, sigma=1.0, size=20_000),
        lambda rng: rng.exponential(scale=40.0, size=20_000) + 0.5,
        lambda rng: rng.uniform(0.01, 5_000.0, size=20_000),
    ],
    ids=["lognormal", "exponential", "uniform"],
)
def test_quantiles_within_one_percent_of_numpy(draw: object) -> None:
    rng = np.random.default_rng(7)
    values = draw(rng)  # type: ignore[operator]
    sketch = LatencySketch()
    sketch.add_all(float(v) for v in values)
    assert sketch.count == len(values)
    for q in QUANTILES:
        estimate = sketch.quantile(q)
        assert estimate is not None
        assert estimate == pytest.approx(_exact(values, q), rel=0.01), q


def test_merged_sketches_equal_one_sketch_of_everything() -> None:
    rng = np.random.default_rng(11)
    parts = [rng.lognormal(mean=m, sigma=0.7, size=3_000) for m in (1.0, 2.0, 4.0)]
    whole = LatencySketch()
    whole.add_all(float(v) for part in parts for v in part)
    pieces = []
    for part in parts:
        piece = LatencySketch()
        piece.add_all(float(v) for v in part)
        pieces.append(LatencySketch.from_json(piece.to_json()))  # merged as stored: through JSON
    merged = LatencySketch.merged(pieces)
    everything = np.concatenate(parts)
    assert merged.count == whole.count == len(everything)
    for q in QUANTILES:
        assert merged.quantile(q) == whole.quantile(q)
        assert merged.quantile(q) == pytest.approx(_exact(everything, q), rel=0.01)


def test_empty_zero_and_bad_quantile() -> None:
    sketch = LatencySketch()
    assert sketch.quantile(0.99) is None
    sketch.add(0.0)
    sketch.add(-3.0)
    sketch.add(10.0)
    assert sketch.quantile(0.0) == 0.0
    assert sketch.quantile(1.0) == pytest.approx(10.0, rel=0.01)
    with pytest.raises(ValueError, match="between 0 and 1"):
        sketch.quantile(1.5)


def test_a_sketch_stays_small() -> None:
    """A million-fold range of latencies needs under 700 counters (logarithmic buckets)."""
    sketch = LatencySketch()
    sketch.add_all(float(v) for v in np.geomspace(0.01, 10_000.0, 50_000))
    assert len(sketch.to_json()["bins"]) < 700
