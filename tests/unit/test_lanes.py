"""``routing.lanes.in_lanes``: many engine requests on engines of their own side by side, the
answers in the jobs' order (a fake router: the real engine's lanes are tested with real tiles
in tests/integration/test_track_matching_lanes.py)."""

from __future__ import annotations

import threading
import time

import pytest

from kei_drive.routing.lanes import in_lanes


class _Engine:
    """A router whose ``lanes`` are engines of their own; each answers with its name."""

    def __init__(self, name: str = "shared") -> None:
        self.name = name
        self.made: list[_Engine] = []

    def lanes(self, count: int) -> list[_Engine]:
        self.made = [_Engine(f"lane {k}") for k in range(count)]
        return self.made


class _Server:
    """A router without lanes (a Valhalla server has threads of its own)."""

    name = "server"


def _ask(lane, job: int) -> tuple[int, str, str]:
    time.sleep(0.002 * (job % 3))  # later jobs may finish first
    return job, lane.name, threading.current_thread().name


def test_answers_come_in_the_jobs_order_from_two_engines_of_their_own():
    router = _Engine()
    answers = list(in_lanes(router, _ask, list(range(40)), lanes=2))
    assert [job for job, _, _ in answers] == list(range(40))
    assert {name for _, name, _ in answers} == {"lane 0", "lane 1"}
    assert len({thread for _, _, thread in answers}) == 2
    assert threading.main_thread().name not in {thread for _, _, thread in answers}


@pytest.mark.parametrize(("router", "jobs", "lanes", "min_jobs"), [
    (_Server(), 40, 2, 2),  # no lanes
    (_Engine(), 40, 1, 2),  # one lane asked for
    (_Engine(), 5, 2, 10),  # too few jobs to pay for engines of their own
])  # fmt: skip
def test_without_lanes_each_job_is_asked_of_the_router_itself_in_turn(
    router, jobs, lanes, min_jobs
):
    answers = list(in_lanes(router, _ask, list(range(jobs)), lanes=lanes, min_jobs=min_jobs))
    assert [job for job, _, _ in answers] == list(range(jobs))
    assert {name for _, name, _ in answers} == {router.name}
    assert {thread for _, _, thread in answers} == {threading.current_thread().name}
    assert getattr(router, "made", []) == []


def test_a_failing_job_raises_after_the_answers_before_it():
    def ask(lane, job: int) -> int:
        if job == 7:
            raise ValueError("no road")
        return job

    got: list[int] = []
    with pytest.raises(ValueError, match="no road"):
        for answer in in_lanes(_Engine(), ask, list(range(20)), lanes=2):
            got.append(answer)
    assert got == list(range(7))
