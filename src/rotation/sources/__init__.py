"""Sources: one module per data provider, all behind :class:`Source`.

=============  ==============================================  ====================
provider       what                                            module
=============  ==============================================  ====================
``yahoo``      equities, ETFs, indexes, crypto (chart API)     :mod:`.yahoo`
``coinmetrics`` crypto price, market cap, supply (community)   :mod:`.coinmetrics`
``coingecko``  crypto price, market cap, volume                :mod:`.coingecko`
``binance``    crypto spot klines (OHLCV)                      :mod:`.binance`
``fred``       macro series (CSV download or keyed API)        :mod:`.fred`
``defillama``  stablecoin supply                               :mod:`.defillama`
``file``       user files via ``rotation import``              :mod:`.files`
=============  ==============================================  ====================
"""

from __future__ import annotations

from importlib import import_module

import httpx

from rotation.config import Settings
from rotation.errors import ParameterError
from rotation.sources._base import FetchResult, Source
from rotation.sources._http import RetryPolicy

__all__ = ["FETCHABLE", "FetchResult", "RetryPolicy", "Source", "make_source"]

_REGISTRY: dict[str, tuple[str, str]] = {
    "yahoo": ("rotation.sources.yahoo", "YahooSource"),
    "coinmetrics": ("rotation.sources.coinmetrics", "CoinMetricsSource"),
    "coingecko": ("rotation.sources.coingecko", "CoinGeckoSource"),
    "binance": ("rotation.sources.binance", "BinanceSource"),
    "fred": ("rotation.sources.fred", "FredSource"),
    "defillama": ("rotation.sources.defillama", "DefiLlamaSource"),
}
#: Providers ``rotation fetch`` can download from (``file`` is import-only).
FETCHABLE = tuple(_REGISTRY)


def make_source(
    name: str,
    settings: Settings | None = None,
    *,
    client: httpx.Client | None = None,
    retry: RetryPolicy | None = None,
) -> Source:
    """Instantiate the source for provider ``name`` with keys from ``settings``."""
    if name not in _REGISTRY:
        raise ParameterError("provider", f"unknown provider '{name}' (known: {', '.join(FETCHABLE)})")
    module, cls_name = _REGISTRY[name]
    cls = getattr(import_module(module), cls_name)
    settings = settings or Settings.resolve()
    kwargs: dict[str, object] = {"client": client, "retry": retry}
    if name == "fred" and settings.fred_api_key:
        kwargs["api_key"] = settings.fred_api_key
    if name == "coingecko":
        if settings.coingecko_pro_api_key:
            kwargs["pro_api_key"] = settings.coingecko_pro_api_key
        elif settings.coingecko_api_key:
            kwargs["api_key"] = settings.coingecko_api_key
    return cls(**kwargs)
