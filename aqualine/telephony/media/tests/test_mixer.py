"""Who hears whom: the connection sets, and mixing them frame by frame (no sockets)."""

from __future__ import annotations

import numpy as np
import pytest

from aqualine.telephony.media.mixer import Connections, MixPlan
from aqualine.telephony.media.tests.audio_checks import heard
from aqualine.telephony.testing.audio import frames_with_tone, tone

CALLER, AGENT, SUPERVISOR = 440.0, 1000.0, 700.0
TONES = (CALLER, AGENT, SUPERVISOR)


def mix(connections: Connections[int], seconds: float = 1.0) -> dict[int, np.ndarray]:
    """Run the plan of ``connections`` over parties 0, 1, 2 saying TONES[i]; what each hears."""
    sources = np.stack([tone(freq, seconds, amplitude=0.3) for freq in TONES])
    frames = sources.reshape(3, -1, 160)
    hears = {d: list(s) for d, s in connections.items()}
    plan = MixPlan(hears, 3)
    out = np.zeros((3, 160), dtype=np.int16)
    played = []
    for index in range(frames.shape[1]):
        plan.apply(frames[:, index], out)
        played.append(out.copy())
    audio = np.stack(played, axis=1).reshape(3, -1)
    return {party: audio[party] for party in range(3)}


def test_in_a_three_party_conference_each_hears_exactly_the_other_two() -> None:
    connections: Connections[int] = Connections()
    connections.conference([0, 1, 2])
    audio = mix(connections)
    assert heard(audio[0], TONES) == {AGENT, SUPERVISOR}
    assert heard(audio[1], TONES) == {CALLER, SUPERVISOR}
    assert heard(audio[2], TONES) == {CALLER, AGENT}


def test_a_bridge_is_each_hearing_the_other() -> None:
    connections: Connections[int] = Connections()
    connections.bridge(0, 1)
    audio = mix(connections)
    assert frames_with_tone(audio[0], AGENT) == 1.0
    assert frames_with_tone(audio[1], CALLER) == 1.0
    assert heard(audio[2], TONES) == set()  # the third party is in no call
    assert not audio[2].any()


def test_a_listening_supervisor_hears_both_and_nobody_hears_them() -> None:
    connections: Connections[int] = Connections()
    connections.bridge(0, 1)
    connections.listen(2, [0, 1])
    audio = mix(connections)
    assert heard(audio[0], TONES) == {AGENT}
    assert heard(audio[1], TONES) == {CALLER}
    assert heard(audio[2], TONES) == {CALLER, AGENT}


def test_a_whispering_supervisor_is_heard_by_the_agent_only() -> None:
    connections: Connections[int] = Connections()
    connections.bridge(0, 1)
    connections.whisper(2, 1, [0])
    audio = mix(connections)
    assert heard(audio[0], TONES) == {AGENT}
    assert heard(audio[1], TONES) == {CALLER, SUPERVISOR}
    assert heard(audio[2], TONES) == {CALLER, AGENT}


def test_a_barging_supervisor_makes_it_a_conference() -> None:
    connections: Connections[int] = Connections()
    connections.bridge(0, 1)
    connections.barge(2, [0, 1])
    audio = mix(connections)
    assert heard(audio[0], TONES) == {AGENT, SUPERVISOR}
    assert heard(audio[1], TONES) == {CALLER, SUPERVISOR}
    assert heard(audio[2], TONES) == {CALLER, AGENT}


def test_isolating_a_party_removes_every_edge_to_and_from_it() -> None:
    connections: Connections[int] = Connections()
    connections.conference([0, 1, 2])
    connections.isolate(2)
    assert connections.sources_of(2) == frozenset()
    assert connections.listeners_of(2) == frozenset()
    assert connections.sources_of(0) == {1}
    audio = mix(connections)
    assert heard(audio[0], TONES) == {AGENT}
    assert not audio[2].any()


def test_nobody_hears_themselves() -> None:
    connections: Connections[int] = Connections()
    with pytest.raises(ValueError):
        connections.connect(1, 1)
    connections.conference([0, 0, 1])
    assert connections.sources_of(0) == {1}
    assert len(connections) == 2


def test_connections_count_changes_so_a_stale_plan_is_known() -> None:
    connections: Connections[int] = Connections()
    before = connections.version
    connections.bridge(0, 1)
    assert connections.version > before
    same = connections.version
    connections.bridge(0, 1)
    connections.disconnect(5, 6)
    assert connections.version == same


def test_sums_are_clipped_not_wrapped() -> None:
    loud = np.full((3, 160), 30000, dtype=np.int16)
    loud[2] = -30000
    out = np.zeros((3, 160), dtype=np.int16)
    MixPlan({0: [1, 2], 1: [0, 2], 2: [0, 1]}, 3).apply(loud, out)
    assert (out[0] == 0).all()  # 30000 - 30000
    assert (out[2] == 32767).all()  # 60000, clipped
    MixPlan({0: [1, 2]}, 3).apply(-loud, out)
    assert (out[0] == 0).all()
    MixPlan({0: [1], 1: [0]}, 3).apply(np.full((3, 160), -32768, dtype=np.int16) // 2 * 2, out)
    assert (out[2] == 0).all()  # a destination that hears nobody is silent


def test_plan_groups_destinations_by_how_many_they_hear() -> None:
    plan = MixPlan({0: [1], 1: [0], 2: [0, 1], 3: [0, 1, 2], 5: []}, 6)
    assert [group.width for group in plan.groups] == [1, 2, 3]
    assert plan.edges == 1 + 1 + 2 + 3
    assert plan.silent.tolist() == [4, 5]
    with pytest.raises(ValueError):
        MixPlan({9: [0]}, 6)
