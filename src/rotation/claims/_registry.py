"""The one place where claims are registered.

Each claim of ``CLAIMS.md`` (R1-R12) has an entry here: its id, its title and
the module that evaluates it, or ``None`` while it has no code (the ledger then
lists it as "not yet implemented" and never gives it a verdict).

Adding a claim
--------------
1. Write ``rotation/claims/rN_<name>.py`` defining

   * ``PARAMS``: ``dict[str, Param]`` of the claim's own configuration keys
     (the common ones of :data:`rotation.claims._config.COMMON_PARAMS` are
     always available);
   * ``RULE``: the decision rule in words (``str.format`` fields from the params allowed);
   * ``evaluate(ctx: ClaimContext, params: Params) -> Verdict``.

2. Put the module path in its entry below, and its defaults in
   ``default_claims.toml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import import_module
from types import ModuleType

__all__ = ["CLAIM_IDS", "REGISTRY", "ClaimEntry", "claim_module", "entry"]


@dataclass(frozen=True)
class ClaimEntry:
    """A registered claim: id, title, evaluating module (None: not yet implemented)."""

    claim_id: str
    title: str
    module: str | None

    @property
    def implemented(self) -> bool:
        return self.module is not None


REGISTRY: tuple[ClaimEntry, ...] = (
    ClaimEntry("R1", "Capital rotates out of crypto into AI infrastructure", "rotation.claims.r1_rotation"),
    ClaimEntry("R2", "It is a siphon, not a common risk-on tide", "rotation.claims.r2_siphon"),
    ClaimEntry("R3", "Higher risk-free rates hurt non-yielding crypto more than AI", "rotation.claims.r3_rates"),
    ClaimEntry("R4", "Fed easing and returning liquidity rotate money back to crypto", "rotation.claims.r4_easing"),
    ClaimEntry("R5", "AI stocks supplied most of the S&P 500's gains since end-2022", "rotation.claims.r5_ai_share"),
    ClaimEntry("R6", "Investors re-price certainty: AI gives better risk-adjusted return than crypto",
               "rotation.claims.r6_risk_adjusted"),
    ClaimEntry("R7", "AI infrastructure is winner-takes-most", "rotation.claims.r7_concentration"),
    ClaimEntry("R8", "Crypto miners re-rate as AI/HPC infrastructure", "rotation.claims.r8_miners"),
    ClaimEntry("R9", "Crypto's future is RWA and DePIN", "rotation.claims.r9_rwa_depin"),
    ClaimEntry("R10", "An AI correction of 10-15% is a live risk, and it would spill over",
               "rotation.claims.r10_correction"),
    ClaimEntry("R11", "Institutional maturation changed crypto's behaviour", "rotation.claims.r11_maturation"),
    ClaimEntry("R12", "Institutional events move crypto-linked equities", "rotation.claims.r12_institutional"),
)

#: Claim ids in ledger order.
CLAIM_IDS: tuple[str, ...] = tuple(e.claim_id for e in REGISTRY)


def entry(claim_id: str) -> ClaimEntry:
    """The registry entry of ``claim_id`` (KeyError naming the known ids)."""
    for e in REGISTRY:
        if e.claim_id == claim_id:
            return e
    raise KeyError(f"unknown claim '{claim_id}' (known: {', '.join(CLAIM_IDS)})")


@cache
def claim_module(claim_id: str) -> ModuleType | None:
    """The module evaluating ``claim_id``, or None when it is not implemented yet."""
    e = entry(claim_id)
    return import_module(e.module) if e.module else None
