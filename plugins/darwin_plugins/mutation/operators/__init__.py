"""Mutation operators over libcst trees (formatting is kept: libcst round-trips source exactly).

Every site lists all its alternatives, so a parent's neighbourhood can be enumerated without
replacement. Families, after mutmut, cosmic-ray, Magpie/PyGGI, GenProg and PraPR:

* ``comparison``: each of ``< <= > >= == !=`` to every other (``is``/``is not``, ``in``/``not in``);
* ``arithmetic``: each of ``+ - * / // % **`` to every other; ``-e`` to ``e``; a sort key (or an
  element of a key tuple) negated;
* ``bitwise``: each of ``& | ^ << >>`` to every other; ``~e`` to ``e``;
* ``augmented``: each augmented assignment to every other of its kind, and to plain ``=``;
* ``boolean``: ``and`` <-> ``or``, one operand kept, ``not e`` to ``e``;
* ``condition``: the test of an ``if``/``while``/conditional expression negated;
* ``constant``: integers (``n +/- 1``, ``0``, ``1``, ``-1``, ``2n``, ``n // 2``; a radix ``2 8 10 16``
  to the others), a parameter's literal default to ``None``, and floats
  (``x 1.1``, ``x 0.9``, ``x 2``, ``/ 2``, ``+/- 1``, ``x 1.01``, ``x 0.99``, ``-x``, ``0``, ``1``);
* ``off_by_one``: ``e`` to ``(e + 1)`` / ``(e - 1)`` in subscripts, slice bounds, ``range``
  bounds and other call arguments, comparisons and arithmetic;
* ``swap``: operands of a binary/boolean operation or comparison, any two call arguments, the
  branches of a conditional expression;
* ``name``: a name to another in scope (its function's names, module names, ``min`` <-> ``max``...);
  a called name only to another called name;
* ``index``: an integer index or slice bound to another integer name that indexes the same
  sequence in the function (``b[i:]`` to ``b[j:]`` where ``b[j]`` is read and ``i = j = 0``);
* ``attribute``: an attribute to a sibling attribute used in the file (methods to methods);
* ``return``: the returned value to another one returned by the same function, or ``None``;
* ``delete``: a statement or a block replaced by ``pass``;
* ``insert``: a statement of the same function copied before another one;
* ``move``: two adjacent statements swapped; ``indentation``: a loop's or an ``if``'s last statement
  dedented to after it, or the statement after it indented into its body;
* ``update``: the missing update of a collection a membership test reads (``seen.add(x)`` after
  ``if x in seen``, when nothing in the function updates ``seen``);
* ``method_call``, ``initial``, ``guard``, ``builtin``: fix templates with ingredients from the
  program (:mod:`.templates`);
* ``continue``, ``strengthen``, ``weaken``: a loop's ``if <cond>: continue``, a test joined with
  another condition of its function by ``and`` / ``or`` (:mod:`.conditions`), or the missing pair of a
  chain pairing three names (``a == b or b == c`` given ``or a == c``, :mod:`.crossed`);
* ``method_swap``, ``transform``: a method's sibling from the builtin API (``lstrip`` to
  ``removeprefix``), a string given ``.upper()`` / ``.lower()`` / ``.strip()`` (:mod:`.library`);
* ``wrap``, ``reset``: an iterable wrapped in ``sorted``/``reversed``/``set`` (also a name that
  ``join``, ``enumerate`` or ``zip`` reads), a difference in ``abs``, a sequence in ``len``; an initialisation before a loop copied after its consumer in the
  loop; ``break`` after a loop's match recorded in a name read after it (:mod:`.wraps`);
* ``lookup``: ``k in d`` to ``k in d and d[k] OP n`` for an integer map ``d`` and an integer name
  ``n`` of the function (:mod:`.lookups`);
* ``transplant``: an effect statement of a sibling function (another method of the class, another
  function of the module) copied before a statement, its names rebound; a sibling's
  ``self.a = <parameter expression>`` copied after a statement reading ``self.a`` that its function
  never assigns (:mod:`.transplant`);
* ``extend``, ``negative_bound``: ``len(s)`` to ``len(s) - i`` for an integer name indexing ``s``; a
  slice bound ``-k`` to ``len(s) - k`` (:mod:`.subexpr`);
* ``assign``, ``unpack``, ``length_check``: ``t = e`` to ``t += e`` when ``t`` holds a value, a
  tuple target's elements swapped, a subscripting test given ``len(x) > m and`` (``i + k < len(x)
  and`` for ``x[i + k]``) (:mod:`.assignments`);
* ``copy_paste``, ``name_swap``: a name shared by two copies of one shape made the name its
  analogy points to, two names of an expression exchanged (:mod:`.parallel`); ``systematic``:
  one edit at every site of one shape in a function (:mod:`.systematic`);
* ``mirror``: a test comparing ``s[i - k]`` given ``and`` the comparison with ``s[i + k]`` (and
  the reverse), the other neighbour (:mod:`.mirror`); ``bound_swap``: two comparisons of one
  ``and``/``or`` chain with an operand exchanged, crossed bounds (:mod:`.crossed`);
  ``stale_length``: a name standing for a sequence's size made ``len(s)`` in a loop that changes
  ``s`` (:mod:`.stale`).
"""

from .collector import ParsedModule, Site, apply_edits, parse_module, splicer_of

FAMILIES = (
    "comparison", "arithmetic", "bitwise", "augmented", "boolean", "condition", "constant",
    "off_by_one", "swap", "name", "index", "attribute", "return", "delete", "insert", "move", "update",
    "method_call", "initial", "guard", "builtin", "continue", "strengthen", "weaken",
    "method_swap", "transform", "wrap", "reset", "break",
    "lookup", "transplant", "extend", "negative_bound", "assign", "unpack", "length_check",
    "copy_paste", "name_swap", "systematic", "mirror", "bound_swap", "stale_length", "indentation",
)

__all__ = ["FAMILIES", "ParsedModule", "Site", "apply_edits", "parse_module", "splicer_of"]
