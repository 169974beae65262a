"""The default prompt-injection classifier: word and character TF-IDF into a calibrated linear SVM.

Why this model: injections are recognised by phrases ("ignore previous instructions") and by odd spelling,
obfuscation and markup, which word n-grams and character n-grams catch respectively; a linear SVM over
sparse TF-IDF trains in seconds on a few thousand prompts and predicts in microseconds; calibration turns
its margins into probabilities, so a decision threshold and drift monitoring on scores mean something.
Everything in the pipeline is a standard scikit-learn class except `TextColumnSelector` and
`CompactTfidfVectorizer` (a TfidfVectorizer that saves small), both listed in SKOPS_TRUSTED_TYPES, so
the fitted model loads safely with skops.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from mlsec.ml.params import parse_params

# Every type that skops does not trust by default and that the pipelines of mlsec.ml contain (text and
# tabular): our own classes, then the scikit-learn and numpy internals skops leaves off its default list.
# mlflow loads a skops model with exactly the allow-list given at logging time, so it must be complete;
# tests/unit/ml check that for every model kind we train.
SKOPS_TRUSTED_TYPES: list[str] = [
    "mlsec.ml.text_model.TextColumnSelector",
    "mlsec.ml.text_model.CompactTfidfVectorizer",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.tree._tree.Tree",
    "numpy.dtype",
]


class TextColumnSelector(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """First pipeline step: pyfunc hands the model a DataFrame; select the text column (or accept a
    Series/list/ndarray of str) and return a 1-D numpy array of str.

    The result has object dtype: a fixed-width numpy unicode array would cost 4 bytes times the longest
    text for every row. Missing values become "" so that one null in a request cannot fail a batch.
    """

    def __init__(self, column: str = "text"):
        self.column = column

    def fit(self, x: Any, y: Any = None) -> TextColumnSelector:
        return self

    def transform(self, x: Any) -> np.ndarray[Any, np.dtype[np.object_]]:
        if isinstance(x, pd.DataFrame):
            if self.column in x.columns:
                values: Any = x[self.column]
            elif x.shape[1] == 1:
                values = x.iloc[:, 0]
            else:
                raise ValueError(f"input has no column {self.column!r}; columns: {list(map(str, x.columns))}")
        elif isinstance(x, str):
            values = [x]
        else:
            values = x
        array = np.asarray(values, dtype=object)
        if array.ndim == 2 and array.shape[1] == 1:
            array = array[:, 0]
        if array.ndim != 1:
            raise ValueError(f"expected one column of texts, got an array of shape {array.shape}")
        return np.array([as_text(value) for value in array], dtype=object)


def as_text(value: Any) -> str:
    """A model input as the text the pipeline sees: missing values are "", bytes are decoded as UTF-8."""
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


class CompactTfidfVectorizer(TfidfVectorizer):  # type: ignore[misc]
    """TfidfVectorizer whose saved state holds the vocabulary as three arrays instead of a dict.

    skops writes a dict entry by entry into its JSON schema (several hundred bytes per term), so a
    150,000-term vocabulary made a 127 MB model file that took seconds to write and to read; as arrays
    (UTF-8 bytes of all terms, their end offsets, their column indices) it takes a few MB. Behaviour is
    TfidfVectorizer's in every other respect; pickle gets the same compact state.
    """

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        vocabulary = state.pop("vocabulary_", None)
        if isinstance(vocabulary, dict):
            encoded = [term.encode("utf-8", errors="surrogatepass") for term in vocabulary]
            state["vocabulary_bytes_"] = np.frombuffer(b"".join(encoded), dtype=np.uint8).copy()
            state["vocabulary_ends_"] = np.cumsum([len(term) for term in encoded], dtype=np.int64)
            state["vocabulary_indices_"] = np.fromiter(vocabulary.values(), dtype=np.int64, count=len(vocabulary))
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        blob = state.pop("vocabulary_bytes_", None)
        ends = state.pop("vocabulary_ends_", None)
        indices = state.pop("vocabulary_indices_", None)
        if blob is not None and ends is not None and indices is not None:
            data = np.asarray(blob, dtype=np.uint8).tobytes()
            stops = [int(end) for end in ends]
            starts = [0, *stops[:-1]]
            state["vocabulary_"] = {
                data[start:stop].decode("utf-8", errors="surrogatepass"): int(index)
                for start, stop, index in zip(starts, stops, indices, strict=True)
            }
        super().__setstate__(state)


@dataclass(frozen=True)
class TextModelParams:
    """Hyper-parameters of `build_text_classifier`; the defaults are the shipped model's."""

    word_ngram_max: int = 2
    char_ngram_min: int = 2
    char_ngram_max: int = 5
    max_word_features: int = 50_000
    max_char_features: int = 100_000
    min_df: int = 1
    c: float = 1.0  # inverse regularisation of the linear model
    class_weight: str | None = "balanced"
    calibration: Literal["sigmoid", "isotonic"] = "sigmoid"
    calibration_folds: int = 3
    seed: int = 42

    def __post_init__(self) -> None:
        problems: list[str] = []
        if self.word_ngram_max < 1:
            problems.append("word_ngram_max must be at least 1")
        if self.char_ngram_min < 1:
            problems.append("char_ngram_min must be at least 1")
        if self.char_ngram_max < self.char_ngram_min:
            problems.append("char_ngram_max must be at least char_ngram_min")
        if self.max_word_features < 1 or self.max_char_features < 1:
            problems.append("max_word_features and max_char_features must be at least 1")
        if self.min_df < 1:
            problems.append("min_df must be at least 1")
        if not self.c > 0:
            problems.append("c must be positive")
        if self.class_weight not in (None, "balanced"):
            problems.append("class_weight must be 'balanced' or null")
        if self.calibration not in ("sigmoid", "isotonic"):
            problems.append("calibration must be 'sigmoid' or 'isotonic'")
        if self.calibration_folds < 2:
            problems.append("calibration_folds must be at least 2")
        if self.seed < 0:
            problems.append("seed must not be negative")
        if problems:
            raise ValueError("; ".join(problems))

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> TextModelParams:
        """Parse user-supplied parameters; unknown keys and wrong types raise ValueError naming them."""
        return parse_params(cls, values)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def build_text_classifier(params: TextModelParams) -> Pipeline:
    """The unfitted pipeline: DataFrame with a "text" column in, calibrated P(class) out.

    Deterministic for a given seed: the vectorisers have no randomness, LinearSVC is seeded and the
    calibration folds are unshuffled stratified folds.
    """
    features = FeatureUnion(
        [
            (
                "word",
                CompactTfidfVectorizer(
                    analyzer="word",
                    ngram_range=(1, params.word_ngram_max),
                    sublinear_tf=True,
                    min_df=params.min_df,
                    max_features=params.max_word_features,
                    dtype=np.float64,
                ),
            ),
            (
                "char",
                CompactTfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(params.char_ngram_min, params.char_ngram_max),
                    sublinear_tf=True,
                    min_df=params.min_df,
                    max_features=params.max_char_features,
                    dtype=np.float64,
                ),
            ),
        ]
    )
    svm = LinearSVC(C=params.c, class_weight=params.class_weight, random_state=params.seed)
    classifier = CalibratedClassifierCV(svm, method=params.calibration, cv=params.calibration_folds)
    return Pipeline([("select", TextColumnSelector("text")), ("features", features), ("classifier", classifier)])
