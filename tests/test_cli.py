"""The `events-app` command."""

from __future__ import annotations

from sqlmodel import func, select

from events_app import cli
from events_app.db import read_session
from events_app.models import Event


def count_events() -> int:
    with read_session() as s:
        return s.exec(select(func.count()).select_from(Event)).one()


def test_seed_if_empty_loads_once(db_url: str, capsys) -> None:
    assert cli.main(["seed", "--if-empty"]) == 0
    loaded = count_events()
    assert loaded >= 25
    assert f"Loaded {loaded} demo event(s)." in capsys.readouterr().out
    assert cli.main(["seed", "--if-empty"]) == 0
    assert "already has events" in capsys.readouterr().out
    assert cli.main(["seed"]) == 0
    assert "Loaded 0 demo event(s)." in capsys.readouterr().out
    assert count_events() == loaded


def test_unknown_command_is_a_usage_error(capsys) -> None:
    import pytest

    with pytest.raises(SystemExit) as exc:
        cli.main(["frobnicate"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
