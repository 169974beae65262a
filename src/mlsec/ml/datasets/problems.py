"""Why a dataset was refused: one RowProblem per reason, and the DatasetError that carries them.

Kept apart because every step (format detection, column resolution, each scanner) refuses with the same
error, and the message a person reads is built in one place: the first few problems, a count of the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_PROBLEMS = 20
_SHOWN_PROBLEMS = 5  # in the message; all of them are in DatasetError.problems


@dataclass(frozen=True)
class RowProblem:
    """One reason a dataset was refused."""

    row: int | None  # 1-based data row number (header not counted), None when not row-specific
    column: str | None
    reason: str


class DatasetError(ValueError):
    """Invalid dataset; str(exc) is one human sentence; .problems lists up to 20 RowProblem."""

    def __init__(self, message: str, problems: list[RowProblem] | None = None):
        super().__init__(message)
        self.problems: list[RowProblem] = list(problems or [])[:MAX_PROBLEMS]


def _describe(problem: RowProblem) -> str:
    return f"row {problem.row}: {problem.reason}" if problem.row is not None else problem.reason


def _raise_problems(problems: list[RowProblem]) -> None:
    count = len(problems)
    stopped = " (checking stopped there)" if count >= MAX_PROBLEMS else ""
    shown = "; ".join(_describe(problem) for problem in problems[:_SHOWN_PROBLEMS])
    more = f"; and {count - _SHOWN_PROBLEMS} more" if count > _SHOWN_PROBLEMS else ""
    raise DatasetError(f"The dataset has {count} problem{'s' if count > 1 else ''}{stopped}: {shown}{more}.", problems)
