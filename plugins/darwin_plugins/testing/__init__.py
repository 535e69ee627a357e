"""Darwin's testing kit for plugin authors (depends on ``darwin_hookspecs`` and pytest only).

* :func:`build_backend` builds any backend outside a run, exactly as a run would (its options
  validated by its model, a :class:`~darwin_hookspecs.BuildContext`).
* Conformance suites, as pytest plugins, one per kind: subclass the class in a test module and
  define the fixture it needs (see each module's docstring)::

    from darwin_plugins.testing.benchmark_conformance import BenchmarkConformance
    from darwin_plugins.testing.generator_conformance import GeneratorConformance
    from darwin_plugins.testing.selection_conformance import SelectionConformance
    from darwin_plugins.testing.sandbox_conformance import SandboxConformance
    from darwin_plugins.storage_conformance import StorageConformance

* :class:`ListArchive` is a real :class:`~darwin_hookspecs.ArchiveView` over a list of
  variants, for selection strategies.
"""

from .archive import ListArchive, variant
from .build import build_backend, collect_registry

__all__ = ["ListArchive", "build_backend", "collect_registry", "variant"]
