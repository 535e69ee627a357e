"""The built-in plugins, ``(name, module)``: what every run loads before any entry point.

The engine's own list is ``darwin_core.plugins.DEFAULT_PLUGINS`` (importing the engine must not
import the plugins, so it keeps a copy; ``tests/core/test_conformance.py`` checks the two are
equal); the testing kit builds backends from this one without the engine.
"""

PLUGINS: tuple[tuple[str, str], ...] = (
    ("darwin-mutation", "darwin_plugins.mutation.plugin"),
    ("darwin-local-sandbox", "darwin_plugins.local_sandbox.plugin"),
    ("darwin-container-sandboxes", "darwin_plugins.containers.plugin"),
    ("darwin-custom-benchmark", "darwin_plugins.custom_benchmark.plugin"),
    ("darwin-file-storage", "darwin_plugins.file_storage"),
    ("darwin-mongo-storage", "darwin_plugins.mongo_storage"),
    ("darwin-s3-storage", "darwin_plugins.s3_storage"),
    ("darwin-local-executor", "darwin_plugins.local_executor"),
    ("darwin-selection", "darwin_plugins.selection"),
    ("darwin-llm", "darwin_plugins.llm.plugin"),
    ("darwin-self-agent", "darwin_plugins.self_agent.plugin"),
    ("darwin-swebench", "darwin_plugins.swebench.plugin"),
    ("darwin-ray-executor", "darwin_plugins.ray_executor"),
    ("darwin-tracing", "darwin_plugins.tracing"),
    ("darwin-cmp-selection", "darwin_plugins.cmp_selection"),
    ("darwin-world-model", "darwin_plugins.world_model.plugin"),
    ("darwin-base-rate", "darwin_plugins.base_rate"),
    ("darwin-reasoning-bank", "darwin_plugins.reasoning_bank"),
    ("darwin-metrics", "darwin_plugins.metrics_exporter"),
)
