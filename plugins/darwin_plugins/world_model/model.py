"""The world model: hashed features -> a small MLP with two heads (accept logit, score change).

Trained online: each observation joins a sliding window of recent attempts, and every
``retrain_every`` observations the network is refit with ``steps`` full-batch Adam steps on the
window (from fresh seeded weights by default: on the few dozen attempts of a run, continuing
from the previous weights over-fits the early ones). Inputs are standardised with the window's mean and
spread. ``state()`` holds the weights, the optimiser, the window and the counters, so a restored
model predicts exactly as the saved one did and keeps learning where it stopped.
"""

from __future__ import annotations

import io
import zlib
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from darwin_hookspecs import Prediction

from .encoding import FeatureHasher

STATE_FORMAT = 1
SCALE_FLOOR = 0.5
CLIP = 3.0


class WorldModelOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dims: int = Field(128, ge=8, le=4096)
    """Width of the hashed feature vector."""
    hidden: int = Field(16, ge=0, le=1024)
    """Hidden units (0: a linear model, i.e. logistic regression plus linear regression)."""
    window: int = Field(1000, ge=16)
    """Most recent observations kept for training (and saved with the state)."""
    retrain_every: int = Field(4, ge=1)
    steps: int = Field(30, ge=1)
    """Adam steps per retraining."""
    learning_rate: float = Field(0.01, gt=0)
    weight_decay: float = Field(1e-2, ge=0)
    refit: bool = True
    """Refit from fresh weights at each retraining (robust on little data) instead of
    continuing from the current ones."""
    delta_weight: float = Field(1.0, ge=0)
    """Weight of the score-change loss next to the acceptance loss."""
    seed: int | None = None
    """Initialisation seed (default: the run's seed)."""
    threads: int = Field(1, ge=0)
    """torch intra-op threads (process-wide; 0 leaves torch's default). The network is tiny:
    more threads only add synchronisation, which is ruinous on a loaded machine."""


class WorldModel:
    """A :class:`~darwin_hookspecs.Predictor` backed by torch on the CPU."""

    def __init__(self, options: WorldModelOptions, seed: int = 0) -> None:
        import torch

        self.torch = torch
        self.options = options
        if options.threads:
            torch.set_num_threads(options.threads)
        self.hasher = FeatureHasher(options.dims)
        self.seed = options.seed if options.seed is not None else seed
        self._fresh(0)
        self.x = torch.zeros((0, options.dims))
        self.y = torch.zeros(0)
        self.d = torch.zeros(0)
        self.mean = torch.zeros(options.dims)
        self.scale = torch.ones(options.dims)
        self.observations = 0
        self.retrains = 0
        self.last_loss = float("nan")
        self.prior = 0.5  # acceptance rate seen so far, before any training

    def _fresh(self, salt: int) -> None:
        """New weights (seeded, without touching torch's global generator) and optimiser."""
        torch, nn, o = self.torch, self.torch.nn, self.options
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed * 1_000_003 + salt)
            if o.hidden == 0:
                self.net = nn.Linear(o.dims, 2)
            else:
                self.net = nn.Sequential(nn.Linear(o.dims, o.hidden), nn.ReLU(), nn.Linear(o.hidden, 2))
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=o.learning_rate,
                                          weight_decay=o.weight_decay)

    # -------------------------------------------------------------- encoding

    def encode(self, batch: list[dict[str, Any]]) -> Any:
        """Raw (unstandardised) feature matrix of a batch."""
        return self.hasher.matrix(batch, self.torch)

    # ------------------------------------------------------------ prediction

    def predict_encoded(self, x: Any) -> tuple[Any, Any]:
        """``(p_accept, expected_delta)`` tensors for a raw feature matrix."""
        torch = self.torch
        with torch.no_grad():
            if self.retrains == 0:
                n = x.shape[0]
                return torch.full((n,), self.prior), torch.full((n,), self._mean_delta())
            out = self.net(self._standardise(x))
            return torch.sigmoid(out[:, 0]), out[:, 1]

    def predict(self, features: list[dict[str, Any]]) -> list[Prediction]:
        if not features:
            return []
        p, d = self.predict_encoded(self.encode(features))
        # positional construction through map: a Python-level loop costs more than the network
        return list(map(Prediction, p.double().tolist(), d.double().tolist()))

    def _standardise(self, x: Any) -> Any:
        """Centre and scale by the window's statistics; clip, because run-level counts
        (generation, attempts so far) drift beyond anything the window has seen."""
        return ((x - self.mean) / self.scale).clamp(-CLIP, CLIP)

    def _mean_delta(self) -> float:
        return float(self.d.mean()) if len(self.d) else 0.0

    # -------------------------------------------------------------- learning

    def observe(self, features: dict[str, Any], outcome: dict[str, Any]) -> None:
        torch = self.torch
        x = self.encode([features])
        y = torch.tensor([1.0 if outcome.get("accepted") else 0.0])
        d = torch.tensor([float(outcome.get("score_delta", 0.0))])
        w = self.options.window
        self.x = torch.cat([self.x, x])[-w:]
        self.y = torch.cat([self.y, y])[-w:]
        self.d = torch.cat([self.d, d])[-w:]
        self.observations += 1
        self.prior = (float(self.y.sum()) + 1) / (len(self.y) + 2)
        if self.observations % self.options.retrain_every == 0:
            self.train()

    def train(self) -> None:
        """Take ``steps`` Adam steps on the window."""
        torch = self.torch
        if len(self.y) < 2:
            return
        self.mean = self.x.mean(0)
        self.scale = self.x.std(0, unbiased=False).clamp_min(SCALE_FLOOR)
        x = self._standardise(self.x)
        if self.options.refit:
            self._fresh(self.retrains + 1)
        bce = torch.nn.functional.binary_cross_entropy_with_logits
        mse = torch.nn.functional.mse_loss
        self.net.train()
        for _ in range(self.options.steps):
            self.optimizer.zero_grad()
            out = self.net(x)
            loss = bce(out[:, 0], self.y) + self.options.delta_weight * mse(out[:, 1], self.d)
            loss.backward()
            self.optimizer.step()
        self.net.eval()
        self.last_loss = float(loss.detach())
        self.retrains += 1

    # ----------------------------------------------------------------- state

    def state(self) -> bytes:
        torch = self.torch
        buffer = io.BytesIO()
        torch.save({
            "format": STATE_FORMAT, "options": self.options.model_dump(),
            "net": self.net.state_dict(), "optimizer": self.optimizer.state_dict(),
            "x": self.x.to(torch.float16), "y": self.y, "d": self.d,
            "mean": self.mean, "scale": self.scale,
            "counters": [self.observations, self.retrains, self.prior, self.last_loss],
        }, buffer)
        return zlib.compress(buffer.getvalue(), 6)

    def load_state(self, data: bytes) -> None:
        torch = self.torch
        from darwin_hookspecs import UserError

        try:
            saved = torch.load(io.BytesIO(zlib.decompress(data)), weights_only=True)
        except Exception as exc:  # noqa: BLE001 - corrupt or foreign state
            raise UserError(
                f"world-model: the saved predictor state cannot be read ({type(exc).__name__}: {exc}); "
                "fix: delete the run's state_predictor record to retrain from the replay buffer"
            ) from None
        shape = (saved.get("options", {}).get("dims"), saved.get("options", {}).get("hidden"))
        if saved.get("format") != STATE_FORMAT or shape != (self.options.dims, self.options.hidden):
            raise UserError(
                f"world-model: the saved state has dims/hidden {shape}, the config asks for "
                f"{(self.options.dims, self.options.hidden)}; fix: restore the earlier [predictor] "
                "dims and hidden, or delete the run's state_predictor record to retrain"
            )
        self.net.load_state_dict(saved["net"])
        self.optimizer.load_state_dict(saved["optimizer"])
        self.x, self.y, self.d = saved["x"].to(torch.float32), saved["y"], saved["d"]
        self.mean, self.scale = saved["mean"], saved["scale"]
        observations, retrains, prior, last_loss = saved["counters"]
        self.observations, self.retrains = int(observations), int(retrains)
        self.prior, self.last_loss = float(prior), float(last_loss)
        self.net.eval()

    def metrics(self) -> dict[str, float]:
        return {
            "observations": float(self.observations), "window": float(len(self.y)),
            "retrains": float(self.retrains), "train_loss": self.last_loss,
            "accept_rate": self.prior,
        }
