"""The one error of the compiled path: the pipeline has a shape it does not reproduce exactly.

Callers catch it and keep the scikit-learn pipeline; the message names the reason.
"""

from __future__ import annotations


class NotCompilableError(ValueError):
    """The pipeline has a shape the compiled path does not reproduce exactly; the reason says which."""
