"""A compiled inference path for fitted text pipelines: scikit-learn's probabilities, vectorised.

Why: scikit-learn's TF-IDF `transform` walks every character n-gram of every text in a Python loop (about
1 ms per 1,000-character text for the default model) and its calibrated ensemble re-validates its input
in every one of its estimators (about 5 ms per call, whatever the batch size). A model server pays both
on every request. Here the same fitted pipeline is turned into array operations: every vocabulary term
gets an exact integer code (its characters, or its tokens, as digits of a positional number), the n-grams
of a batch of texts are coded the same way with NumPy in one pass per n-gram length and looked up in a
hash table, and the TF-IDF weighting, normalisation, linear margins and sigmoid calibration are applied
to the resulting sparse matrix exactly as scikit-learn does.

The result is the pipeline's own answer, not an approximation: codes are exact (no hashing collisions),
and `compile_text_classifier` refuses (NotCompilableError, with the reason) any pipeline shape it does not
reproduce exactly, and checks its own output against the pipeline on a set of probe texts before it is
used. Callers keep the pipeline as the fallback.

Supported: [TextColumnSelector] -> FeatureUnion of TfidfVectorizer (analyzer "word" with the default
token pattern, or "char_wb"; any n-gram range, lowercase, accent stripping, sublinear tf, idf, l1/l2
norm, binary) -> CalibratedClassifierCV (sigmoid, binary, linear estimators), optionally wrapped in
FixedThresholdClassifier(FrozenEstimator(...)). That is every text model `mlsec.ml.training` produces.
`compile_linear_features` compiles the feature union alone times any weights: a projection of the model's
features (mlsec.ml.projection) then costs what a prediction does, not a scikit-learn `transform`.

One module per job: `term_table` (exact n-gram codes), `blocks` (one vectoriser), `calibration`,
`inference` (the compiled objects), `pipeline_parts` (reading a fitted pipeline), `compiler` (compiling
and checking), `probes` and `errors`.
"""

from __future__ import annotations

from mlsec.ml.compiled_text.compiler import compile_linear_features, compile_text_classifier
from mlsec.ml.compiled_text.errors import NotCompilableError
from mlsec.ml.compiled_text.inference import CompiledLinearFeatures, CompiledTextClassifier
from mlsec.ml.compiled_text.probes import PROBE_TEXTS

__all__ = [
    "PROBE_TEXTS",
    "CompiledLinearFeatures",
    "CompiledTextClassifier",
    "NotCompilableError",
    "compile_linear_features",
    "compile_text_classifier",
]
