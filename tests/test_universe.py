"""Universe file: the shipped default loads, and every kind of mistake is reported with file, line and key."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from rotation.errors import ConfigError, UniverseError
from rotation.universe import default_universe_path, load_universe

GOOD = """
[instruments.NVDA]
name = "NVIDIA"
asset_class = "equity"
sources = { yahoo = "NVDA" }

[instruments.BTC]
asset_class = "crypto"
sources = { coinmetrics = "btc", binance = "BTCUSDT" }

[macro.DGS2]
units = "percent"
frequency = "D"
sources = { fred = "DGS2" }

[baskets.ai]
members = ["NVDA"]
role = "ai"

[baskets.crypto]
members = ["BTC"]
weighting = "cap"
role = "crypto"
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "universe.toml"
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def test_default_universe_has_the_issue_baskets() -> None:
    u = load_universe()
    assert u.path == default_universe_path()
    expected = {
        "ai_compute": ["NVDA", "AMD", "AVGO", "TSM", "ASML", "MU", "ARM", "SMCI"],
        "ai_cloud": ["MSFT", "AMZN", "GOOGL", "META", "ORCL"],
        "ai_datacenter_power": ["EQIX", "DLR", "VRT", "CEG"],
        "crypto_majors": ["BTC", "ETH", "SOL", "XRP", "BNB"],
        "crypto_equities": ["COIN", "MSTR", "HOOD", "CRCL", "BLSH"],
        "miners_ai_hosting": ["MARA", "RIOT", "CLSK", "IREN", "CIFR", "CORZ", "HUT", "WULF"],
        "rwa_depin": ["LINK", "ONDO", "FIL", "RENDER", "HNT", "AR", "AKT", "TAO"],
    }
    for name, members in expected.items():
        assert list(u.basket(name).members) == members
    assert {"SPY", "QQQ", "SMH", "SOXX", "GLD", "TLT", "IBIT", "SPX"} <= set(u.basket("benchmarks").members)
    for series in ["DGS2", "DGS10", "DFII10", "T10YIE", "DFF", "DTWEXBGS", "WALCL", "RRPONTSYD", "WTREGEN",
                   "M2SL", "CPIAUCSL"]:
        assert series in u.macro
    assert u.macro["WALCL"].scale == 1e6 and u.macro["RRPONTSYD"].scale == 1e9
    # every instrument has an asset class, a currency and at least one source
    for inst in u:
        assert inst.asset_class and inst.currency == "USD" and inst.sources
    assert u.instrument("SPX").sources["yahoo"] == "^GSPC"


def test_env_var_selects_universe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = write(tmp_path, GOOD)
    monkeypatch.setenv("ROTATION_UNIVERSE", str(p))
    u = load_universe()
    assert set(u.baskets) == {"ai", "crypto"}
    assert u.members() == ["NVDA", "BTC"]
    assert u.by_source("binance") == [("BTC", "BTCUSDT")]


@pytest.mark.parametrize(
    ("text", "line", "key", "message"),
    [
        (GOOD.replace('members = ["NVDA"]', 'members = ["NVDA", "AAPL"]'), 17, "baskets.ai.members",
         "unknown instrument 'AAPL'"),
        (GOOD.replace('members = ["NVDA"]', 'members = ["NVDA", "NVDA"]'), 17, "baskets.ai.members",
         "duplicate member 'NVDA'"),
        (GOOD.replace('sources = { yahoo = "NVDA" }', "sources = {}"), 5, "instruments.NVDA.sources",
         "has no source"),
        (GOOD.replace('sources = { yahoo = "NVDA" }\n', ""), None, "instruments.NVDA.sources", "has no source"),
        (GOOD.replace('asset_class = "equity"', 'asset_class = "bond"'), 4, "instruments.NVDA.asset_class",
         "'bond' is not one of"),
        (GOOD.replace('yahoo = "NVDA"', 'bloomberg = "NVDA US"'), 5, "instruments.NVDA.sources.bloomberg",
         "unknown provider 'bloomberg'"),
        (GOOD.replace('weighting = "cap"', 'weighting = "price"'), 22, "baskets.crypto.weighting",
         "'price' is not one of"),
        (GOOD.replace('frequency = "D"', 'frequency = "H"'), 13, "macro.DGS2.frequency", "'H' is not one of"),
        (GOOD + '\n[macro.NVDA]\nsources = { fred = "X" }\n', 25, "macro.NVDA", "duplicate symbol 'NVDA'"),
        (GOOD.replace('name = "NVIDIA"', 'nmae = "NVIDIA"'), 3, "instruments.NVDA.nmae", "unknown key 'nmae'"),
        (GOOD + "\n[portfolios.x]\na = 1\n", None, "portfolios", "unknown top-level table"),
    ],
)
def test_invalid_universe_names_file_line_and_key(
    tmp_path: Path, text: str, line: int | None, key: str, message: str
) -> None:
    p = write(tmp_path, text)
    with pytest.raises(UniverseError) as info:
        load_universe(p)
    err = info.value
    assert err.file == str(p)
    assert err.key == key
    assert message in err.message
    if line is not None:
        assert err.line == line, str(err)
    assert str(p) in str(err) and key in str(err)


def test_malformed_toml_reports_line(tmp_path: Path) -> None:
    p = write(tmp_path, GOOD.replace('name = "NVIDIA"', 'name = "NVIDIA'))
    with pytest.raises(UniverseError) as info:
        load_universe(p)
    assert info.value.line == 3
    assert "malformed TOML" in str(info.value)


def test_duplicate_table_is_a_toml_error_with_line(tmp_path: Path) -> None:
    p = write(tmp_path, GOOD + '\n[instruments.NVDA]\nasset_class = "equity"\nsources = { yahoo = "NVDA" }\n')
    with pytest.raises(UniverseError) as info:
        load_universe(p)
    assert info.value.line is not None and info.value.line == 25


def test_missing_file_and_unknown_basket(tmp_path: Path) -> None:
    with pytest.raises(UniverseError, match="not found"):
        load_universe(tmp_path / "nope.toml")
    u = load_universe(write(tmp_path, GOOD))
    with pytest.raises(UniverseError, match="unknown basket 'ai_compute'.*known: ai, crypto"):
        u.basket("ai_compute")
    assert issubclass(UniverseError, ConfigError)
