"""Claims ledger: each claim of ``CLAIMS.md`` (R1-R12) as code with a documented decision rule.

>>> import rotation as rt
>>> from rotation.claims import evaluate_claims
>>> ledger = evaluate_claims(rt.Store("rotation.duckdb"), as_of="2024-12-31")   # doctest: +SKIP
>>> ledger.to_frame()                                                            # doctest: +SKIP

Layers
------
``_verdict``   :class:`Verdict`, :class:`Ledger` (``to_frame``, deterministic ``to_json``)
``_config``    the user-editable TOML configuration (``default_claims.toml`` shipped)
``_registry``  the one place claims are registered (R1..R12; ``None`` = not yet implemented)
``_context``   what a claim sees: the as-of panel, basket/side indices, window, provenance, caveats
``_stats``     seeded block bootstrap (arch) and the decision helpers
``rN_*.py``    one module per claim: ``PARAMS``, ``RULE``, ``evaluate(ctx, params) -> Verdict``
"""

from rotation.claims._config import (
    COMMON_PARAMS,
    ClaimsConfig,
    Param,
    Params,
    default_claims_path,
    load_claims_config,
)
from rotation.claims._context import ClaimContext, ClaimWindow
from rotation.claims._registry import CLAIM_IDS, REGISTRY, ClaimEntry
from rotation.claims._run import evaluate_claims
from rotation.claims._stats import BootstrapResult, block_bootstrap, decide_interval, decide_p
from rotation.claims._verdict import NOT_IMPLEMENTED, VERDICTS, Effect, Interval, Ledger, PendingClaim, Verdict

__all__ = [
    "CLAIM_IDS",
    "COMMON_PARAMS",
    "NOT_IMPLEMENTED",
    "REGISTRY",
    "VERDICTS",
    "BootstrapResult",
    "ClaimContext",
    "ClaimEntry",
    "ClaimWindow",
    "ClaimsConfig",
    "Effect",
    "Interval",
    "Ledger",
    "Param",
    "Params",
    "PendingClaim",
    "Verdict",
    "block_bootstrap",
    "decide_interval",
    "decide_p",
    "default_claims_path",
    "evaluate_claims",
    "load_claims_config",
]
