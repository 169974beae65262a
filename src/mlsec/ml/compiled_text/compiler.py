"""Compiling a fitted text pipeline, or its feature union alone, and checking the result against it.

The compiled answer is used only after it matched scikit-learn's on the probe texts (to 1e-9, and the
same labels); otherwise NotCompilableError says by how much, and callers keep the pipeline.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from mlsec.ml.compiled_text.errors import NotCompilableError
from mlsec.ml.compiled_text.inference import CompiledLinearFeatures, CompiledTextClassifier
from mlsec.ml.compiled_text.pipeline_parts import _blocks, _calibrated_linear, _unwrap
from mlsec.ml.compiled_text.probes import PROBE_TEXTS
from mlsec.ml.text_model import TextColumnSelector

_TOLERANCE = 1e-9


def compile_linear_features(
    features: Any, weights: np.ndarray[Any, Any], probes: Iterable[str] = ()
) -> CompiledLinearFeatures:
    """The compiled equivalent of `features.transform(texts) @ weights` (a projection of the model's
    features, say), checked against scikit-learn on PROBE_TEXTS and `probes` to 1e-9; NotCompilableError
    naming the reason otherwise. `features` is the fitted FeatureUnion of a text pipeline."""
    matrix = np.asarray(weights, dtype=np.float64)
    if matrix.ndim != 2:
        raise NotCompilableError(f"weights of shape {matrix.shape}; expected (n_features, k)")
    compiled = CompiledLinearFeatures(_blocks(features, matrix))
    texts = [*PROBE_TEXTS, *probes]
    expected = np.asarray(features.transform(np.asarray(texts, dtype=object)) @ matrix, dtype=np.float64)
    difference = float(np.max(np.abs(expected - compiled.transform(texts))))
    if not difference <= _TOLERANCE:
        raise NotCompilableError(f"compiled values differ from scikit-learn's by {difference:.3g}")
    return compiled


def compile_text_classifier(model: Any, probes: Iterable[str] = ()) -> CompiledTextClassifier:
    """The compiled equivalent of `model`, checked against it on PROBE_TEXTS and `probes`.

    Raises NotCompilableError naming the reason when the model's shape is not supported or when the
    compiled answers differ from the model's (labels, or probabilities by more than 1e-9).
    """
    pipeline, threshold, classes = _unwrap(model)
    steps = [step for _, step in pipeline.steps]
    if steps and isinstance(steps[0], TextColumnSelector):
        steps = steps[1:]
    if len(steps) != 2:
        raise NotCompilableError("expected a feature union and a classifier after the text column")
    features, classifier = steps
    weights, calibration = _calibrated_linear(classifier)
    blocks = _blocks(features, weights)
    compiled = CompiledTextClassifier(blocks, calibration, classes, threshold)
    _verify(model, compiled, [*PROBE_TEXTS, *probes])
    return compiled


def _verify(model: Any, compiled: CompiledTextClassifier, probes: list[str]) -> None:
    frame = pd.DataFrame({"text": probes}, dtype=object)
    expected = np.asarray(model.predict_proba(frame), dtype=np.float64)
    actual = compiled.predict_proba(probes)
    difference = float(np.max(np.abs(expected - actual)))
    if not difference <= _TOLERANCE:
        raise NotCompilableError(f"compiled probabilities differ from the model's by {difference:.3g}")
    if not np.array_equal(np.asarray(model.predict(frame)), compiled.labels(actual)):
        raise NotCompilableError("compiled labels differ from the model's")
