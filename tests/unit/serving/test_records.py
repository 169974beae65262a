"""Prediction-log records: what the writer adds off the request path, the projection sample included."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from mlsec.ml.profile import TEXT_FEATURES
from mlsec.ml.projection import Projection, TextProjector, fit_projection
from mlsec.ml.text_model import TextModelParams, build_text_classifier
from mlsec.ml.threshold import with_threshold
from mlsec.serving.model import LoadedModel
from mlsec.serving.records import completer, queued_records, sampled
from tests.unit.ml.synthetic import prompt_frame

PROJECTED = {"proj_0", "proj_1", "proj_2", "proj_3"}


@pytest.fixture(scope="module")
def served() -> LoadedModel:
    """A text model as serving holds it, with the projector of its training features."""
    frame = prompt_frame(160, seed=8)
    pipeline = build_text_classifier(TextModelParams(max_word_features=300, max_char_features=1000))
    pipeline.fit(frame[["text"]], frame["label"])
    model = with_threshold(pipeline, 0.5, frame[["text"]].head(5))
    projection = fit_projection(pipeline.named_steps["features"].transform(frame["text"].to_numpy(dtype=object)))
    assert projection is not None
    return _loaded(model, TextProjector.for_model(model, projection))


def _loaded(model: Any, projector: TextProjector | None) -> LoadedModel:
    return LoadedModel(
        name="detector",
        version="1",
        run_id="run",
        task="text_classification",
        threshold=0.5,
        classes=["0", "1"],
        source="models:/detector/1",
        size_bytes=1,
        load_seconds=0.0,
        loaded_at=datetime.now(UTC),
        input_columns=["text"],
        model=model,
        projector=projector,
    )


def _queued(model: LoadedModel, texts: list[str]) -> list[dict[str, Any]]:
    predictions = model.predict_texts(texts)
    return queued_records(
        model, texts, predictions, latency_ms=1.0, request_id=None, source="test", traffic_class="production"
    )


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


TEXTS = [f"Please explain topic number {i} to me" for i in range(200)]


def test_only_the_sampled_texts_get_the_projection(served: LoadedModel) -> None:
    assert served.projector is not None
    rows = completer(store_text=False, projection_fraction=0.3)(_queued(served, TEXTS))
    chosen = [sampled(_sha(text), 0.3) for text in TEXTS]
    assert 30 < sum(chosen) < 90  # about 60 of 200
    for text, row, is_sampled in zip(TEXTS, rows, chosen, strict=True):
        assert row["input_sha256"] == _sha(text) and row["text"] is None
        assert {*TEXT_FEATURES, "score"} <= set(row["features"])
        assert (set(row["features"]) >= PROJECTED) is is_sampled
        assert is_sampled or not PROJECTED & set(row["features"])
        assert "projector" not in row and "input" not in row
    expected = served.projector.project([text for text, is_sampled in zip(TEXTS, chosen, strict=True) if is_sampled])
    values = np.array(
        [[row["features"][name] for name in sorted(PROJECTED)] for row in rows if "proj_0" in row["features"]]
    )
    np.testing.assert_allclose(values, np.column_stack([expected[name] for name in sorted(PROJECTED)]), atol=1e-12)
    again = completer(store_text=False, projection_fraction=0.3)(_queued(served, TEXTS))
    assert [row["features"] for row in again] == [row["features"] for row in rows]  # the sample is per text


def test_the_fraction_bounds_the_sample(served: LoadedModel) -> None:
    for fraction, expected in ((0.0, 0), (1.0, len(TEXTS))):
        rows = completer(store_text=True, projection_fraction=fraction)(_queued(served, TEXTS))
        assert sum(set(row["features"]) >= PROJECTED for row in rows) == expected
        assert [row["text"] for row in rows] == TEXTS
    assert not sampled("0" * 64, 0.0) and sampled("0" * 64, 0.01) and sampled("f" * 64, 1.0)
    assert not sampled("f" * 64, 0.999)


def test_models_without_a_projector_and_records_log_no_projection(served: LoadedModel) -> None:
    plain = _loaded(served.model, None)
    rows = completer(store_text=False, projection_fraction=1.0)(_queued(plain, TEXTS[:20]))
    assert all(not PROJECTED & set(row["features"]) for row in rows)
    record = {"created_at": datetime.now(UTC), "score": None, "input": {"x1": 1.5, "colour": "red"}, "projector": None}
    (row,) = completer(store_text=False, projection_fraction=1.0)([record])
    assert row["features"] == {"x1": 1.5, "colour": "red"}


def test_a_failing_projection_costs_its_values_not_the_batch(
    served: LoadedModel, caplog: pytest.LogCaptureFixture
) -> None:
    assert served.projector is not None
    broken = _loaded(served.model, TextProjector(served.projector.features, Projection(np.ones((2, 3)))))
    mixed = _queued(broken, TEXTS[:10]) + _queued(served, TEXTS[10:20])
    with caplog.at_level(logging.WARNING, logger="mlsec.serving.records"):
        rows = completer(store_text=False, projection_fraction=1.0)(mixed)
    assert len(rows) == 20
    assert [set(row["features"]) >= PROJECTED for row in rows] == [False] * 10 + [True] * 10
    assert [r.message for r in caplog.records] == ["prediction_log.projection_failed"]
