"""The mechanics of the test suites' synthetic stores: universe TOML stanzas, random walks, long frames, writing.

Every suite keeps its own universe and data (symbols, seeds, values: the assertions are pinned to them);
this module holds only what they share, once. It is a uniquely named module, not a ``conftest``: it is
imported by name from every test folder (``tests/`` is on ``sys.path`` under pytest), and ``conftest``
modules of different folders clash under pytest-xdist.

Nothing here draws random numbers: callers draw from their own generator in their own order and pass
the draws in, so a suite's data depends only on its seed and its code.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from rotation.store import Store

__all__ = ["FRED", "basket_toml", "by_source", "instrument_toml", "macro_toml", "price_panel", "prices", "series",
           "spells", "stablecoin", "walk", "write_store"]


# --------------------------------------------------------------------------- universe TOML
#: The FRED series the suites use and the fields of their ``[macro.X]`` stanza (units, frequency, scale,
#: publication lag), as in the default universe; :func:`macro_toml` can override or drop any of them.
FRED: dict[str, dict[str, object]] = {
    "DGS2": {"units": "percent", "frequency": "D", "release_lag_days": 1},
    "DFII10": {"units": "percent", "frequency": "D", "release_lag_days": 1},
    "DTWEXBGS": {"units": "index", "frequency": "D", "release_lag_days": 7},
    "FEDFUNDS": {"units": "percent", "frequency": "M", "release_lag_days": 32},
    "WALCL": {"units": "millions_usd", "frequency": "W", "scale": 1e6, "release_lag_days": 2},
    "WTREGEN": {"units": "billions_usd", "frequency": "W", "scale": 1e9, "release_lag_days": 2},
    "WDTGAL": {"units": "millions_usd", "frequency": "W", "scale": 1e6, "release_lag_days": 2},
    "RRPONTSYD": {"units": "billions_usd", "frequency": "D", "scale": 1e9, "release_lag_days": 1},
}


def _value(v: object) -> str:
    """A TOML literal: strings and lists of strings as JSON (a subset of TOML), numbers as Python writes them."""
    return json.dumps(v) if isinstance(v, (str, list, tuple)) else repr(v)


def _stanza(table: str, fields: Mapping[str, object]) -> str:
    lines = [f"[{table}]"] + [f"{k} = {_value(v)}" for k, v in fields.items() if v is not None]
    return "\n".join(lines) + "\n"


def instrument_toml(*symbols: str, asset_class: str = "equity", provider: str = "yahoo",
                    provider_symbol: str | None = None) -> str:
    """One ``[instruments.<symbol>]`` stanza per symbol, all of one asset class and one provider.

    ``provider_symbol`` (the symbol at the provider; one symbol only) defaults to the symbol, lower-cased
    for coingecko (whose ids are lower case).
    """
    if provider_symbol is not None and len(symbols) != 1:
        raise ValueError("provider_symbol names the provider's symbol of one instrument")
    stanzas = []
    for symbol in symbols:
        at = provider_symbol or (symbol.lower() if provider == "coingecko" else symbol)
        stanzas.append(f"[instruments.{symbol}]\nasset_class = {_value(asset_class)}\n"
                       f"sources = {{ {provider} = {_value(at)} }}\n")
    return "\n".join(stanzas)


def basket_toml(name: str, members: Iterable[str], *, role: str, weighting: str | None = "equal") -> str:
    """One ``[baskets.<name>]`` stanza; ``weighting=None`` leaves the key out (the universe's default)."""
    return _stanza(f"baskets.{name}", {"members": list(members), "weighting": weighting, "role": role})


def macro_toml(symbol: str, **fields: object) -> str:
    """One ``[macro.<symbol>]`` stanza from :data:`FRED`, fetched from FRED under the same name.

    ``fields`` override the catalogue's; a ``None`` value leaves that key out (the universe's default).
    """
    return _stanza(f"macro.{symbol}", {**FRED[symbol], **fields}) + f'sources = {{ fred = "{symbol}" }}\n'


# --------------------------------------------------------------------------- long frames
def walk(start: float, steps: np.ndarray, how: str = "log") -> np.ndarray:
    """A path from per-row steps, shape (n,) -> (n,).

    ``how="log"``: ``start * exp(cumsum(steps))`` (log returns); ``"simple"``: ``start * cumprod(1 + steps)``
    (simple returns); ``"add"``: ``start + cumsum(steps)`` (level changes, e.g. a yield). A NaN step makes
    the rest of the path NaN.
    """
    if how == "log":
        return start * np.exp(np.cumsum(steps))
    if how == "simple":
        return start * np.cumprod(1.0 + steps)
    if how == "add":
        return start + np.cumsum(steps)
    raise ValueError(f"how: 'log', 'simple' or 'add', got {how!r}")


def prices(symbol: str, dates: pd.DatetimeIndex | Sequence, px: np.ndarray, *, shares: float | None = None,
           fields: Sequence[str] = ("close", "adj_close"), **columns: object) -> pd.DataFrame:
    """The long observation rows of one instrument: ``px`` (n,) in every price field of ``fields``.

    ``shares``: a constant share count, ``market_cap = px * shares``; ``columns``: more observation
    columns (arrays of length n or scalars), e.g. ``volume_usd``. NaN prices are passed through as NaN.
    """
    frame = pd.DataFrame({"symbol": symbol, "date": dates, **dict.fromkeys(fields, px), **columns})
    if shares is not None:
        frame["market_cap"] = px * shares
    return frame


def stablecoin(symbol: str, dates: pd.DatetimeIndex | Sequence, supply: np.ndarray, **columns: object) -> pd.DataFrame:
    """The long observation rows of a USD stablecoin: price 1, ``market_cap = supply`` (n,)."""
    return pd.DataFrame({"symbol": symbol, "date": dates, "close": 1.0, "adj_close": 1.0, **columns,
                         "market_cap": supply, "supply": supply})


def series(symbol: str, dates: pd.DatetimeIndex | Sequence, values: np.ndarray | float) -> pd.DataFrame:
    """The long rows of one macro series (``symbol``, ``date``, ``value``); a scalar value is repeated."""
    return pd.DataFrame({"symbol": symbol, "date": dates, "value": values})


def spells(members: Mapping[str, tuple[str, str | None]]) -> pd.DataFrame:
    """Index membership spells ``{symbol: (start_date, end_date or None)}`` as the store takes them."""
    return pd.DataFrame({"symbol": list(members), "start_date": [s for s, _ in members.values()],
                         "end_date": [e for _, e in members.values()]})


def price_panel(returns: pd.DataFrame, start: float = 50.0, how: str = "log") -> pd.DataFrame:
    """The long observation rows of every column of a (T, N) frame of returns: :func:`walk` then :func:`prices`.

    Row order: column by column, dates as in ``returns.index``.
    """
    frames = [prices(sym, returns.index, walk(start, returns[sym].to_numpy(), how)) for sym in returns.columns]
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------- writing
def by_source(obs: pd.DataFrame | Sequence[pd.DataFrame], default: str,
              **symbols: Iterable[str]) -> dict[str, pd.DataFrame]:
    """Split long observations by source: the symbols named per source in ``symbols``, the rest to ``default``.

    Returns ``{default: rest, source: rows, ...}`` in that order (the order :func:`write_store` writes them).
    """
    obs = pd.concat(obs, ignore_index=True) if not isinstance(obs, pd.DataFrame) else obs
    named = {src: obs["symbol"].isin(list(syms)) for src, syms in symbols.items()}
    rest = ~np.logical_or.reduce([m.to_numpy() for m in named.values()]) if named else np.ones(len(obs), bool)
    return {default: obs[rest], **{src: obs[m] for src, m in named.items()}}


def write_store(path: Path, observations: Mapping[str, pd.DataFrame | Sequence[pd.DataFrame]] | None = None, *,
                macro: pd.DataFrame | Sequence[pd.DataFrame] | None = None, macro_source: str = "fred",
                membership: Mapping[str, pd.DataFrame] | None = None, membership_source: str = "test") -> Path:
    """Write long frames into the store at ``path`` (created if missing; rows already there are upserted).

    Every frame is one write (one transaction, one bump of the store's data version), in the order given:
    concatenate frames first (e.g. with :func:`by_source`) to write them at once.

    Parameters
    ----------
    observations
        ``{source: frame or list of frames}`` of observation rows (``symbol``, ``date`` and any of the
        store's observation columns; a NaN cell keeps what is stored), written source by source in order.
    macro
        Macro rows (``symbol``, ``date``, ``value``), one frame or a list, written under ``macro_source``.
    membership
        ``{index name: spells}`` (see :func:`spells`), written under ``membership_source``.

    Returns
    -------
    Path
        ``path``.
    """
    def each(frames: pd.DataFrame | Sequence[pd.DataFrame] | None) -> Sequence[pd.DataFrame]:
        return [] if frames is None else [frames] if isinstance(frames, pd.DataFrame) else frames

    with Store(path) as store:
        for source, frames in (observations or {}).items():
            for frame in each(frames):
                store.write_observations(frame, source=source)
        for frame in each(macro):
            store.write_macro(frame, source=macro_source)
        for index_name, table in (membership or {}).items():
            store.write_membership(table, index_name=index_name, source=membership_source)
    return path
