"""Registers the ``world-model`` predictor (needs ``pip install 'darwin[world-model]'``)."""

from __future__ import annotations

from typing import Any

from darwin_hookspecs import BuildContext, PredictorRegistry, hookimpl

from .model import WorldModelOptions


def create(options: WorldModelOptions, context: BuildContext) -> Any:
    from .model import WorldModel

    return WorldModel(options, seed=context.seed)


@hookimpl
def darwin_register_predictors(registry: PredictorRegistry) -> None:
    registry.add(
        "world-model",
        create,
        options=WorldModelOptions,
        extra="world-model",
        requires=("torch",),
        description="A small torch network trained online on the replay buffer: "
        "P(accepted child) and expected score change before an attempt is paid for.",
    )
