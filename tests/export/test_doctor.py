"""`turnscope doctor` against a real receiver: what works, and what is wrong, plainly."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from tests.export.conftest import PUBLIC, SECRET
from tests.otlp_receiver import OTLPReceiver
from turnscope.cli import main
from turnscope.store import StoreError, open_for_writing

if TYPE_CHECKING:
    from pathlib import Path


def run_doctor(monkeypatch: pytest.MonkeyPatch, **env: str) -> tuple[int, str]:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(main, ["doctor"])
    return result.exit_code, result.output


def test_a_healthy_langfuse_with_the_secret_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    receiver = OTLPReceiver().start()
    try:
        code, output = run_doctor(
            monkeypatch,
            LANGFUSE_PUBLIC_KEY=PUBLIC,
            LANGFUSE_SECRET_KEY=SECRET,
            LANGFUSE_BASE_URL=receiver.url,
        )
    finally:
        receiver.stop()
    assert code == 0, output
    assert "[ok] Langfuse accepted" in output
    assert f"{receiver.url}/api/public/otel/v1/traces" in output
    assert SECRET not in output
    assert "(masked)" in output
    assert receiver.requests[0].path == "/api/public/otel/v1/traces"
    assert "local store: on" in output
    assert "LiveKit's built-in tracing" in output


def test_refused_keys_and_a_wrong_path_are_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    for status, words in ((401, "keys were refused"), (404, "wrong host or path")):
        receiver = OTLPReceiver(status=status).start()
        try:
            code, output = run_doctor(
                monkeypatch,
                LANGFUSE_PUBLIC_KEY=PUBLIC,
                LANGFUSE_SECRET_KEY=SECRET,
                LANGFUSE_BASE_URL=receiver.url,
            )
        finally:
            receiver.stop()
        assert code == 1
        assert f"[!!] Langfuse HTTP {status}" in output
        assert words in output


def test_an_unreachable_otlp_endpoint_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    code, output = run_doctor(
        monkeypatch,
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{free_port}",
        OTEL_EXPORTER_OTLP_HEADERS="authorization=Bearer%20top-secret-token",
    )
    assert code == 1
    assert "[!!] OTLP cannot reach" in output
    assert f"http://127.0.0.1:{free_port}/v1/traces" in output
    assert "top-secret-token" not in output
    assert "otlp_headers           authorization=…oken" in output  # the name, not the secret


def test_every_setting_is_shown_with_where_it_came_from(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from turnscope.config import SETTINGS

    code, output = run_doctor(
        monkeypatch,
        TURNSCOPE_RELEASE="2026.12.1",
        TURNSCOPE_TRACE_PER="call",
        LANGFUSE_TRACING_ENVIRONMENT="staging",
        TURNSCOPE_EMF="stdout",
    )
    assert code == 0, output
    rows = {
        line.split()[0]: line
        for line in output.split("settings (value, and where it came from)\n")[1].splitlines()
        if line.startswith("  ") and not line.startswith("  [")
    }
    assert set(rows) >= {s.name for s in SETTINGS}
    assert rows["release"].split()[1:] == ["2026.12.1", "from", "TURNSCOPE_RELEASE"]
    assert rows["trace_per"].split()[1:] == ["call", "from", "TURNSCOPE_TRACE_PER"]
    assert rows["environment"].split()[1:] == ["staging", "from", "LANGFUSE_TRACING_ENVIRONMENT"]
    assert rows["emf"].split()[1:] == ["stdout", "from", "TURNSCOPE_EMF"]
    assert rows["db_max_mb"].split()[1:] == ["500", "default"]
    assert rows["service_name"].split()[1:] == ["livekit-agent", "default"]
    assert "from TURNSCOPE_DB" in rows["db"]  # the test suite's private store


def test_a_store_path_naming_a_folder_is_said_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TURNSCOPE_DB naming a folder: the agent's store would turn itself off at its first
    write (the reading commands already say it); doctor says it before any call is lost."""
    folder = tmp_path / "calls"
    folder.mkdir()
    code, output = run_doctor(monkeypatch, TURNSCOPE_DB=str(folder))
    assert code == 1
    lines = [line for line in output.splitlines() if str(folder) in line and "[!!]" in line]
    assert lines == [
        f"  [!!] TURNSCOPE_DB: {folder} is a folder; point TURNSCOPE_DB at a file "
        f"(e.g. {folder}/turnscope.db); an agent would run without its local store"
    ]
    assert list(folder.iterdir()) == []  # doctor created nothing there
    with pytest.raises(StoreError, match="is a folder"):  # what the agent's store would meet
        open_for_writing(folder)


def test_a_store_path_naming_a_file_that_is_not_sqlite_is_said_and_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sibling: TURNSCOPE_DB pointing at a `.env` (or any file that is not SQLite)."""
    dotenv = tmp_path / ".env"
    dotenv.write_text("LANGFUSE_SECRET_KEY=sk-lf-EXAMPLE\n")
    code, output = run_doctor(monkeypatch, TURNSCOPE_DB=str(dotenv))
    assert code == 1
    assert (
        f"  [!!] TURNSCOPE_DB: {dotenv} exists and is not a SQLite file; turnscope will not "
        "write into it (point TURNSCOPE_DB at a new file); an agent would run without its "
        "local store"
    ) in output
    assert dotenv.read_text() == "LANGFUSE_SECRET_KEY=sk-lf-EXAMPLE\n"
    assert "sk-lf-EXAMPLE" not in output


def test_a_store_not_created_yet_or_a_real_one_is_fine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = tmp_path / "new" / "turnscope.db"
    code, output = run_doctor(monkeypatch, TURNSCOPE_DB=str(fresh))
    assert code == 0, output
    assert not fresh.parent.exists()  # doctor creates no store
    open_for_writing(fresh).close()
    code, output = run_doctor(monkeypatch, TURNSCOPE_DB=str(fresh))
    assert code == 0, output


@pytest.mark.parametrize("kind", ["folder", "not-sqlite"])
def test_an_unusable_store_is_said_unusable_in_the_header_and_listed_with_the_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """The newcomer's `TURNSCOPE_DB=/tmp/somefolder turnscope doctor`: the header said
    `local store: on, at /tmp/somefolder (size cap 500 MB)` above a warning that an agent
    would run without it, a warning printed among the settings, not under `problems`."""
    path = tmp_path / "calls"
    if kind == "folder":
        path.mkdir()
    else:
        path.write_text("not a store\n")
    code, output = run_doctor(monkeypatch, TURNSCOPE_DB=str(path), TURNSCOPE_DB_MAX_MB="many")
    assert code == 1
    header = output.splitlines()[1]
    assert header == (
        f"  local store: unusable: {path} (see problems below; an agent would run without it)"
    )
    assert "local store: on" not in output
    settings, problems = output.split("\nproblems\n", 1)
    assert "[!!]" not in settings
    listed = [line for line in problems.splitlines() if line.startswith("  [!!]")]
    assert listed[0].startswith("  [!!] TURNSCOPE_DB_MAX_MB='many' is not a number")
    assert listed[1].startswith(f"  [!!] TURNSCOPE_DB: {path} ")
    assert listed[1].endswith("an agent would run without its local store")


def test_a_store_that_is_off_has_no_size_cap_and_a_usable_one_has(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, output = run_doctor(monkeypatch, TURNSCOPE_DB="off")
    assert code == 0, output
    assert output.splitlines()[1] == "  local store: off"
    fresh = tmp_path / "turnscope.db"
    code, output = run_doctor(monkeypatch, TURNSCOPE_DB=str(fresh), TURNSCOPE_DB_MAX_MB="50")
    assert code == 0, output
    assert output.splitlines()[1] == f"  local store: on, at {fresh} (size cap 50 MB)"
    assert "\nproblems\n" not in output


def test_a_price_file_with_a_bad_entry_is_listed_with_the_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text('[[stt]]\nprovider = "x"\n')
    code, output = run_doctor(monkeypatch, TURNSCOPE_PRICES=str(prices))
    assert code == 1
    settings, problems = output.split("\nproblems\n", 1)
    assert "[!!]" not in settings
    assert problems.startswith(f"  [!!] TURNSCOPE_PRICES: {prices}: stt entry 1 (x/?)")
