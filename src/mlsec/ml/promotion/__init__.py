"""Champion against challenger: paired tests on the same held-out data, and the promotion decision.

Both models label the same held-out rows, so the comparison is paired: what matters is where they
disagree, not two accuracies measured with their own noise. McNemar's test asks whether the
challenger's errors are fewer than the champion's beyond chance; a paired bootstrap gives an interval
for the F1 gain, the metric the detector is tuned for. A decision lists every check with the number
it saw and the number it needed, because the decision's `to_dict()` is stored as the evidence for
promoting (or keeping) a model and must be readable on its own later.

Labels are compared as strings, so held-out labels stored as the integers 0/1 and predictions given
as "0"/"1" are the same classes. F1 follows scikit-learn's zero_division=0 convention: when a model
predicts no positive and there is no true positive to find (2TP + FP + FN = 0), its F1 is 0.

One module per job: `significance` (McNemar, paired bootstrap), `criteria`, `model_metrics`, `checks`
(one per condition), `decision` (the entry point, `evaluate_promotion`), `sla` (the SLA criterion, judged on
figures measured elsewhere) and `argument_checks`.
"""

from __future__ import annotations

from mlsec.ml.promotion.checks import Check
from mlsec.ml.promotion.criteria import PromotionCriteria
from mlsec.ml.promotion.decision import PromotionDecision, evaluate_promotion
from mlsec.ml.promotion.model_metrics import ModelMetrics
from mlsec.ml.promotion.significance import (
    EXACT_BELOW,
    BootstrapResult,
    Labels,
    McNemarResult,
    bootstrap_f1_difference,
    mcnemar,
    mcnemar_from_counts,
)
from mlsec.ml.promotion.sla import SlaObjective, Unmeasured, sla_check, sla_not_checked, sla_unavailable

__all__ = [
    "EXACT_BELOW",
    "BootstrapResult",
    "Check",
    "Labels",
    "McNemarResult",
    "ModelMetrics",
    "PromotionCriteria",
    "PromotionDecision",
    "SlaObjective",
    "Unmeasured",
    "bootstrap_f1_difference",
    "evaluate_promotion",
    "mcnemar",
    "mcnemar_from_counts",
    "sla_check",
    "sla_not_checked",
    "sla_unavailable",
]
