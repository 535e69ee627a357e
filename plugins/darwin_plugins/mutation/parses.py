"""The mutation generator's parse cache, and work on one key done by one thread at a time."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

import libcst as cst

from .operators import ParsedModule, parse_module


class ParseCache:
    """Recent parses by source hash; a source being parsed is parsed once (the workers' first
    attempts on a new parent wait for one parse)."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self.items: OrderedDict[str, ParsedModule | None] = OrderedDict()
        self.lock = threading.Lock()
        self.flights = Flights()

    def _cached(self, key: str) -> tuple[bool, ParsedModule | None]:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return True, self.items[key]
            return False, None

    def get(self, source: str) -> ParsedModule | None:
        key = hashlib.sha1(source.encode()).hexdigest()
        hit, parsed = self._cached(key)
        if hit:
            return parsed
        with self.flights.one(key):
            hit, parsed = self._cached(key)
            if hit:
                return parsed
            try:
                parsed = parse_module(source)
            except (cst.ParserSyntaxError, RecursionError):
                parsed = None
            with self.lock:
                self.items[key] = parsed
                while len(self.items) > self.size:
                    self.items.popitem(last=False)
            return parsed


class Flights:
    """One lock per key in use: work on a key is done by one thread while the others wait."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.keys: dict[str, tuple[threading.Lock, int]] = {}

    @contextmanager
    def one(self, key: str) -> Iterator[None]:
        with self.lock:
            lock, users = self.keys.get(key, (threading.Lock(), 0))
            self.keys[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self.lock:
                lock, users = self.keys[key]
                if users > 1:
                    self.keys[key] = (lock, users - 1)
                else:
                    del self.keys[key]
