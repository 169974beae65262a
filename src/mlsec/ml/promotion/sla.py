"""The SLA criterion: a challenger must not break the service-level objectives the champion is held to.

The objectives (a p99 latency, an availability, an error rate) and the challenger's measured figures come from
outside (the business-metrics service measures production traffic); this module only judges them, so the
judgement is the same wherever the figures come from. A figure that could not be measured (the challenger
served no traffic in the window) neither meets nor breaks its objective; when no objective could be measured at
all, `unmeasured` decides: "pass" (the criterion cannot say no without evidence, and says so) or "reject" (no
promotion without evidence).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from mlsec.ml.promotion.checks import Check

Unmeasured = Literal["pass", "reject"]
NAME = "sla"
REQUIRED = "no SLA objective broken"


@dataclass(frozen=True)
class SlaObjective:
    """One objective: the figure's name, its threshold, and whether a higher figure is the better one."""

    name: str
    threshold: float
    higher_is_better: bool

    def met(self, value: float) -> bool:
        return value >= self.threshold if self.higher_is_better else value <= self.threshold

    def describe(self, value: float) -> str:
        sign = (">=" if self.higher_is_better else "<=") if self.met(value) else ("<" if self.higher_is_better else ">")
        return f"{self.name} {value:.6g} {sign} {self.threshold:g}"


def sla_check(
    objectives: Sequence[SlaObjective],
    measured: Mapping[str, float | None],
    *,
    source: str,
    unmeasured: Unmeasured,
) -> Check:
    """Fails when a measured figure breaks its objective; without any measured figure, `unmeasured` decides."""
    judged = [(o, measured.get(o.name)) for o in objectives]
    values = [(o, v) for o, v in judged if v is not None]
    broken = [(o, v) for o, v in values if not o.met(v)]
    missing = [o.name for o, v in judged if v is None]
    parts = [o.describe(v) for o, v in values]
    if missing:
        parts.append("not measured: " + ", ".join(missing))
    detail = f"{source}: " + "; ".join(parts)
    if broken:
        broke = ", ".join(o.describe(v) for o, v in broken)
        return Check(NAME, False, float(len(broken)), REQUIRED, f"the challenger breaks the SLA ({broke}); {detail}")
    if not values:
        verdict = "passes, as criteria say" if unmeasured == "pass" else "is refused, as criteria say"
        why = f"could not be judged (no figure measured), so it {verdict} (sla_unmeasured = {unmeasured!r}); "
        return Check(NAME, unmeasured == "pass", None, REQUIRED, why + detail)
    return Check(NAME, True, 0.0, REQUIRED, detail)


def sla_unavailable(reason: str) -> Check:
    """Fail closed: the SLA criterion is asked for but its figures could not be read."""
    return Check(NAME, False, None, REQUIRED, f"{reason}; the criteria name the SLA, so nothing is promoted without it")


def sla_not_checked(reason: str) -> Check:
    """Kept in the evidence, marked not applicable (switched off, or no SLA applies to the champion)."""
    return Check(NAME, True, None, "not checked", reason, applicable=False)
