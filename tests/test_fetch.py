"""The fetch orchestrator: incremental, idempotent, transactional, resumable, logged."""

from __future__ import annotations

import textwrap
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from rotation.config import Settings
from rotation.errors import ParameterError, ProviderUnavailableError, SourceError
from rotation.sources import FetchResult, Source
from rotation.store import Store, fetch, plan_fetch
from rotation.universe import load_universe

UNIVERSE = """
[instruments.AAA]
asset_class = "equity"
sources = { yahoo = "AAA" }

[instruments.BTC]
asset_class = "crypto"
sources = { coinmetrics = "btc", binance = "BTCUSDT", file = "BTC" }

[macro.DGS2]
frequency = "D"
sources = { fred = "DGS2" }

[baskets.all]
members = ["AAA", "BTC"]
"""


class FakeSource(Source):
    """A deterministic provider: value = days since 2020-01-01; records every request."""

    def __init__(self, name: str, kind: str = "observations", fail_for: set[str] | None = None) -> None:
        self.name = name  # type: ignore[misc]
        self.kind = kind  # type: ignore[misc]
        self.calls: list[tuple[str, date, date]] = []
        self.fail_for = fail_for or set()
        self.default_start = date(2024, 1, 1)  # type: ignore[misc]
        self.revision = 0.0

    def fetch(self, symbol: str, provider_symbol: str, start: date, end: date) -> FetchResult:
        self.calls.append((provider_symbol, start, end))
        if provider_symbol in self.fail_for:
            raise ProviderUnavailableError("HTTP 503 after 4 attempts", provider=self.name, symbol=provider_symbol)
        days = pd.date_range(start, end, freq="D")
        values = (days - pd.Timestamp("2020-01-01")).days.astype(float) + self.revision
        if self.kind == "macro":
            return FetchResult(pd.DataFrame({"symbol": symbol, "date": days, "value": values}))
        frame = pd.DataFrame({"symbol": symbol, "date": days, "close": values, "volume": 1.0})
        actions = pd.DataFrame({"symbol": [symbol], "date": [days[0]], "kind": ["dividend"], "value": [0.1]})
        return FetchResult(frame, actions=actions if self.name == "yahoo" else None, notes=["fake"])


@pytest.fixture
def universe(tmp_path: Path):
    p = tmp_path / "u.toml"
    p.write_text(textwrap.dedent(UNIVERSE))
    return load_universe(p)


@pytest.fixture
def sources() -> dict[str, FakeSource]:
    return {
        "yahoo": FakeSource("yahoo"),
        "coinmetrics": FakeSource("coinmetrics"),
        "binance": FakeSource("binance"),
        "fred": FakeSource("fred", kind="macro"),
    }


def test_plan_skips_import_only_providers(universe) -> None:
    jobs = plan_fetch(universe)
    assert [(j.symbol, j.provider) for j in jobs] == [
        ("AAA", "yahoo"), ("BTC", "coinmetrics"), ("BTC", "binance"), ("DGS2", "fred")]
    assert [(j.symbol, j.provider) for j in plan_fetch(universe, primary_only=True)] == [
        ("AAA", "yahoo"), ("BTC", "coinmetrics"), ("DGS2", "fred")]
    assert [j.symbol for j in plan_fetch(universe, providers=["binance"])] == ["BTC"]
    with pytest.raises(ParameterError, match="not in the universe: ZZZ"):
        plan_fetch(universe, symbols=["ZZZ"])
    with pytest.raises(ParameterError, match="unknown provider"):
        plan_fetch(universe, providers=["bloomberg"])


def test_first_fetch_then_incremental_with_overlap(universe, sources) -> None:
    store = Store(":memory:")
    end1 = date(2024, 1, 31)
    rep = fetch(store, universe, end=end1, sources=sources)
    assert rep.ok and {o.status for o in rep.outcomes} == {"ok"}
    assert sources["yahoo"].calls == [("AAA", date(2024, 1, 1), end1)]
    assert rep.rows == 4 * 31
    assert len(store.read_actions(["AAA"])) == 1
    assert set(store.instruments()["symbol"]) == {"AAA", "BTC", "DGS2"}

    end2 = date(2024, 2, 10)
    sources["yahoo"].revision = 0.5  # the vendor restated recent values
    rep2 = fetch(store, universe, end=end2, sources=sources, overlap_days=7)
    assert sources["yahoo"].calls[-1] == ("AAA", end1 - timedelta(days=7), end2)
    aaa = store.read_observations(["AAA"]).set_index("date")["close"]
    assert len(aaa) == 31 + 10
    # overlap picked up the revision; older rows untouched
    assert aaa[pd.Timestamp("2024-01-23")] == (pd.Timestamp("2024-01-23") - pd.Timestamp("2020-01-01")).days
    assert aaa[pd.Timestamp("2024-01-24")] == (pd.Timestamp("2024-01-24") - pd.Timestamp("2020-01-01")).days + 0.5
    assert rep2.ok
    log = store.fetch_log(None)
    assert len(log) == 8 and set(log["status"]) == {"ok"}
    assert log.iloc[0][["source", "symbol"]].tolist() == ["fred", "DGS2"]


def test_fetch_is_idempotent(universe, sources) -> None:
    store = Store(":memory:")
    fetch(store, universe, start=date(2024, 1, 1), end=date(2024, 1, 20), sources=sources)
    first = store.read_observations()
    fetch(store, universe, start=date(2024, 1, 1), end=date(2024, 1, 20), sources=sources)
    pd.testing.assert_frame_equal(store.read_observations(), first)


def test_failure_is_logged_others_continue_and_next_run_resumes(universe, sources) -> None:
    store = Store(":memory:")
    sources["coinmetrics"].fail_for = {"btc"}
    rep = fetch(store, universe, end=date(2024, 1, 10), sources=sources)
    assert not rep.ok
    assert [(o.job.symbol, o.job.provider) for o in rep.failed] == [("BTC", "coinmetrics")]
    assert "503" in rep.failed[0].message
    assert store.read_observations(["BTC"], sources=["coinmetrics"]).empty
    assert len(store.read_observations(["BTC"], sources=["binance"])) == 10
    failed = store.last_fetches().query("status == 'failed'")
    assert failed[["source", "symbol"]].values.tolist() == [["coinmetrics", "BTC"]]
    # the provider recovers: the next run fetches the missing pair from the default start
    sources["coinmetrics"].fail_for = set()
    rep2 = fetch(store, universe, end=date(2024, 1, 10), sources=sources)
    assert rep2.ok
    assert sources["coinmetrics"].calls[-1] == ("btc", date(2024, 1, 1), date(2024, 1, 10))
    assert len(store.read_observations(["BTC"], sources=["coinmetrics"])) == 10


def test_write_failure_mid_job_leaves_store_as_before(universe, sources, monkeypatch) -> None:
    """Observations of a job are written, then its actions fail: the job's rows must not persist."""
    store = Store(":memory:")
    fetch(store, universe, end=date(2024, 1, 5), sources=sources)
    before = store.read_observations()
    log_before = len(store.fetch_log(None))

    def explode(*args, **kwargs):
        raise SourceError("disk full while writing actions", provider="yahoo")

    monkeypatch.setattr(Store, "write_actions", explode)
    rep = fetch(store, universe, end=date(2024, 1, 9), sources=sources, overlap_days=0, providers=["yahoo"])
    assert [o.status for o in rep.outcomes] == ["failed"]
    pd.testing.assert_frame_equal(store.read_observations(), before)
    log = store.fetch_log(None)
    assert len(log) == log_before + 1 and log.iloc[0]["status"] == "failed"
    monkeypatch.undo()
    rep2 = fetch(store, universe, end=date(2024, 1, 9), sources=sources, overlap_days=0, providers=["yahoo"])
    assert rep2.ok and len(store.read_observations(["AAA"])) == 9


def test_offline_mode_refuses_to_fetch(universe, monkeypatch) -> None:
    monkeypatch.setenv("ROTATION_OFFLINE", "1")
    with pytest.raises(SourceError, match="offline mode"):
        fetch(Store(":memory:"), universe, settings=Settings.resolve())


def test_report_frame_and_callbacks(universe, sources) -> None:
    seen: list[str] = []
    rep = fetch(Store(":memory:"), universe, end=date(2024, 1, 3), sources=sources,
                on_start=lambda j: seen.append(f"start {j.symbol}"), on_done=lambda o: seen.append(o.status))
    assert seen[:2] == ["start AAA", "ok"]
    frame = rep.to_frame()
    assert list(frame.columns) == ["symbol", "provider", "provider_symbol", "status", "rows", "start", "end", "message"]
    assert frame["rows"].tolist() == [3, 3, 3, 3]


def test_run_stops_trying_when_the_network_is_unreachable(universe) -> None:
    """Offline: after three connection failures the remaining jobs are not attempted (no retry waits)."""
    import httpx

    from rotation.errors import ConnectionFailedError
    from rotation.sources import RetryPolicy
    from rotation.sources._http import HttpSource

    waits: list[float] = []
    attempts: list[str] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        attempts.append(str(request.url))
        raise httpx.ConnectError("Name or service not known", request=request)

    class Down(HttpSource, Source):
        def __init__(self, name: str) -> None:
            self.name = name  # type: ignore[misc]
            super().__init__(httpx.Client(transport=httpx.MockTransport(refuse)),
                             RetryPolicy(attempts=2, sleep=waits.append))

        def fetch(self, symbol, provider_symbol, start, end):
            self.get(f"https://example.invalid/{provider_symbol}", symbol=provider_symbol)
            raise AssertionError("unreachable")

    srcs = {p: Down(p) for p in ("yahoo", "coinmetrics", "binance", "fred")}
    rep = fetch(Store(":memory:"), universe, end=date(2024, 1, 3), sources=srcs)
    assert [o.status for o in rep.outcomes] == ["failed"] * 4
    assert rep.outcomes[0].connection_failed and "connection failed" in rep.outcomes[0].message
    assert rep.outcomes[3].message == "skipped: the network is unreachable"
    assert len(attempts) == 3 * 2 and len(waits) == 3  # 3 jobs x 2 attempts, one wait each
    with pytest.raises(ConnectionFailedError):
        srcs["yahoo"].get("https://example.invalid/x")
