"""A fitted scikit-learn text pipeline taken apart into what the compiled path needs.

The threshold wrapper, the sigmoid-calibrated linear classifier and the TF-IDF feature union are read
here, and any shape the compiled path does not reproduce exactly is refused with NotCompilableError.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlsec.ml.compiled_text.blocks import _Block, _CharBlock, _WordBlock
from mlsec.ml.compiled_text.calibration import _Calibration
from mlsec.ml.compiled_text.errors import NotCompilableError

# Token pattern of CountVectorizer's default word analyzer; tokens then never contain a space, so an
# n-gram term splits back into its tokens unambiguously.
_DEFAULT_TOKEN_PATTERN = r"(?u)\b\w\w+\b"  # noqa: S105 (a regex, not a secret)


def _unwrap(model: Any) -> tuple[Any, float | None, np.ndarray[Any, Any]]:
    from sklearn.frozen import FrozenEstimator
    from sklearn.model_selection import FixedThresholdClassifier
    from sklearn.pipeline import Pipeline

    threshold: float | None = None
    if isinstance(model, FixedThresholdClassifier):
        if model.pos_label is not None or model.response_method != "predict_proba":
            raise NotCompilableError("threshold wrapper with a pos_label or a response method other than predict_proba")
        if not isinstance(model.threshold, int | float):
            raise NotCompilableError(f"threshold {model.threshold!r} is not a number")
        threshold = float(model.threshold)
        inner = model.estimator
        model = inner.estimator if isinstance(inner, FrozenEstimator) else inner
    if not isinstance(model, Pipeline):
        raise NotCompilableError(f"{type(model).__name__} is not a scikit-learn Pipeline")
    classes = np.asarray(model.classes_)
    if classes.shape != (2,):
        raise NotCompilableError(f"{classes.shape[0]} classes; only binary classifiers are compiled")
    return model, threshold, classes


def _calibrated_linear(classifier: Any) -> tuple[np.ndarray[Any, Any], _Calibration]:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model._base import LinearClassifierMixin

    if not isinstance(classifier, CalibratedClassifierCV) or classifier.method != "sigmoid":
        raise NotCompilableError("the classifier is not a sigmoid-calibrated CalibratedClassifierCV")
    coefficients, intercepts, slopes, offsets = [], [], [], []
    for member in classifier.calibrated_classifiers_:
        estimator = member.estimator
        if not isinstance(estimator, LinearClassifierMixin) or np.shape(estimator.coef_)[0] != 1:
            raise NotCompilableError(f"calibrated estimator {type(estimator).__name__} is not a binary linear model")
        if len(member.calibrators) != 1:
            raise NotCompilableError("expected one sigmoid per calibrated estimator")
        calibrator = member.calibrators[0]
        coefficients.append(np.asarray(estimator.coef_, dtype=np.float64)[0])
        intercepts.append(float(np.asarray(estimator.intercept_).ravel()[0]))
        slopes.append(float(calibrator.a_))
        offsets.append(float(calibrator.b_))
    if not coefficients:
        raise NotCompilableError("the calibrated classifier has no estimators")
    weights = np.stack(coefficients, axis=1)
    calibration = _Calibration(np.asarray(intercepts), np.asarray(slopes), np.asarray(offsets))
    return weights, calibration


def _blocks(features: Any, weights: np.ndarray[Any, Any]) -> list[_Block]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    if not isinstance(features, FeatureUnion) or features.transformer_weights:
        raise NotCompilableError("the features are not an unweighted FeatureUnion")
    blocks: list[_Block] = []
    start = 0
    for name, vectorizer in features.transformer_list:
        if not isinstance(vectorizer, TfidfVectorizer):
            raise NotCompilableError(f"feature {name!r} is not a TfidfVectorizer")
        if vectorizer.input != "content" or vectorizer.norm not in (None, "l1", "l2"):
            raise NotCompilableError(f"feature {name!r} reads files or uses norm {vectorizer.norm!r}")
        if vectorizer.preprocessor is not None or vectorizer.tokenizer is not None:
            raise NotCompilableError(f"feature {name!r} has a custom preprocessor or tokenizer")
        width = len(vectorizer.vocabulary_)
        part = weights[start : start + width]
        if vectorizer.analyzer == "char_wb":
            blocks.append(_CharBlock(vectorizer, part))
        elif vectorizer.analyzer == "word" and vectorizer.token_pattern == _DEFAULT_TOKEN_PATTERN:
            blocks.append(_WordBlock(vectorizer, part))
        else:
            raise NotCompilableError(f"feature {name!r}: analyzer {vectorizer.analyzer!r} is not compiled")
        start += width
    if start != weights.shape[0] or not blocks:
        raise NotCompilableError(f"the features have {start} columns, the classifier {weights.shape[0]}")
    return blocks
