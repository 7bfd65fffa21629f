"""Who hears whom, and mixing one tick of it in a few vectorised steps.

:class:`Connections` is the directed "hears" relation between nodes (leg ids): ``connect(a, b)``
means *b hears a*. A two-party bridge, an N-party conference, a supervisor listening, whispering
or barging in are all just different sets of edges:

============  ============================================================================
bridge(a, b)  a hears b, b hears a
conference    every member hears every other member, never itself
listen(s, …)  s hears each of the talkers; nobody hears s
whisper(s, b) s hears b (and the talkers given); only b hears s
barge(s, …)   s joins the talkers in a conference
============  ============================================================================

:class:`MixPlan` turns "destination row ← source rows" into index arrays, grouped by how many
sources a destination has. One tick of mixing is then, per group, one gather of the source rows
and (for more than one source) one sum in int32 with clipping back to int16: cost grows with
the number of edges, not with the square of the number of legs as a dense mix matrix would
(2.3 ms a tick at 400 legs, measured). Two-party calls are all in the one-source group: a
single ``take``.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

import numpy as np
import numpy.typing as npt

Node = TypeVar("Node", bound=Hashable)
Ints = npt.NDArray[np.int64]
Frames = npt.NDArray[np.int16]

_INT16_MIN: Final = -32768
_INT16_MAX: Final = 32767


class Connections(Generic[Node]):
    """The directed "hears" relation between nodes. Self-edges are refused."""

    def __init__(self) -> None:
        self._sources: dict[Node, set[Node]] = {}
        self.version = 0
        """Bumped on every change, so that a plan built from an older version is known stale."""

    # --- edges ---------------------------------------------------------------------------

    def connect(self, source: Node, destination: Node) -> None:
        """``destination`` hears ``source``."""
        if source == destination:
            raise ValueError("a party never hears itself")
        heard = self._sources.setdefault(destination, set())
        if source not in heard:
            heard.add(source)
            self.version += 1

    def disconnect(self, source: Node, destination: Node) -> None:
        heard = self._sources.get(destination)
        if heard is not None and source in heard:
            heard.discard(source)
            if not heard:
                del self._sources[destination]
            self.version += 1

    def isolate(self, node: Node) -> None:
        """Remove every edge to and from ``node``."""
        changed = self._sources.pop(node, None) is not None
        for destination in [d for d, heard in self._sources.items() if node in heard]:
            self._sources[destination].discard(node)
            if not self._sources[destination]:
                del self._sources[destination]
            changed = True
        if changed:
            self.version += 1

    def sources_of(self, destination: Node) -> frozenset[Node]:
        return frozenset(self._sources.get(destination, ()))

    def listeners_of(self, source: Node) -> frozenset[Node]:
        return frozenset(d for d, heard in self._sources.items() if source in heard)

    def items(self) -> Iterable[tuple[Node, frozenset[Node]]]:
        for destination, heard in self._sources.items():
            yield destination, frozenset(heard)

    def __len__(self) -> int:
        return sum(len(heard) for heard in self._sources.values())

    # --- shapes of calls -----------------------------------------------------------------

    def bridge(self, a: Node, b: Node) -> None:
        """A two-party call: each hears the other."""
        self.connect(a, b)
        self.connect(b, a)

    def conference(self, members: Iterable[Node]) -> None:
        """Each member hears every other member (edges already there are kept)."""
        people = list(dict.fromkeys(members))
        for destination in people:
            for source in people:
                if source != destination:
                    self.connect(source, destination)

    def listen(self, listener: Node, talkers: Iterable[Node]) -> None:
        """``listener`` hears the talkers; nobody hears the listener."""
        for talker in talkers:
            self.connect(talker, listener)

    def whisper(self, whisperer: Node, to: Node, talkers: Iterable[Node] = ()) -> None:
        """``whisperer`` hears ``to`` and the talkers; only ``to`` hears the whisperer."""
        self.connect(to, whisperer)
        self.listen(whisperer, talkers)
        self.connect(whisperer, to)

    def barge(self, joiner: Node, talkers: Iterable[Node]) -> None:
        """``joiner`` joins the talkers: everybody hears everybody else."""
        self.conference([*talkers, joiner])


@dataclass(frozen=True)
class MixGroup:
    """Destinations that each hear ``width`` sources: ``sources`` has shape (n, width)."""

    destinations: Ints
    sources: Ints

    @property
    def width(self) -> int:
        return int(self.sources.shape[1])


class MixPlan:
    """Index arrays for one configuration of "destination row hears source rows"."""

    def __init__(self, hears: Mapping[int, Collection[int]], destination_rows: int) -> None:
        by_width: dict[int, tuple[list[int], list[list[int]]]] = {}
        heard_by: set[int] = set()
        for destination, sources in hears.items():
            if not 0 <= destination < destination_rows:
                raise ValueError(f"destination row {destination} out of range")
            unique = sorted(set(sources))
            if not unique:
                continue
            heard_by.add(destination)
            destinations, rows = by_width.setdefault(len(unique), ([], []))
            destinations.append(destination)
            rows.append(unique)
        self.groups: tuple[MixGroup, ...] = tuple(
            MixGroup(np.array(destinations, dtype=np.int64), np.array(rows, dtype=np.int64))
            for _, (destinations, rows) in sorted(by_width.items())
        )
        self.silent: Ints = np.array(
            sorted(set(range(destination_rows)) - heard_by), dtype=np.int64
        )
        self.destination_rows = destination_rows

    @property
    def edges(self) -> int:
        return sum(group.sources.size for group in self.groups)

    def apply(self, sources: Frames, out: Frames) -> None:
        """Mix: ``out[d] = clip(sum of sources[s] that d hears)``; silence where none."""
        if len(out) < self.destination_rows:
            raise ValueError("the output has fewer rows than the plan")
        for group in self.groups:
            if group.width == 1:
                out[group.destinations] = sources[group.sources[:, 0]]
            else:
                total = sources[group.sources].sum(axis=1, dtype=np.int32)
                np.clip(total, _INT16_MIN, _INT16_MAX, out=total)
                out[group.destinations] = total
        if len(self.silent):
            out[self.silent] = 0
