"""Analytics: pure functions over panel frames returning typed results.

Each function takes pandas objects (wide ``(T, N)`` frames of prices or
returns, Series of basket levels, aligned macro frames) and returns a value,
a Series/DataFrame, or a frozen result dataclass with ``to_frame()``. Nothing
here reads the store or draws. Modules, one concept each:

=================  =====================================================
``returns``        simple/log returns, compounding, annualisation
``risk``           volatility, drawdowns, Sharpe, Sortino, VaR/CVaR, risk table
``rrg``            relative strength and relative rotation graphs
``flows``          market-cap shares, issuance, dollar volume, rotation index
``comovement``     rolling correlation/beta, residual correlation, lead-lag, Granger
``macro``          net liquidity, HAC macro sensitivities, rate regimes
``performance``    basket indices over a common window, trailing returns
``concentration``  Herfindahl, top-k shares, contribution to an index's gains
``regimes``        Markov-switching / HMM regimes with stable state order
``breaks``         change points (ruptures, real-time variant), Chow, volatility and correlation breaks
``events``         market-model event studies (CAR, BMP, Kolari-Pynnonen)
``stress``         drawdown episodes, downside/conditional beta, shock scenarios
=================  =====================================================

Functions named like their module (``rrg``, ``regimes``, ``stress``,
``concentration``) are not re-exported here, so that ``rotation.analytics.rrg``
stays the module; use ``rotation.rrg(...)`` or ``rotation.analytics.rrg.rrg``.

The fast NaN-aware rolling kernels live in the private ``_rolling`` and
``_pairwise`` modules; the public functions above use them.
"""

# The names below are imported on first use (module ``__getattr__``, PEP 562): importing every
# analytics module pulls in scipy.stats, statsmodels and ruptures (~1-2 s), which commands that
# never touch them (``rotation --help``, ``rotation status``) should not pay for.

from __future__ import annotations

from rotation._lazy import lazy_exports
from typing import TYPE_CHECKING

#: Public name -> the analytics module that defines it.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "breaks": ("ChangePoints", "ChowTest", "CorrelationBreak", "ExpandingChangePoints", "VolatilityBreak",
        "change_points", "chow_test", "correlation_break", "expanding_change_points", "volatility_break"),
    "comovement": ("GrangerResult", "LeadLag", "ResidualCorrelation", "beta", "correlation", "cross_correlation",
        "granger_causality", "newey_west_lags", "residual_correlation", "rolling_beta", "rolling_correlation",
        "rolling_residual_correlation"),
    "concentration": ("PUBLISHED_CAP_INCREASE_SHARE", "PUBLISHED_RETURN_SHARE", "ConcentrationResult",
        "ContributionResult", "IndexWindow", "ai_linked_set", "contribution", "index_members", "index_window",
        "link_contributions"),
    "events": ("EventStudyResult", "bmp_test", "event_study", "kolari_pynnonen"),
    "flows": ("BasketCaps", "CapDecomposition", "CapShareResult", "DollarVolumeShare", "ETFFlows", "NetIssuance",
        "RotationIndexResult", "basket_caps", "cap_change_decomposition", "dollar_volume_share", "etf_net_flows",
        "market_cap_share", "net_issuance", "rotation_index"),
    "macro": ("NetLiquidity", "RegimeReturns", "RollingSensitivity", "SensitivityResult", "align_releases",
        "macro_factors", "macro_sensitivity", "net_liquidity", "rate_regime", "returns_by_regime",
        "rolling_macro_sensitivity"),
    "performance": ("BasketPerformance", "CommonWindow", "basket_indices", "basket_performance", "common_window",
        "rebase", "trailing_returns"),
    "regimes": ("ExpandingRegimes", "RegimeResult", "expanding_regimes", "hamilton_filter"),
    "returns": ("cumulative_returns", "deannualize_rate", "infer_periods_per_year", "log_returns",
        "periods_per_year", "resample_returns", "simple_returns", "total_return"),
    "risk": ("DrawdownTable", "RiskTable", "annualized_volatility", "cagr", "conditional_value_at_risk",
        "downside_deviation", "drawdown", "drawdown_table", "max_drawdown", "risk_table", "rolling_max_drawdown",
        "rolling_sharpe", "rolling_sortino", "rolling_volatility", "sharpe_ratio", "sortino_ratio", "value_at_risk"),
    "stress": ("BetaResult", "DrawdownEpisodes", "ScenarioResult", "StressResult", "analogue_windows",
        "conditional_beta", "downside_beta", "drawdown_episodes", "hac_beta", "scenario"),
    "rrg": ("QUADRANTS", "RRGResult", "quadrant", "relative_strength", "rs_momentum", "rs_ratio"),
}
_WHERE = {name: f"{__name__}.{module}" for module, names in _EXPORTS.items() for name in names}

__all__ = [
    "PUBLISHED_CAP_INCREASE_SHARE",
    "PUBLISHED_RETURN_SHARE",
    "QUADRANTS",
    "ConcentrationResult",
    "ContributionResult",
    "IndexWindow",
    "ai_linked_set",
    "contribution",
    "index_members",
    "index_window",
    "link_contributions",
    "BasketCaps",
    "ChangePoints",
    "ChowTest",
    "CorrelationBreak",
    "ExpandingChangePoints",
    "ExpandingRegimes",
    "RegimeResult",
    "VolatilityBreak",
    "change_points",
    "chow_test",
    "correlation_break",
    "expanding_change_points",
    "expanding_regimes",
    "hamilton_filter",
    "volatility_break",
    "BetaResult",
    "DrawdownEpisodes",
    "ScenarioResult",
    "StressResult",
    "analogue_windows",
    "conditional_beta",
    "downside_beta",
    "drawdown_episodes",
    "hac_beta",
    "scenario",
    "BasketPerformance",
    "CapDecomposition",
    "CapShareResult",
    "CommonWindow",
    "DollarVolumeShare",
    "DrawdownTable",
    "ETFFlows",
    "EventStudyResult",
    "bmp_test",
    "event_study",
    "kolari_pynnonen",
    "GrangerResult",
    "LeadLag",
    "NetIssuance",
    "NetLiquidity",
    "RRGResult",
    "RegimeReturns",
    "ResidualCorrelation",
    "RiskTable",
    "RollingSensitivity",
    "RotationIndexResult",
    "SensitivityResult",
    "align_releases",
    "annualized_volatility",
    "basket_caps",
    "basket_indices",
    "basket_performance",
    "beta",
    "cagr",
    "cap_change_decomposition",
    "common_window",
    "conditional_value_at_risk",
    "correlation",
    "cross_correlation",
    "cumulative_returns",
    "deannualize_rate",
    "dollar_volume_share",
    "downside_deviation",
    "drawdown",
    "drawdown_table",
    "etf_net_flows",
    "granger_causality",
    "infer_periods_per_year",
    "log_returns",
    "macro_factors",
    "macro_sensitivity",
    "market_cap_share",
    "max_drawdown",
    "net_issuance",
    "net_liquidity",
    "newey_west_lags",
    "periods_per_year",
    "quadrant",
    "rate_regime",
    "rebase",
    "relative_strength",
    "resample_returns",
    "residual_correlation",
    "returns_by_regime",
    "risk_table",
    "rolling_beta",
    "rolling_correlation",
    "rolling_macro_sensitivity",
    "rolling_max_drawdown",
    "rolling_residual_correlation",
    "rolling_sharpe",
    "rolling_sortino",
    "rolling_volatility",
    "rotation_index",
    "rs_momentum",
    "rs_ratio",
    "sharpe_ratio",
    "simple_returns",
    "sortino_ratio",
    "total_return",
    "trailing_returns",
    "value_at_risk",
]


if TYPE_CHECKING:  # static analysers and IDEs see the eager imports
    from rotation.analytics.breaks import (
        ChangePoints,
        ChowTest,
        CorrelationBreak,
        ExpandingChangePoints,
        VolatilityBreak,
        change_points,
        chow_test,
        correlation_break,
        expanding_change_points,
        volatility_break,
    )
    from rotation.analytics.comovement import (
        GrangerResult,
        LeadLag,
        ResidualCorrelation,
        beta,
        correlation,
        cross_correlation,
        granger_causality,
        newey_west_lags,
        residual_correlation,
        rolling_beta,
        rolling_correlation,
        rolling_residual_correlation,
    )
    from rotation.analytics.concentration import (
        PUBLISHED_CAP_INCREASE_SHARE,
        PUBLISHED_RETURN_SHARE,
        ConcentrationResult,
        ContributionResult,
        IndexWindow,
        ai_linked_set,
        contribution,
        index_members,
        index_window,
        link_contributions,
    )
    from rotation.analytics.events import EventStudyResult, bmp_test, event_study, kolari_pynnonen
    from rotation.analytics.flows import (
        BasketCaps,
        CapDecomposition,
        CapShareResult,
        DollarVolumeShare,
        ETFFlows,
        NetIssuance,
        RotationIndexResult,
        basket_caps,
        cap_change_decomposition,
        dollar_volume_share,
        etf_net_flows,
        market_cap_share,
        net_issuance,
        rotation_index,
    )
    from rotation.analytics.macro import (
        NetLiquidity,
        RegimeReturns,
        RollingSensitivity,
        SensitivityResult,
        align_releases,
        macro_factors,
        macro_sensitivity,
        net_liquidity,
        rate_regime,
        returns_by_regime,
        rolling_macro_sensitivity,
    )
    from rotation.analytics.performance import (
        BasketPerformance,
        CommonWindow,
        basket_indices,
        basket_performance,
        common_window,
        rebase,
        trailing_returns,
    )
    from rotation.analytics.regimes import ExpandingRegimes, RegimeResult, expanding_regimes, hamilton_filter
    from rotation.analytics.returns import (
        cumulative_returns,
        deannualize_rate,
        infer_periods_per_year,
        log_returns,
        periods_per_year,
        resample_returns,
        simple_returns,
        total_return,
    )
    from rotation.analytics.risk import (
        DrawdownTable,
        RiskTable,
        annualized_volatility,
        cagr,
        conditional_value_at_risk,
        downside_deviation,
        drawdown,
        drawdown_table,
        max_drawdown,
        risk_table,
        rolling_max_drawdown,
        rolling_sharpe,
        rolling_sortino,
        rolling_volatility,
        sharpe_ratio,
        sortino_ratio,
        value_at_risk,
    )
    from rotation.analytics.stress import (
        BetaResult,
        DrawdownEpisodes,
        ScenarioResult,
        StressResult,
        analogue_windows,
        conditional_beta,
        downside_beta,
        drawdown_episodes,
        hac_beta,
        scenario,
    )
    from rotation.analytics.rrg import QUADRANTS, RRGResult, quadrant, relative_strength, rs_momentum, rs_ratio

__getattr__, __dir__ = lazy_exports(__name__, _WHERE, globals(), __all__)
