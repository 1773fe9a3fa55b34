"""Events file: the shipped default holds the checked facts; every kind of mistake names file, line and field."""

from __future__ import annotations

import textwrap
from collections import Counter
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from rotation.errors import ConfigError, ParameterError
from rotation.events import (
    STANDARD_KINDS,
    Event,
    EventSet,
    EventsFileError,
    default_events_path,
    load_events,
)
from rotation.universe import load_universe


def write(tmp_path: Path, text: str, name: str = "events.toml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return p


# ----------------------------------------------------------------------------- the shipped default
def test_default_file_loads_and_names_only_universe_members() -> None:
    events = load_events(universe=load_universe())  # every affects name is an instrument or basket
    assert events.path == default_events_path()
    assert len(events) == 53
    assert set(events.kinds) <= set(STANDARD_KINDS)
    assert all(e.source.startswith("https://") for e in events)
    assert len({e.id for e in events}) == len(events)


def test_default_file_has_every_fomc_meeting_2022_2025() -> None:
    fomc = [e for e in load_events() if e.kind.startswith("fomc_")]
    assert Counter(e.date.year for e in fomc) == {2022: 8, 2023: 8, 2024: 8, 2025: 8}
    kinds = Counter(e.kind for e in fomc)
    assert kinds == {"fomc_hike": 11, "fomc_hold": 15, "fomc_cut": 6}
    hikes = [e.date for e in fomc if e.kind == "fomc_hike"]
    assert hikes[0] == date(2022, 3, 16) and hikes[-1] == date(2023, 7, 26)
    cuts = [e.date.isoformat() for e in fomc if e.kind == "fomc_cut"]
    assert cuts == ["2024-09-18", "2024-11-07", "2024-12-18", "2025-09-17", "2025-10-29", "2025-12-10"]
    assert all(e.affects == ("all",) and e.timing == "open" for e in fomc)
    # statements come out on the second day of the meeting: a Wednesday, except Nov 7, 2024 (Thursday)
    assert {e.date.weekday() for e in fomc if e.date != date(2024, 11, 7)} == {2}


def test_default_file_market_structure_facts() -> None:
    ev = {e.id: e for e in load_events()}
    assert (ev["btc-etf-approval"].date, ev["btc-etf-approval"].timing) == (date(2024, 1, 10), "after_close")
    assert "IBIT" in ev["btc-etf-approval"].affects
    assert ev["btc-etf-launch"].date == date(2024, 1, 11)
    assert (ev["eth-etf-approval"].date, ev["eth-etf-launch"].date) == (date(2024, 5, 23), date(2024, 7, 23))
    assert (ev["halving-2020"].date, ev["halving-2024"].date) == (date(2020, 5, 11), date(2024, 4, 20))
    assert ev["chatgpt-launch"].date == date(2022, 11, 30)
    assert (ev["qt-end"].date, ev["qt-end-effective"].date) == (date(2025, 10, 29), date(2025, 12, 1))
    assert ev["crcl-ipo"].date == date(2025, 6, 5) and "CRCL" in ev["crcl-ipo"].affects
    assert (ev["coin-sp500-announced"].date, ev["coin-sp500-effective"].date) == (date(2025, 5, 12), date(2025, 5, 19))
    assert ev["corz-coreweave-hosting"].date == date(2024, 6, 3)
    assert ev["iren-microsoft"].date == ev["cifr-aws"].date == date(2025, 11, 3)


def test_environment_variable_selects_the_file(tmp_path, monkeypatch, fixtures_dir) -> None:
    monkeypatch.setenv("ROTATION_EVENTS", str(fixtures_dir / "events" / "sample.toml"))
    assert len(load_events()) == 3


# ----------------------------------------------------------------------------- formats
def test_toml_and_csv_give_the_same_events(fixtures_dir) -> None:
    a = load_events(fixtures_dir / "events" / "sample.toml")
    b = load_events(fixtures_dir / "events" / "sample.csv")
    def strip(es):
        return [(e.date, e.label, e.kind, e.affects, e.timing, e.id, e.source, e.notes) for e in es]

    assert strip(a) == strip(b)
    assert a[1].affects == ("crypto_majors", "IBIT") and a[1].timing == "after_close"
    assert a["corz-deal"].notes == "12-year contracts"
    assert a[0].id == "2024-09-18 fomc_cut"  # default id
    assert [e.line for e in a] == [2, 9, 16]
    assert [e.line for e in b] == [2, 3, 4]


def test_event_set_select_and_frame(fixtures_dir) -> None:
    es = load_events(fixtures_dir / "events" / "sample.toml")
    assert [e.kind for e in es.select("deal")] == ["deal"]
    assert len(es.select(start="2024-02-01")) == 2
    assert len(es.select(["fomc_cut", "deal"], end="2024-06-30")) == 1
    with pytest.raises(ParameterError, match="no events of kind fomc_hike"):
        es.select("fomc_hike")
    with pytest.raises(ParameterError, match="start"):
        es.select(start="not a date")
    frame = es.to_frame()
    assert list(frame.columns) == ["id", "date", "kind", "label", "affects", "timing", "source", "notes", "line"]
    assert frame["date"].dtype.kind == "M" and frame["affects"].iloc[1] == ("crypto_majors", "IBIT")
    assert es.names() == {"crypto_majors", "IBIT", "CORZ"}


def test_default_ids_are_unique_on_repeats() -> None:
    a = Event(date=date(2025, 11, 3), label="x", kind="deal", affects=("IREN",))
    b = Event(date=date(2025, 11, 3), label="y", kind="deal", affects=("CIFR",))
    es = EventSet.from_events([a, b])
    assert [e.id for e in es] == ["2025-11-03 deal", "2025-11-03 deal #2"]


# ----------------------------------------------------------------------------- errors
GOOD = """
[[event]]
date = 2024-01-10
label = "approval"
kind = "etf_approval"
affects = ["BTC"]
"""


@pytest.mark.parametrize(
    ("text", "line", "key", "message"),
    [
        (GOOD + 'colour = "red"\n', 6, "event.colour", "unknown field 'colour'"),
        (GOOD.replace('label = "approval"\n', ""), 1, None, "missing 'label'"),
        (GOOD.replace("2024-01-10", '"2024-13-40"'), 2, "event.date", "not a date"),
        (GOOD.replace("2024-01-10", "2024-01-10T16:05:00"), 2, "event.date", "after_close"),
        (GOOD.replace('"etf_approval"', '"ETF approval"'), 4, "event.kind", "invalid kind"),
        (GOOD + 'timing = "close"\n', 6, "event.timing", "not one of open, after_close"),
        (GOOD.replace('["BTC"]', '["all", "BTC"]'), 5, "event.affects", "cannot be combined"),
        (GOOD.replace('["BTC"]', '["BTC", "BTC"]'), 5, "event.affects", "listed twice"),
        (GOOD.replace('["BTC"]', '["B T C"]'), 5, "event.affects", "invalid name"),
        (GOOD.replace('["BTC"]', "[]"), 1, None, "missing 'affects'"),
        (GOOD + GOOD, 7, None, "duplicate event 2024-01-10 etf_approval 'approval' (first at line 1)"),
        (GOOD + 'id = "x"\n' + GOOD + 'id = "x"\n', 8, "event.id", "duplicate id 'x'"),
        ("# nothing here\n", None, None, "defines no events"),
        ("title = 'mine'\n" + GOOD, 1, "title", "unknown top-level key 'title'"),
        (GOOD.replace("kind = ", "kind = = "), 4, None, "malformed TOML"),
    ],
)
def test_toml_errors_name_file_line_and_field(tmp_path, text, line, key, message) -> None:
    path = write(tmp_path, text)
    with pytest.raises(EventsFileError) as info:
        load_events(path)
    err = info.value
    assert isinstance(err, ConfigError)
    assert message in err.message, err.message
    assert err.file == str(path)
    assert err.line == line
    assert err.key == key
    assert str(path) in str(err)


def test_unknown_names_are_errors_against_a_universe(tmp_path) -> None:
    path = write(tmp_path, GOOD.replace('["BTC"]', '["BTC", "crypto_majors", "DOGE"]'))
    with pytest.raises(EventsFileError, match="unknown instrument or basket 'DOGE'") as info:
        load_events(path, universe=load_universe())
    assert info.value.line == 5
    assert len(load_events(path)) == 1  # without a universe names are not checked
    assert len(load_events(path, universe={"BTC", "crypto_majors", "DOGE"})) == 1


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("date,label,kind\n2024-01-10,x,deal\n", 1, "missing column 'affects'"),
        ("date,label,kind,affects,colour\n2024-01-10,x,deal,BTC,red\n", 1, "unknown column 'colour'"),
        ("date,label,kind,affects\n2024-01-10,x,deal,BTC\n2024-02-30,y,deal,BTC\n", 3, "not a date"),
        ("date,label,kind,affects\n2024-01-10,x,deal,BTC,extra\n", 2, "more values than header columns"),
        ("date,label,kind,affects\n2024-01-10,x,deal,\n", 2, "missing 'affects'"),
        ("", 1, "empty CSV"),
    ],
)
def test_csv_errors_name_the_line(tmp_path, text, line, message) -> None:
    path = tmp_path / "events.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(EventsFileError, match=message) as info:
        load_events(path)
    assert info.value.line == line


def test_csv_affects_accepts_separators_and_all(tmp_path) -> None:
    path = tmp_path / "e.csv"
    path.write_text('date,label,kind,affects\n2024-01-10,x,deal,"BTC; ETH , SOL"\n2024-01-11,y,deal,all\n\n')
    es = load_events(path)
    assert es[0].affects == ("BTC", "ETH", "SOL") and es[1].affects == ("all",) and es[1].affects_all


def test_file_problems(tmp_path) -> None:
    with pytest.raises(EventsFileError, match="not found"):
        load_events(tmp_path / "missing.toml")
    other = tmp_path / "events.json"
    other.write_text("{}")
    with pytest.raises(EventsFileError, match="use .toml or .csv"):
        load_events(other)


def test_events_frame_round_trip(fixtures_dir) -> None:
    frame = load_events(fixtures_dir / "events" / "sample.csv").to_frame()
    assert isinstance(frame, pd.DataFrame) and len(frame) == 3
    assert frame.loc[2, "id"] == "corz-deal"
