"""The one small interface every data provider implements.

A source turns (provider symbol, date range) into canonical frames (see
:mod:`rotation._frames`). It knows its provider's wire format and nothing of
the store or the analytics: the fetch orchestrator (:mod:`rotation.sources._fetch`)
writes what a source returns.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import date
from typing import ClassVar, Literal

import pandas as pd

from rotation._frames import OBSERVATION_FIELDS

__all__ = ["FetchResult", "Source"]


@dataclass(slots=True)
class FetchResult:
    """What one fetch of one symbol returned.

    Attributes
    ----------
    frame : DataFrame
        Canonical observation frame (``kind == "observations"``) or macro frame
        (``kind == "macro"``), with ``symbol`` set to **rotation's** symbol.
    actions : DataFrame or None
        Splits and dividends (canonical action frame), when the provider has them.
    notes : list of str
        Things the user should know (e.g. "last bar is partial and was dropped").
    """

    frame: pd.DataFrame
    actions: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)


class Source(ABC):
    """A data provider.

    Subclasses set :attr:`name` (the provider key used in universe files and
    as the ``source`` column in the store), :attr:`kind`, and implement
    :meth:`fetch`. Network sources receive an :class:`httpx.Client` so that
    tests can inject an ``httpx.MockTransport`` and never touch the network.
    """

    name: ClassVar[str]
    kind: ClassVar[Literal["observations", "macro"]] = "observations"
    #: Fields this provider can fill, for documentation and ``rotation status``.
    fields: ClassVar[tuple[str, ...]] = OBSERVATION_FIELDS
    #: Earliest date worth asking for when nothing is stored yet.
    default_start: ClassVar[date] = date(2015, 1, 1)

    @abstractmethod
    def fetch(self, symbol: str, provider_symbol: str, start: date, end: date) -> FetchResult:
        """Fetch daily data for one symbol over ``[start, end]`` (inclusive, dates).

        Parameters
        ----------
        symbol : str
            rotation's symbol; written into the frame's ``symbol`` column.
        provider_symbol : str
            The provider's own identifier (``BTC-USD``, ``bitcoin``, ``DGS2``).
        start, end : date
            Inclusive range. Rows outside it are dropped.

        Raises
        ------
        SymbolNotFoundError, RateLimitedError, ProviderUnavailableError, MalformedResponseError
        """

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release network resources held by the source."""
