"""Red teaming a detector: known attack techniques applied to seed payloads, and what the detector catches.

    attacks = generate_attacks(SEED_PROMPTS, variants_per_seed=3, seed=7)
    report = run_suite(model.predict, attacks)
    report.to_dict()  # per technique: attempts, detected, detection_rate, evaded examples

Pure: no model loading, no I/O; the detector is whatever predict function the caller passes.
"""

from mlsec.ml.redteam.attacks import Attack, generate_attacks, resolve_techniques
from mlsec.ml.redteam.seeds import SEED_PROMPTS
from mlsec.ml.redteam.suite import BASELINE, EvadedAttack, RedTeamReport, TechniqueResult, run_suite
from mlsec.ml.redteam.techniques import HOMOGLYPHS, LEET, TECHNIQUES, ZERO_WIDTH, Technique, get_technique

__all__ = [
    "BASELINE",
    "HOMOGLYPHS",
    "LEET",
    "SEED_PROMPTS",
    "TECHNIQUES",
    "ZERO_WIDTH",
    "Attack",
    "EvadedAttack",
    "RedTeamReport",
    "Technique",
    "TechniqueResult",
    "generate_attacks",
    "get_technique",
    "resolve_techniques",
    "run_suite",
]
