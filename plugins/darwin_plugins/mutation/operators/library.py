"""Ingredients from the builtin API: methods the file never calls (PraPR's method replacement,
PAR's / TBar's "missing method call" with the standard library as the ingredient source).

* ``method_swap``: a called method to a sibling of the same builtin type that accepts the call's
  arguments (``lstrip(p)`` to ``removeprefix(p)``, ``find`` to ``rfind``, ``append`` to
  ``extend``, ``get`` to ``setdefault``...: :data:`SIBLINGS`, :data:`ARITY`); the ``attribute``
  family keeps its own confusions (a duplicate mutant is skipped), this gives them a weight of
  their own and adds the siblings no file calls;
* ``transform``: a string-valued expression given a no-argument transform (``x`` to
  ``x.upper()``, ``.lower()``, ``.strip()``: :data:`TRANSFORMS`) where the type is evident: a
  subscript of a string name, a string method's result, a name bound to a string (a literal, a
  string method's result, a loop over ``.split()`` or over a string name) or one a string-only
  method is called on. Names compared or passed as arguments are ``method_call``'s already.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from .templates import method_call

SIBLINGS: tuple[tuple[str, ...], ...] = (
    ("lower", "upper", "casefold", "title", "capitalize", "swapcase"),
    ("strip", "lstrip", "rstrip", "removeprefix", "removesuffix"),
    ("startswith", "endswith"),
    ("find", "rfind", "index", "rindex", "count"),
    ("split", "rsplit"), ("partition", "rpartition"), ("ljust", "rjust", "center"),
    ("isdigit", "isalpha", "isalnum", "isspace", "isupper", "islower", "isnumeric", "isdecimal"),
    ("append", "extend", "appendleft", "add"), ("extend", "update"),
    ("remove", "discard", "pop"), ("pop", "popleft"),
    ("get", "pop", "setdefault"), ("keys", "values", "items"),
    ("union", "intersection", "difference", "symmetric_difference"),
    ("update", "intersection_update", "difference_update"), ("issubset", "issuperset"),
)
"""Groups of methods of one builtin type doing related things; a method may become any other of
a group it belongs to (when :data:`ARITY` accepts the call's arguments)."""
MIRRORS = {frozenset(p) for p in (("lower", "upper"), ("lstrip", "rstrip"), ("lstrip", "removeprefix"),
                                  ("rstrip", "removesuffix"), ("removeprefix", "removesuffix"),
                                  ("startswith", "endswith"), ("find", "rfind"), ("index", "rindex"),
                                  ("find", "index"), ("split", "rsplit"), ("partition", "rpartition"),
                                  ("ljust", "rjust"), ("append", "extend"), ("get", "setdefault"),
                                  ("keys", "values"), ("values", "items"), ("remove", "discard"),
                                  ("pop", "popleft"), ("issubset", "issuperset"))}
"""Sibling pairs that are each other's usual confusion: prior :data:`MIRROR`."""
MIRROR = 3.0
_ANY = (0, 9)
ARITY: dict[str, tuple[int, int]] = {
    **dict.fromkeys(("lower", "upper", "casefold", "title", "capitalize", "swapcase", "keys", "values",
                     "items", "isdigit", "isalpha", "isalnum", "isspace", "isupper", "islower",
                     "isnumeric", "isdecimal", "popleft"), (0, 0)),
    **dict.fromkeys(("strip", "lstrip", "rstrip"), (0, 1)),
    **dict.fromkeys(("removeprefix", "removesuffix", "partition", "rpartition", "append", "extend",
                     "appendleft", "add", "remove", "discard", "issubset", "issuperset"), (1, 1)),
    **dict.fromkeys(("startswith", "endswith", "find", "rfind", "index", "rindex", "count"), (1, 3)),
    **dict.fromkeys(("split", "rsplit"), (0, 2)), **dict.fromkeys(("ljust", "rjust", "center"), (1, 2)),
    "pop": (0, 2), "get": (1, 2), "setdefault": (1, 2), "update": (0, 1),
    **dict.fromkeys(("union", "intersection", "difference", "symmetric_difference",
                     "intersection_update", "difference_update"), _ANY),
}
"""Positional arguments each method accepts (fewest, most)."""
TRANSFORMS = ("lower", "upper", "strip")
"""No-argument transforms given to a string-valued expression."""
ONE_PATH = 1 / 3
"""Prior multiplier of a transform of the value one of a function's several ``return`` statements
returns: it changes that path only (``''.join(letters).upper()`` leaves the other branch's
result as it was), where transforming the value at its source changes every path."""
STR_ONLY = {"lower", "upper", "casefold", "title", "capitalize", "swapcase", "strip", "lstrip", "rstrip",
            "split", "rsplit", "splitlines", "startswith", "endswith", "isdigit", "isalpha", "isalnum",
            "isspace", "isupper", "islower", "isnumeric", "isdecimal", "removeprefix", "removesuffix",
            "zfill", "ljust", "rjust", "center", "partition", "rpartition", "expandtabs"}
"""Methods only strings have (among builtins): a name they are called on is a string."""
STR_RESULT = {"lower", "upper", "casefold", "title", "capitalize", "swapcase", "strip", "lstrip", "rstrip",
              "replace", "join", "format", "removeprefix", "removesuffix", "zfill", "ljust", "rjust",
              "center", "expandtabs"}
"""String methods returning a string."""
SPLITS = {"split", "rsplit", "splitlines"}
"""String methods returning a list of strings (a loop over one binds a string)."""
_LIST = {"append", "extend", "insert", "remove", "pop", "index", "count", "sort", "reverse", "clear", "copy"}
METHODS: dict[str, set[str]] = {
    "str": STR_ONLY | STR_RESULT | {"find", "rfind", "index", "rindex", "count", "encode"},
    "list": _LIST, "deque": _LIST | {"appendleft", "popleft", "extendleft", "rotate"},
    "set": {"add", "discard", "remove", "pop", "update", "union", "intersection", "difference",
            "symmetric_difference", "intersection_update", "difference_update", "issubset", "issuperset"},
    "dict": {"get", "pop", "setdefault", "keys", "values", "items", "update", "popitem"},
}
"""The methods of each builtin type a receiver is evidently bound to (siblings are kept to them)."""


def siblings(method: str, args: int) -> list[str]:
    """The methods ``method`` may become in a call with ``args`` positional arguments."""
    out: list[str] = []
    for group in SIBLINGS:
        if method in group:
            out += [m for m in group if m != method and m not in out
                    and ARITY.get(m, _ANY)[0] <= args <= ARITY.get(m, _ANY)[1]]
    return out


def _kind(value: cst.BaseExpression) -> str | None:
    """The builtin container type an assigned value evidently has."""
    if isinstance(value, (cst.List, cst.ListComp)):
        return "list"
    if isinstance(value, (cst.Set, cst.SetComp)):
        return "set"
    if isinstance(value, (cst.Dict, cst.DictComp)):
        return "dict"
    if isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and value.func.value in METHODS:
        return value.func.value
    return None


def _method(expr: cst.BaseExpression) -> str | None:
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
        return expr.func.attr.value
    return None


class LibrarySites:
    """Mixin of :class:`~.collector.SiteCollector` (uses the scopes of :class:`~.names.NameSites`)."""

    _add: Any
    scope: Any
    scopes: list[Any]
    returns: list[tuple[cst.Return, Any]]

    def _init_library(self) -> None:
        self.strings: dict[int, set[str]] = {}
        """``id(scope)`` -> its names evidently bound to strings."""
        self.string_loops: list[tuple[int, cst.BaseExpression, cst.BaseExpression]] = []
        """``(id(scope), target, iterable)`` of every ``for`` and comprehension."""
        self.candidates: list[tuple[int, cst.BaseExpression, str]] = []
        """``(id(scope), expression, receiver name or "")``: transform sites if the name is a string."""
        self.receivers: set[int] = set()
        """``id`` of expressions whose attribute is taken (``x`` in ``x.upper()``): never transformed."""
        self.covered: set[int] = set()
        """``id`` of names compared or passed as arguments (``method_call``'s sites)."""
        self.kinds: dict[tuple[int, str], str] = {}
        """``(id(scope), name)`` -> the container type the name is bound to (``[]``: list)."""
        self.swaps: list[tuple[int, cst.Attribute, int]] = []
        """``(id(scope), called attribute, positional arguments)``: ``method_swap`` sites."""

    def _string(self, name: str) -> None:
        self.strings.setdefault(id(self.scope), set()).add(name)

    def note_library_call(self, node: cst.Call) -> None:
        if len(self.scopes) <= 1:
            return
        f = node.func
        for a in node.args:
            if isinstance(a.value, cst.Name):
                self.covered.add(id(a.value))
        if not isinstance(f, cst.Attribute):
            return
        self.receivers.add(id(f.value))
        method = f.attr.value
        if isinstance(f.value, cst.Name) and method in STR_ONLY:
            self._string(f.value.value)
        if method in STR_RESULT and method not in TRANSFORMS:
            self.candidates.append((id(self.scope), node, ""))
        positional = [a for a in node.args if a.keyword is None and not a.star]
        if len(positional) != len(node.args):
            return
        self.swaps.append((id(self.scope), f, len(positional)))

    def note_library_comparison(self, node: cst.Comparison) -> None:
        for e in (node.left, *(c.comparator for c in node.comparisons)):
            if isinstance(e, cst.Name):
                self.covered.add(id(e))

    def note_library_assign(self, node: cst.Assign) -> None:
        if len(self.scopes) <= 1 or len(node.targets) != 1 or not isinstance(node.targets[0].target, cst.Name):
            return
        value = node.value
        if isinstance(value, (cst.SimpleString, cst.FormattedString, cst.ConcatenatedString)) \
                or _method(value) in STR_RESULT \
                or (isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and value.func.value == "str"):
            self._string(node.targets[0].target.value)
        elif kind := _kind(value):
            self.kinds[(id(self.scope), node.targets[0].target.value)] = kind
        elif isinstance(value, cst.Name):
            self.candidates.append((id(self.scope), value, value.value))

    def note_library_loop(self, target: cst.BaseExpression, iterable: cst.BaseExpression) -> None:
        if len(self.scopes) > 1:
            self.string_loops.append((id(self.scope), target, iterable))

    def note_library_subscript(self, node: cst.Subscript) -> None:
        if len(self.scopes) > 1 and isinstance(node.value, cst.Name):
            self.candidates.append((id(self.scope), node, node.value.value))

    def note_library_value(self, value: cst.BaseExpression | None) -> None:
        """A returned value or a comprehension's element: a name there may be transformed."""
        if len(self.scopes) > 1 and isinstance(value, cst.Name):
            self.candidates.append((id(self.scope), value, value.value))

    def _finish_library(self) -> None:
        for _ in range(3):  # a loop over a string name binds a string, up to three levels deep
            for scope, target, iterable in self.string_loops:
                strings = self.strings.setdefault(scope, set())
                if isinstance(target, cst.Name) and (
                        _method(iterable) in SPLITS or (isinstance(iterable, cst.Name) and iterable.value in strings)):
                    strings.add(target.value)
        for scope, f, args in self.swaps:
            receiver = f.value.value if isinstance(f.value, cst.Name) else None
            kind = "str" if receiver in self.strings.get(scope, set()) else self.kinds.get((scope, receiver or ""))
            method = f.attr.value
            options = [m for m in siblings(method, args) if kind is None or m in METHODS[kind]]
            self._add("method_swap", f.attr, "method-sibling", [
                (f".{method} -> .{m}", lambda n, m=m: n.with_changes(value=m)) for m in options],
                {i: MIRROR for i, m in enumerate(options) if frozenset((method, m)) in MIRRORS})
        paths: dict[int, int] = {}
        for _, owner in self.returns:
            paths[id(owner)] = paths.get(id(owner), 0) + 1
        one_path = {id(r.value) for r, owner in self.returns if paths[id(owner)] > 1}
        done: set[int] = set()
        for scope, expr, name in self.candidates:
            if id(expr) in self.receivers or id(expr) in self.covered or id(expr) in done:
                continue
            if name and name not in self.strings.get(scope, set()):
                continue
            if isinstance(expr, cst.Subscript) and len(expr.slice) != 1:
                continue
            done.add(id(expr))
            options = [m for m in TRANSFORMS if m != _method(expr)]
            self._add("transform", expr, "str-transform", [(f"`.{m}()` added", method_call(m)) for m in options],
                      dict.fromkeys(range(len(options)), ONE_PATH) if id(expr) in one_path else {})
