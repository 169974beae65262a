"""Attacks: seed payloads run through techniques, reproducibly.

Every attack text is drawn from its own random generator, seeded from (seed, technique name, seed
index, variant). An attack therefore does not depend on which other techniques or seeds were asked
for, or in what order: adding a technique to a suite leaves the attacks of the others as they were,
and a report can be regenerated from its seed alone. String seeds are hashed with SHA-512 by
`random.Random`, so the texts are the same in every process and on every platform.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from mlsec.ml.redteam.techniques import TECHNIQUES, Technique, get_technique


@dataclass(frozen=True)
class Attack:
    """One attack prompt: `technique` applied to seed number `seed_index` (its `variant`-th draw)."""

    technique: str
    seed_index: int
    prompt: str
    variant: int = 0


def resolve_techniques(techniques: Sequence[str | Technique] | None) -> list[Technique]:
    """The techniques named (or given) in order; None means every registered technique, `plain` first.

    Unknown names raise ValueError listing the known ones; so do an empty selection and a name given
    twice (its attacks would be counted twice in a report).
    """
    if techniques is None:
        return list(TECHNIQUES.values())
    if isinstance(techniques, str):
        raise TypeError("techniques must be a sequence of names, not a single string")
    resolved = [item if isinstance(item, Technique) else get_technique(item) for item in techniques]
    if not resolved:
        raise ValueError(f"no techniques selected; known techniques: {', '.join(TECHNIQUES)}")
    names = [technique.name for technique in resolved]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ValueError(f"technique selected more than once: {', '.join(duplicated)}")
    return resolved


def _validated_seeds(seeds: Sequence[str]) -> list[str]:
    if isinstance(seeds, str):
        raise TypeError("seeds must be a sequence of payloads, not a single string")
    payloads = list(seeds)
    if not payloads:
        raise ValueError("no seed payloads given")
    for index, payload in enumerate(payloads):
        if not isinstance(payload, str) or not payload.strip():
            raise ValueError(f"seed {index} is not a non-blank string: {payload!r}")
    return payloads


def generate_attacks(
    seeds: Sequence[str],
    techniques: Sequence[str | Technique] | None = None,
    *,
    variants_per_seed: int = 1,
    seed: int = 0,
) -> list[Attack]:
    """Every technique applied to every seed payload, `variants_per_seed` times, deterministic in `seed`.

    Attacks come technique by technique, then seed by seed, then variant by variant. A variant whose
    text repeats an earlier variant of the same technique and seed is dropped rather than counted twice
    (`plain` has one text per seed however many variants are asked for), so techniques can have
    different numbers of attempts; compare their detection rates, not their counts.
    """
    if isinstance(variants_per_seed, bool) or not isinstance(variants_per_seed, int) or variants_per_seed < 1:
        raise ValueError(f"variants_per_seed must be a positive integer, got {variants_per_seed!r}")
    payloads = _validated_seeds(seeds)
    attacks: list[Attack] = []
    for technique in resolve_techniques(techniques):
        for index, payload in enumerate(payloads):
            seen: set[str] = set()
            for variant in range(variants_per_seed):
                rng = random.Random(f"{seed}/{technique.name}/{index}/{variant}")  # noqa: S311 (reproducible, not secret)
                prompt = technique(payload, rng)
                if prompt not in seen:
                    seen.add(prompt)
                    attacks.append(Attack(technique.name, index, prompt, variant))
    return attacks
