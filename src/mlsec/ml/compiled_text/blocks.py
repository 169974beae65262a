"""One fitted TfidfVectorizer as array operations: texts -> TF-IDF rows -> their part of the linear margins.

The TF-IDF weighting and normalisation are applied to the sparse entries exactly as scikit-learn does;
the subclasses say how texts become symbols for the two analyzers supported, "char_wb" and "word".
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from mlsec.ml.compiled_text.errors import NotCompilableError
from mlsec.ml.compiled_text.term_table import _positional_code, _term_table, _TermTable

# Integer codes are int64: the largest code of an n-gram is base ** n - 1.
_MAX_CODE = 2**63 - 1


class _Block(ABC):
    """One TfidfVectorizer of the feature union: texts -> TF-IDF rows -> their part of the linear margins.

    Subclasses say how texts become symbols (`units`) and build `table`, the codes of their vocabulary."""

    table: _TermTable

    def __init__(self, vectorizer: Any, weights: np.ndarray[Any, Any]):
        self.n_features = len(vectorizer.vocabulary_)
        self.min_n, self.max_n = (int(n) for n in vectorizer.ngram_range)
        self.preprocess: Callable[[str], str] = vectorizer.build_preprocessor()
        self.binary = bool(vectorizer.binary)
        self.sublinear_tf = bool(vectorizer.sublinear_tf)
        self.idf = np.asarray(vectorizer.idf_, dtype=np.float64) if vectorizer.use_idf else None
        self.norm = vectorizer.norm
        self.weights = np.ascontiguousarray(weights, dtype=np.float64)  # (n_features, n_estimators)

    @abstractmethod
    def units(self, texts: Sequence[str]) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """The batch as one array of symbol codes and the start offset of each text in it."""

    def extra_terms(self, texts: Sequence[str]) -> tuple[list[int], list[int]]:
        """(row, column) of terms the windows cannot see; none unless a subclass says so."""
        return [], []

    def margins(self, texts: Sequence[str]) -> np.ndarray[Any, Any]:
        """(n_texts, n_estimators): each text's TF-IDF row times this block's part of the coefficients."""
        units, offsets = self.units(texts)
        starts, columns = self.table.lookup(units, self.min_n, self.max_n)
        rows = np.searchsorted(offsets, starts, side="right") - 1
        extra_rows, extra_columns = self.extra_terms(texts)
        if extra_rows:
            rows = np.concatenate((rows, np.asarray(extra_rows, dtype=np.int64)))
            columns = np.concatenate((columns, np.asarray(extra_columns, dtype=np.int64)))
        # Count each (text, term) pair: sorted keys, so each row's terms come in column order, as in
        # the CSR matrix sklearn builds (sums then add up in the same order).
        keys = np.sort(rows * self.n_features + columns)
        boundaries = np.flatnonzero(np.diff(keys)) + 1
        first = np.concatenate(([0], boundaries)) if len(keys) else boundaries
        counts = np.diff(np.concatenate((first, [len(keys)]))).astype(np.float64)
        rows, columns = np.divmod(keys[first], self.n_features)
        values = self._weighted(rows, columns, counts, len(texts))
        margins = np.empty((len(texts), self.weights.shape[1]), dtype=np.float64)
        for k in range(self.weights.shape[1]):
            margins[:, k] = np.bincount(rows, weights=values * self.weights[columns, k], minlength=len(texts))
        return margins

    def _weighted(
        self,
        rows: np.ndarray[Any, Any],
        columns: np.ndarray[Any, Any],
        counts: np.ndarray[Any, Any],
        n_rows: int,
    ) -> np.ndarray[Any, Any]:
        """TfidfTransformer.transform then sklearn's `normalize`, on the non-zero entries, in that order."""
        data = counts
        if self.binary:
            data.fill(1.0)
        if self.sublinear_tf:
            np.log(data, data)
            data += 1.0
        if self.idf is not None:
            data *= self.idf[columns]
        if self.norm in ("l1", "l2"):
            per_row = np.bincount(rows, weights=np.abs(data) if self.norm == "l1" else data * data, minlength=n_rows)
            if self.norm == "l2":
                per_row = np.sqrt(per_row)
            per_row[per_row == 0.0] = 1.0
            data /= per_row[rows]
        return data


class _CharBlock(_Block):
    """analyzer="char_wb": n-grams inside each whitespace-separated word padded with one space each side."""

    def __init__(self, vectorizer: Any, weights: np.ndarray[Any, Any]):
        super().__init__(vectorizer, weights)
        vocabulary: dict[str, int] = vectorizer.vocabulary_
        alphabet = sorted({char for term in vocabulary for char in term})
        self.base = len(alphabet) + 1
        if self.base**self.max_n > _MAX_CODE:
            raise NotCompilableError(f"{len(alphabet)} distinct characters do not fit {self.max_n}-gram codes")
        digit = {char: position + 1 for position, char in enumerate(alphabet)}
        self.symbols = np.zeros(max(map(ord, alphabet), default=0) + 2, dtype=np.int64)  # last entry: unknown
        for char, value in digit.items():
            self.symbols[ord(char)] = value
        self.table = _term_table(
            (_positional_code([digit[c] for c in term], self.base) for term in vocabulary),
            vocabulary.values(),
            self.base,
        )
        self.vocabulary = vocabulary

    def units(self, texts: Sequence[str]) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        # " w1  w2 " per text: every word padded as sklearn pads it; a window across two words (or two
        # texts) holds two adjacent spaces, which no term does, so it never matches.
        pieces = []
        for text in texts:
            words = self.preprocess(text).split()
            pieces.append(" " + "  ".join(words) + " " if words else "")
        offsets = np.zeros(len(pieces), dtype=np.int64)
        if pieces:
            offsets[1:] = np.cumsum([len(piece) for piece in pieces[:-1]])
        points = np.frombuffer("".join(pieces).encode("utf-32-le", errors="surrogatepass"), dtype=np.uint32)
        units = self.symbols[np.minimum(points, len(self.symbols) - 1)]
        return units, offsets

    def extra_terms(self, texts: Sequence[str]) -> tuple[list[int], list[int]]:
        # sklearn counts a padded word shorter than the smallest n once, whole; windows never see it.
        if self.min_n <= 3:  # a padded word is at least 3 characters long
            return [], []
        rows: list[int] = []
        columns: list[int] = []
        for row, text in enumerate(texts):
            for word in self.preprocess(text).split():
                if len(word) + 2 < self.min_n and (column := self.vocabulary.get(f" {word} ")) is not None:
                    rows.append(row)
                    columns.append(column)
        return rows, columns


class _WordBlock(_Block):
    """analyzer="word" with the default token pattern: token n-grams joined by one space."""

    def __init__(self, vectorizer: Any, weights: np.ndarray[Any, Any]):
        super().__init__(vectorizer, weights)
        vocabulary: dict[str, int] = vectorizer.vocabulary_
        self.tokenize: Callable[[str], list[str]] = vectorizer.build_tokenizer()
        stop_words = vectorizer.get_stop_words()
        self.stop_words = frozenset(stop_words) if stop_words else None
        split_terms = [term.split(" ") for term in vocabulary]
        tokens = sorted({token for parts in split_terms for token in parts})
        self.base = len(tokens) + 1
        if self.base**self.max_n > _MAX_CODE:
            raise NotCompilableError(f"{len(tokens)} distinct tokens do not fit {self.max_n}-gram codes")
        self.token_ids = {token: position + 1 for position, token in enumerate(tokens)}
        self.table = _term_table(
            (_positional_code([self.token_ids[t] for t in parts], self.base) for parts in split_terms),
            vocabulary.values(),
            self.base,
        )

    def units(self, texts: Sequence[str]) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        # Token ids of each text followed by a 0 separator, so that no n-gram spans two texts.
        get = self.token_ids.get
        per_text = []
        for text in texts:
            tokens = self.tokenize(self.preprocess(text))
            if self.stop_words is not None:
                tokens = [token for token in tokens if token not in self.stop_words]
            per_text.append([get(token, 0) for token in tokens] + [0])
        offsets = np.zeros(len(per_text), dtype=np.int64)
        if per_text:
            offsets[1:] = np.cumsum([len(ids) for ids in per_text[:-1]])
        total = sum(len(ids) for ids in per_text)
        units = np.fromiter(itertools.chain.from_iterable(per_text), dtype=np.int64, count=total)
        return units, offsets
