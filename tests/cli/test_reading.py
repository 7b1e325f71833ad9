"""The reading commands over real stores: calls, the shared filters, several stores at
once, trends, and budgets on cost and rates with units required."""

from __future__ import annotations

import json
import re
import time
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from tests.report.stores import store_as
from turnscope.cli import main

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import SimulationCache

DAY = 86400.0


@pytest.fixture(scope="module")
def stores(
    tmp_path_factory: pytest.TempPathFactory, simulations: SimulationCache
) -> dict[str, Path]:
    """Two stores: 'a' with three calls (one ten days old), 'b' with one (another host)."""
    folder = tmp_path_factory.mktemp("reading")
    a, b = folder / "a.db", folder / "b.db"
    basic = simulations.recorded("basic")
    errors = simulations.recorded("errors")
    bargein = simulations.recorded("bargein")
    store_as(a, basic, "call-old", shift=-10 * DAY, user_id="alice", tags=("prod",))
    store_as(a, errors, "call-err", user_id="bob", tags=("prod", "eu"), session_id="sess-bob")
    store_as(a, bargein, "call-barge", user_id="alice", tags=("staging",))
    store_as(b, basic, "call-b", user_id="carol", tags=("prod",))
    return {"a": a, "b": b}


def _json(args: list[str]) -> dict:  # type: ignore[type-arg]
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def test_calls_lists_newest_first_with_the_figures_per_call(stores: dict[str, Path]) -> None:
    data = _json(["calls", "--db", str(stores["a"])])
    assert data["schema"] == "turnscope.calls/1"
    ids = [c["call_id"] for c in data["calls"]]
    assert ids[-1] == "call-old"  # ten days older than the others
    err = next(c for c in data["calls"] if c["call_id"] == "call-err")
    assert err["errors"] == 2
    assert err["user_id"] == "bob"
    assert err["turns"] == 3
    assert err["e2e_p95"] >= err["e2e_p50"] > 0
    assert err["e2e_max"] >= err["e2e_p95"]
    assert isinstance(err["worst_turn"], int)
    assert err["cost_usd"] > 0
    barge = next(c for c in data["calls"] if c["call_id"] == "call-barge")
    assert barge["interruptions"] >= 1
    text = CliRunner().invoke(main, ["calls", "--db", str(stores["a"])], env={"COLUMNS": "80"})
    assert text.exit_code == 0
    assert all(len(line) <= 80 for line in text.output.splitlines())
    assert "session sess-bob" in text.output


@pytest.mark.parametrize("length", [185, 3725])
def test_a_calls_start_and_length_stay_on_one_line_at_80_columns(
    stores: dict[str, Path], tmp_path: Path, length: int
) -> None:
    """Real calls last minutes: '2026-12-06 23:19 · 185s' must not fold mid-date at 80
    columns (the text columns fold, never the call's when and how long)."""
    import shutil
    import sqlite3

    copy = tmp_path / "long.db"
    shutil.copy(stores["a"], copy)
    with sqlite3.connect(copy) as db:
        db.execute("UPDATE calls SET ended_at = started_at + ? ", (length,))
    text = CliRunner().invoke(main, ["calls", "--db", str(copy)], env={"COLUMNS": "80"})
    assert text.exit_code == 0
    starts = [line for line in text.output.splitlines() if f" · {length}s " in line]
    assert len(starts) == 3, text.output  # one unbroken line per call
    assert all(re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d · ", line) for line in starts)
    assert all(len(line) <= 80 for line in text.output.splitlines())


@pytest.mark.parametrize(
    ("sort", "key"),
    [("errors", "errors"), ("turns", "turns"), ("cost", "cost_usd"), ("e2e", "e2e_p95")],
)
def test_calls_sort_largest_first(stores: dict[str, Path], sort: str, key: str) -> None:
    calls = _json(["calls", "--db", str(stores["a"]), "--sort", sort])["calls"]
    values = [c[key] for c in calls]
    assert values == sorted(values, reverse=True)
    assert len(_json(["calls", "--db", str(stores["a"]), "--limit", "1"])["calls"]) == 1


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (["--user", "alice"], {"call-old", "call-barge"}),
        (["--user", "alice", "--user", "bob"], {"call-old", "call-barge", "call-err"}),
        (["--tag", "prod"], {"call-old", "call-err"}),
        (["--tag", "prod", "--tag", "eu"], {"call-err"}),
        (["--session", "sess-bob"], {"call-err"}),
        (["--since", "2d"], {"call-err", "call-barge"}),
        (["--until", "2d"], {"call-old"}),
        (["--agent", "scripted_agent"], {"call-old", "call-err", "call-barge"}),
        (["--agent", "nobody"], set()),
    ],
)
def test_filters_choose_the_same_calls_in_every_command(
    stores: dict[str, Path], filters: list[str], expected: set[str]
) -> None:
    db = ["--db", str(stores["a"])]
    listed = {c["call_id"] for c in _json(["calls", *db, *filters])["calls"]}
    assert listed == expected
    if not expected:
        return
    reported = _json(["report", *db, *filters])
    assert {c["call_id"] for c in reported["calls"]} == expected
    summary = _json(["report", "--summary", *db, *filters])
    assert summary["totals"]["calls"] == len(expected)
    check = _json(["check", *db, *filters, "--budget", "max(e2e)<=60s"])
    turns = sum(1 for t in reported["turns"] if t["e2e"] is not None)
    assert check["budgets"][0]["count"] == turns


def test_absolute_times_and_bad_filters(stores: dict[str, Path]) -> None:
    today = time.strftime("%Y-%m-%d", time.localtime(time.time() - DAY))
    listed = _json(["calls", "--db", str(stores["a"]), "--since", today])["calls"]
    assert {c["call_id"] for c in listed} == {"call-err", "call-barge"}
    bad = CliRunner().invoke(main, ["calls", "--db", str(stores["a"]), "--since", "yesterday"])
    assert bad.exit_code == 2
    assert "cannot read time 'yesterday'" in bad.output
    assert bad.output.count("\n") == 1


def test_call_by_session_id_or_prefix(stores: dict[str, Path]) -> None:
    db = ["--db", str(stores["a"])]
    assert _json(["report", *db, "--call", "sess-bob"])["calls"][0]["call_id"] == "call-err"
    assert _json(["report", *db, "--call", "call-ba"])["calls"][0]["call_id"] == "call-barge"
    several = CliRunner().invoke(main, ["report", *db, "--call", "call-"])
    assert several.exit_code == 2
    assert "'call-' is the call id prefix of 3 calls: call-old (" in several.output
    assert "call-err (" in several.output
    assert "call-barge (" in several.output
    missing = CliRunner().invoke(main, ["report", *db, "--call", "nobody"])
    assert missing.exit_code == 1
    assert "no call 'nobody' in the store" in missing.output


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_call_names_no_call(stores: dict[str, Path], value: str) -> None:
    """The newcomer's input: `--call ''` matched every call as an id prefix."""
    result = CliRunner().invoke(main, ["report", "--db", str(stores["a"]), "--call", value])
    assert result.exit_code == 1
    assert result.output == (
        "turnscope: --call is empty: give a call id, session id, room name or id prefix\n"
    )


@pytest.mark.parametrize(
    ("command", "beside"),
    [(["report", "--last", "2"], "--last"), (["check", "--budget", "p95(e2e)<=9s",
      "--since", "7d"], "a filter"), (["report", "--user", "bob"], "a filter")],
)  # fmt: skip
def test_one_call_and_a_selection_beside_it_are_refused(
    stores: dict[str, Path], command: list[str], beside: str
) -> None:
    """The newcomer's input: `report --call X --last 2` showed X and ignored --last."""
    args = [*command, "--db", str(stores["a"]), "--call", "call-err"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert f"--call names one call: {beside} does not apply to it" in result.output


@pytest.fixture(scope="module")
def rooms(tmp_path_factory: pytest.TempPathFactory, simulations: SimulationCache) -> Path:
    """Calls in LiveKit rooms: 'lobby' twice (a room reused), 'desk-3' once; 'call-s' has
    another call's id as its session id; 'call-m' only a ``room`` in its metadata."""
    db = tmp_path_factory.mktemp("rooms") / "rooms.db"
    basic = simulations.recorded("basic")
    store_as(db, basic, "call-l1", shift=-3600, room="lobby")
    store_as(db, basic, "call-l2", room="lobby")
    store_as(db, basic, "call-d", room="desk-3")
    store_as(db, basic, "call-s", session_id="call-d", room="desk-4")
    store_as(db, basic, "call-m", metadata={"room": "hall"})
    return db


def test_call_by_room_name(rooms: Path) -> None:
    db = ["--db", str(rooms)]
    reported = _json(["report", *db, "--call", "desk-4"])
    (call,) = reported["calls"]
    assert (call["call_id"], call["room"]) == ("call-s", "desk-4")
    assert _json(["report", *db, "--call", "hall"])["calls"][0]["call_id"] == "call-m"
    check = _json(["check", *db, "--call", "desk-4", "--budget", "max(e2e)<=60s"])
    timed = [t for t in reported["turns"] if t["e2e"] is not None]
    assert timed
    assert check["budgets"][0]["count"] == len(timed)
    listed = {c["call_id"]: c["room"] for c in _json(["calls", *db])["calls"]}
    assert listed == {
        "call-l1": "lobby", "call-l2": "lobby", "call-d": "desk-3", "call-s": "desk-4",
        "call-m": None,
    }  # fmt: skip
    text = CliRunner().invoke(main, ["calls", *db], env={"COLUMNS": "80"})
    assert "room desk-3" in text.output


def test_a_room_shared_by_two_calls_is_refused_with_both_listed(rooms: Path) -> None:
    for command in (["report"], ["report", "--summary"], ["check", "--budget", "max(e2e)<=60s"]):
        result = CliRunner().invoke(main, [*command, "--db", str(rooms), "--call", "lobby"])
        assert result.exit_code == 2, result.output
        (line,) = result.output.splitlines()
        assert line.startswith("turnscope: 'lobby' is the room of 2 calls: call-l1 (")
        assert line.index("call-l1") < line.index("call-l2")  # oldest first
        assert line.endswith("give one call id with --call")


def test_a_session_of_many_calls_lists_ten_and_counts_the_rest(
    tmp_path: Path, simulations: SimulationCache
) -> None:
    db = tmp_path / "many.db"
    for n in range(12):
        store_as(db, simulations.recorded("basic"), f"call-{n:02}", session_id="shared",
                 shift=n - 12)  # fmt: skip
    result = CliRunner().invoke(main, ["report", "--db", str(db), "--call", "shared"])
    assert result.exit_code == 2
    assert "'shared' is the session id of 12 calls: call-00 (" in result.output
    assert "call-09 (" in result.output
    assert "call-10" not in result.output
    assert "and 2 more; give one call id with --call" in result.output


def test_a_call_id_wins_over_the_same_value_as_another_calls_session(rooms: Path) -> None:
    """'call-d' is call-d's id and call-s's session id: the id is tried first."""
    (call,) = _json(["report", "--db", str(rooms), "--call", "call-d"])["calls"]
    assert call["call_id"] == "call-d"
    assert call["room"] == "desk-3"


def test_a_store_from_before_rooms_is_read_as_it_is(rooms: Path, tmp_path: Path) -> None:
    """A store an older turnscope wrote (schema 8: no room column) is read without migrating:
    the calls list and --call work, a room from the metadata still finds its call."""
    import sqlite3

    older = tmp_path / "older.db"
    older.write_bytes(rooms.read_bytes())
    raw = sqlite3.connect(older)
    raw.execute("ALTER TABLE calls DROP COLUMN room")
    raw.execute("DELETE FROM schema_migrations WHERE version = 9")
    raw.commit()
    raw.close()
    db = ["--db", str(older)]
    assert {c["room"] for c in _json(["calls", *db])["calls"]} == {None}
    assert _json(["report", *db, "--call", "hall"])["calls"][0]["call_id"] == "call-m"
    assert _json(["report", *db, "--call", "call-l2"])["calls"][0]["room"] is None
    gone = CliRunner().invoke(main, ["report", *db, "--call", "lobby"])
    assert gone.exit_code == 1  # that store never knew the room
    both = _json(["calls", *db, "--db", str(_renamed(rooms, tmp_path))])["calls"]
    assert {c["room"] for c in both} == {None, "lobby", "desk-3", "desk-4"}


def _renamed(db: Path, folder: Path) -> Path:
    """A copy of ``db`` whose call ids are new (another host's calls)."""
    import sqlite3

    copy = folder / "renamed.db"
    copy.write_bytes(db.read_bytes())
    raw = sqlite3.connect(copy)
    for table in ("calls", "turns", "components", "events"):
        raw.execute(f"UPDATE {table} SET call_id = 'x-' || call_id")
    raw.commit()
    raw.close()
    return copy


def test_several_stores_read_as_one(stores: dict[str, Path]) -> None:
    both = ["--db", str(stores["a"]), "--db", str(stores["b"])]
    listed = {c["call_id"] for c in _json(["calls", *both])["calls"]}
    assert listed == {"call-old", "call-err", "call-barge", "call-b"}
    summary = _json(["report", "--summary", *both])
    one = _json(["report", "--summary", "--db", str(stores["a"])])
    other = _json(["report", "--summary", "--db", str(stores["b"])])
    for metric in ("e2e", "llm_ttft"):
        assert (
            summary["percentiles"][metric]["count"]
            == one["percentiles"][metric]["count"] + other["percentiles"][metric]["count"]
        )
    assert summary["totals"]["calls"] == 4
    check = _json(["check", *both, "--budget", "max(e2e)<=60s"])
    assert check["budgets"][0]["count"] == summary["percentiles"]["e2e"]["count"]
    twice = CliRunner().invoke(main, ["calls", "--db", str(stores["a"]), "--db", str(stores["a"])])
    assert twice.exit_code == 0  # the same file twice is read once


def test_several_stores_use_histograms_only_where_all_keep_them(
    stores: dict[str, Path], tmp_path: Path
) -> None:
    """A store whose e2e histogram was built by another definition (an older turnscope):
    the union reads e2e from the values, every other metric from the histograms."""
    import sqlite3

    from turnscope.report.queries import exact_distributions, histogram_distributions
    from turnscope.store import histograms
    from turnscope.store.union import open_union

    older = tmp_path / "older.db"
    older.write_bytes(stores["b"].read_bytes())
    raw = sqlite3.connect(older)
    raw.execute("UPDATE histogram_metrics SET definition = 'older' WHERE metric = 'e2e'")
    raw.execute("UPDATE histograms SET count = count * 100 WHERE metric = 'e2e'")  # stale
    raw.commit()
    raw.close()
    union = open_union([stores["a"], older])
    kept = histograms.kept(union)
    assert "e2e" not in kept
    assert "llm_ttft" in kept
    exact = exact_distributions(union, None, ["e2e", "llm_ttft"])
    fast = histogram_distributions(union, ["llm_ttft"])
    assert fast["llm_ttft"].count == exact["llm_ttft"].count
    summary = _json(["report", "--summary", "--db", str(stores["a"]), "--db", str(older)])
    assert summary["percentiles"]["e2e"]["count"] == exact["e2e"].count


def test_a_copied_store_is_refused_rather_than_counted_twice(
    stores: dict[str, Path], tmp_path: Path
) -> None:
    copy = tmp_path / "copy.db"
    copy.write_bytes(stores["b"].read_bytes())
    result = CliRunner().invoke(main, ["calls", "--db", str(stores["b"]), "--db", str(copy)])
    assert result.exit_code == 1
    assert "call-b" in result.output
    assert "more than one of the stores" in result.output


def test_trend_per_day(stores: dict[str, Path]) -> None:
    data = _json(["report", "--trend", "day", "--db", str(stores["a"])])
    assert data["schema"] == "turnscope.trend/1"
    periods = data["periods"]
    assert [p["calls"] for p in periods] == [1, 2]  # ten days ago; today
    today = periods[-1]
    recent = _json(["report", "--db", str(stores["a"]), "--since", "2d"])["turns"]
    assert today["turns"] == len(recent)
    assert today["error_rate"] == pytest.approx(sum(t["errors"] > 0 for t in recent) / len(recent))
    assert 0 < today["error_rate"] < 1
    assert today["e2e_p95"] >= today["e2e_p50"]
    text = CliRunner().invoke(
        main, ["report", "--trend", "hour", "--db", str(stores["a"])], env={"COLUMNS": "80"}
    )
    assert text.exit_code == 0
    assert "p95" in text.output
    assert "…" not in text.output  # nothing cut at 80 columns


def test_budgets_on_cost_and_rates(stores: dict[str, Path]) -> None:
    db = ["--db", str(stores["a"])]
    data = _json(
        ["check", *db, "--budget", "p95(call_cost)<=$100", "--budget", "error_rate<=100%",
         "--budget", "interruption_rate<=100%"]
    )  # fmt: skip
    assert data["failed"] == 0
    cost, errors, interruptions = data["budgets"]
    assert cost["count"] == 3
    assert cost["unit"] == "$"
    reported = _json(["report", *db, "--last", "3"])
    turns = reported["turns"]
    assert errors["measured"] == pytest.approx(sum(t["errors"] > 0 for t in turns) / len(turns))
    replies = [t for t in turns if t["agent_started_at"] is not None]
    assert interruptions["measured"] == pytest.approx(
        sum(t["interrupted"] for t in replies) / len(replies)
    )
    strict = CliRunner().invoke(main, ["check", *db, "--budget", "error_rate<1%"])
    assert strict.exit_code == 1
    assert "FAIL  error_rate<1%" in strict.output


@pytest.mark.parametrize(
    ("budget", "suggestion"),
    [
        ("p95(e2e)<=1500", "'p95(e2e)<=1.5s' or 'p95(e2e)<=1500ms'"),
        ("max(llm_ttft)<0.8", "'max(llm_ttft)<0.8s' or 'max(llm_ttft)<800ms'"),
        ("p95(call_cost)<=0.05", "'p95(call_cost)<=$0.05'"),
        ("error_rate<=0.02", "'error_rate<=2%'"),
        ("interruption_rate<10", "'interruption_rate<10%'"),
    ],
)
def test_a_limit_without_unit_is_refused_with_the_fix(
    stores: dict[str, Path], budget: str, suggestion: str
) -> None:
    result = CliRunner().invoke(main, ["check", "--db", str(stores["a"]), "--budget", budget])
    assert result.exit_code == 2
    assert "has no unit" in result.output
    assert suggestion in result.output
    assert result.output.count("\n") == 1


@pytest.mark.parametrize(
    "budget", ["p95(e2e)<=5%", "p95(call_cost)<=5ms", "p95(error_rate)<2%", "e2e<1s"]
)
def test_a_limit_in_the_wrong_unit_is_refused(stores: dict[str, Path], budget: str) -> None:
    result = CliRunner().invoke(main, ["check", "--db", str(stores["a"]), "--budget", budget])
    assert result.exit_code == 2, result.output


def _old_store(path: Path, simulations: SimulationCache, version: int) -> None:
    """A store as turnscope wrote it at schema ``version``: today's store of a real call,
    rebuilt through the first ``version`` migrations with the columns that existed then."""
    import sqlite3

    from turnscope.store.migrations import MIGRATIONS

    today = path.with_name("today.db")
    store_as(today, simulations.recorded("basic"), "call-old-format", user_id="dana")
    old = sqlite3.connect(path, isolation_level=None)
    old.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at REAL)")
    for number, script in enumerate(MIGRATIONS[:version], start=1):
        for statement in script.split(";\n"):
            if statement.strip():
                old.execute(statement)
        old.execute("INSERT INTO schema_migrations VALUES (?, 0)", (number,))
    old.execute("ATTACH DATABASE ? AS today", (str(today),))
    for table in ("calls", "turns", "components", "events"):
        columns = [row[1] for row in old.execute(f"PRAGMA main.table_info({table})")]
        names = ", ".join(columns)
        old.execute(f"INSERT INTO main.{table} ({names}) SELECT {names} FROM today.{table}")
    old.execute("DETACH DATABASE today")
    old.close()
    today.unlink()


@pytest.mark.parametrize("version", [1, 5])
def test_a_store_an_older_turnscope_wrote_is_upgraded_and_read(
    tmp_path: Path, simulations: SimulationCache, version: int
) -> None:
    """After upgrading turnscope, last month's store still reads: every reading command
    upgrades it in place (once) rather than failing on a column added since."""
    old = tmp_path / "old.db"
    _old_store(old, simulations, version)
    report = CliRunner().invoke(main, ["report", "--db", str(old)])
    assert report.exit_code == 0, report.output
    assert "call call-old-for" in report.output
    assert "user dana" in report.output
    calls = _json(["calls", "--db", str(old)])["calls"]
    assert [c["call_id"] for c in calls] == ["call-old-format"]
    assert calls[0]["turns"] == 4


def test_an_old_store_and_a_new_one_read_together(
    tmp_path: Path, simulations: SimulationCache, stores: dict[str, Path]
) -> None:
    old = tmp_path / "old.db"
    _old_store(old, simulations, 5)
    calls = _json(["calls", "--db", str(old), "--db", str(stores["b"])])["calls"]
    assert sorted(c["call_id"] for c in calls) == ["call-b", "call-old-format"]


def test_a_folder_named_as_the_store_is_said_to_be_a_folder(tmp_path: Path) -> None:
    """Not "no turnscope store at …, or set TURNSCOPE_DB" to a user who set it, to a folder
    (``--db FOLDER`` is refused by the option itself: "is a directory", exit 2)."""
    folder = tmp_path / "stores"
    folder.mkdir()
    result = CliRunner().invoke(main, ["report"], env={"TURNSCOPE_DB": str(folder)})
    assert result.exit_code == 1
    assert f"{folder} is a folder; name the store's file (e.g. {folder}/turnscope.db)" in (
        result.output
    )
    option = CliRunner().invoke(main, ["calls", "--db", str(folder)])
    assert option.exit_code == 2
    assert "is a directory" in option.output
