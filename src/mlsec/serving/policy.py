"""What distinguishes one serving service from another: the policy it hands its model repository."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ServingPolicy:
    """What distinguishes one serving service from another."""

    memory_budget_bytes: int | None = None  # None: never evict for memory
    idle_ttl_seconds: float | None = None  # evict a model unused this long (None: never)
    preload: list[str] = field(default_factory=list)  # model names to load at start, at the default alias
    preload_champions: bool = False  # also every registered model that has the default alias
