"""How processes side by side share the cores."""

import os

import pytest

from course.environment import TENSORFLOW_THREADS, share_cores


@pytest.fixture
def clean(monkeypatch):
    for name in TENSORFLOW_THREADS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 8)


@pytest.mark.parametrize(("processes", "share"), [(2, "4"), (3, "2"), (16, "1")])
def test_processes_side_by_side_share_the_cores(clean, processes, share):
    share_cores(processes)
    assert [os.environ[name] for name in TENSORFLOW_THREADS] == [share, share]


def test_one_process_keeps_every_core_and_the_users_choice_wins(clean, monkeypatch):
    share_cores(1)
    assert not any(name in os.environ for name in TENSORFLOW_THREADS)
    monkeypatch.setenv(TENSORFLOW_THREADS[0], "3")
    share_cores(4)
    assert os.environ[TENSORFLOW_THREADS[0]] == "3"
