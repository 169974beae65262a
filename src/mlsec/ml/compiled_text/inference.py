"""The compiled objects callers use: a text classifier's probabilities and labels, a linear projection.

Both sum the margins of the same TF-IDF blocks over a batch of texts, in chunks of a few dozen texts so
that the n-gram arrays stay in cache and memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mlsec.ml.compiled_text.blocks import _Block
from mlsec.ml.compiled_text.calibration import _Calibration
from mlsec.ml.text_model import as_text

# Texts per vectorised pass of a large batch.
_CHUNK = 64


class CompiledTextClassifier:
    """`predict_proba` and `predict` of a fitted text pipeline, for a sequence of texts."""

    def __init__(
        self,
        blocks: list[_Block],
        calibration: _Calibration,
        classes: np.ndarray[Any, Any],
        threshold: float | None,
    ):
        self._blocks = blocks
        self._calibration = calibration
        self.classes_ = classes
        self.threshold = threshold

    def predict_proba(self, texts: Sequence[Any]) -> np.ndarray[Any, Any]:
        documents = [as_text(text) for text in texts]
        if len(documents) <= _CHUNK:
            return self._proba(documents)
        # In chunks: the n-gram arrays of a chunk stay in cache and memory stays bounded by the chunk.
        return np.concatenate([self._proba(documents[i : i + _CHUNK]) for i in range(0, len(documents), _CHUNK)])

    def _proba(self, documents: list[str]) -> np.ndarray[Any, Any]:
        margins = self._blocks[0].margins(documents)
        for block in self._blocks[1:]:
            margins += block.margins(documents)
        return self._calibration.positive_proba(margins)

    def labels(self, proba: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        """The labels `predict` gives for these probabilities: the threshold if one is baked in, else argmax."""
        if self.threshold is not None:
            chosen: np.ndarray[Any, Any] = self.classes_[(proba[:, 1] >= self.threshold).astype(int)]
            return chosen
        argmax: np.ndarray[Any, Any] = self.classes_[np.argmax(proba, axis=1)]
        return argmax

    def predict(self, texts: Sequence[Any]) -> np.ndarray[Any, Any]:
        return self.labels(self.predict_proba(texts))


class CompiledLinearFeatures:
    """`features.transform(texts) @ weights` for a fitted feature union, without building the TF-IDF matrix:
    the same blocks as the classifier's, with `weights` (n_features, k) in place of its coefficients."""

    def __init__(self, blocks: list[_Block]):
        self._blocks = blocks

    def transform(self, texts: Sequence[Any]) -> np.ndarray[Any, Any]:
        """(len(texts), k) values, in chunks of a few dozen texts like `predict_proba`."""
        documents = [as_text(text) for text in texts]
        width = self._blocks[0].weights.shape[1]
        if not documents:
            return np.zeros((0, width), dtype=np.float64)
        parts = []
        for start in range(0, len(documents), _CHUNK):
            chunk = documents[start : start + _CHUNK]
            values = self._blocks[0].margins(chunk)
            for block in self._blocks[1:]:
                values += block.margins(chunk)
            parts.append(values)
        return np.concatenate(parts)
