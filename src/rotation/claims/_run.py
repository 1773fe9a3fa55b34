"""Evaluate the registered claims into a :class:`~rotation.claims.Ledger`."""

from __future__ import annotations

from collections.abc import Sequence

from rotation._typing import DateLike
from rotation.claims._common import format_rule, insufficient
from rotation.claims._config import ClaimsConfig, load_claims_config
from rotation.claims._context import ClaimContext
from rotation.claims._registry import CLAIM_IDS, REGISTRY, claim_module
from rotation.claims._verdict import Ledger, PendingClaim, Verdict
from rotation.errors import DataError, ParameterError
from rotation.store import Store
from rotation.universe import Universe, load_universe

__all__ = ["evaluate_claims"]


def evaluate_claims(
    store: Store,
    universe: Universe | None = None,
    config: ClaimsConfig | None = None,
    *,
    as_of: DateLike | None = None,
    start: DateLike | None = None,
    end: DateLike | None = None,
    claims: Sequence[str] | None = None,
) -> Ledger:
    """Evaluate claims from the stored data.

    Parameters
    ----------
    store : Store
    universe : Universe, optional
        Default: :func:`rotation.load_universe` (env or shipped default).
    config : ClaimsConfig, optional
        Default: the shipped ``default_claims.toml``.
    as_of : date-like, optional
        Use only data available on this date (see :class:`ClaimContext`).
    start, end : date-like, optional
        Window overrides applied to every claim.
    claims : sequence of str, optional
        Claim ids to evaluate (default: all registered, R1..R12).

    Returns
    -------
    Ledger
        One entry per requested claim, in registry order: a :class:`Verdict`
        for each implemented claim (``insufficient data`` naming what is
        missing when the data cannot answer) and a :class:`PendingClaim`
        ("not yet implemented") for the others. Nothing requested is left out.

    Raises
    ------
    ParameterError
        Unknown claim id or bad dates.
    ConfigError
        A configuration value that does not fit the universe (unknown basket or
        instrument), with file, line and key.
    EmptyStoreError
        Nothing stored at all.
    """
    universe = universe if universe is not None else load_universe()
    config = config if config is not None else load_claims_config()
    wanted = list(CLAIM_IDS) if claims is None else [c.strip().upper() for c in claims]
    unknown = [c for c in wanted if c not in CLAIM_IDS]
    if unknown:
        raise ParameterError("claims", f"unknown claim id(s) {', '.join(unknown)} (known: {', '.join(CLAIM_IDS)})")
    ctx = ClaimContext(store, universe, config, as_of=as_of, start=start, end=end)
    entries: list[Verdict | PendingClaim] = []
    for e in REGISTRY:
        if e.claim_id not in wanted:
            continue
        module = claim_module(e.claim_id)
        if module is None:
            entries.append(PendingClaim(e.claim_id, e.title))
            continue
        params = config.params(e.claim_id, module.PARAMS)
        try:
            v = module.evaluate(ctx, params)
        except DataError as exc:
            # the data cannot answer: say exactly why rather than dropping the claim
            v = insufficient(ctx, e.claim_id, params, format_rule(module.RULE, params), [str(exc)])
        entries.append(v)
    return Ledger(entries=tuple(entries), as_of=ctx.as_of, start=ctx.start, end=ctx.end, config_file=config.label)
