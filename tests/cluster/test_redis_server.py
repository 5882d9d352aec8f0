"""``RedisServer``: a server that cannot start leaves nothing behind, and its password is
always one redis-server takes as a value."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest

from agentflow.testing.redis_server import RedisServer, RedisServerError


def test_a_server_that_cannot_start_removes_its_data_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[Path] = []
    real = tempfile.TemporaryDirectory

    def recording(*args: Any, **kwargs: Any) -> tempfile.TemporaryDirectory[str]:
        directory = real(*args, **kwargs)
        made.append(Path(directory.name))
        return directory

    monkeypatch.setattr(tempfile, "TemporaryDirectory", recording)
    server = RedisServer(args=("--no-such-directive", "x"), startup_timeout=5)
    with pytest.raises(RedisServerError, match="did not"):
        with server:
            pass
    assert made and not any(path.exists() for path in made)


def test_the_password_never_reads_as_an_option() -> None:
    passwords = {RedisServer().password for _ in range(200)}
    assert len(passwords) == 200
    assert not any(p.startswith("-") for p in passwords)
    assert all(p.isalnum() for p in passwords)
