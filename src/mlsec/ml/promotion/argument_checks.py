"""What counts as a number and as a count among the settings and arguments of a promotion.

numpy scalars are accepted (they come out of every array), bools are not (True is no threshold); the
criteria, the bootstrap and the decision all validate their inputs with these two tests.
"""

from __future__ import annotations

import math
import numbers


def _is_number(value: object) -> bool:
    """A finite real number (numpy scalars included), and not a bool."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    return math.isfinite(value)


def _is_count(value: object) -> bool:
    """A positive integer (numpy integers included), and not a bool."""
    return not isinstance(value, bool) and isinstance(value, numbers.Integral) and int(value) >= 1
