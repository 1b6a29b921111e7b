"""What a metrics line logs: the means of the per-step training scalars over the logging interval."""
from __future__ import annotations

import torch


class IntervalMeans:
    """Sums of the per-step training scalars since the last metrics line; the line logs their means.

    Kept as tensors on the training device (no host sync per step) and saved in resumable checkpoints, so a
    resumed run logs exactly what an uninterrupted one does."""

    def __init__(self) -> None:
        self.sums: dict[str, torch.Tensor] = {}
        self.count = 0

    def add(self, values: dict[str, torch.Tensor | None]) -> None:
        """Add one step's scalars (None values are skipped)."""
        for key, value in values.items():
            if value is not None:
                value = value.detach().float()
                self.sums[key] = self.sums[key] + value if key in self.sums else value
        self.count += 1

    def pop(self) -> dict[str, float]:
        """The means since the last pop, then start a new interval."""
        means = {key: float(total) / max(self.count, 1) for key, total in self.sums.items()}
        self.sums, self.count = {}, 0
        return means

    def state_dict(self) -> dict:
        """Plain values for a checkpoint."""
        return {"sums": {k: float(v) for k, v in self.sums.items()}, "count": self.count}

    def load_state_dict(self, state: dict) -> None:
        """Restore `state_dict()` output ({} = an empty interval)."""
        self.sums = {k: torch.tensor(v, dtype=torch.float32) for k, v in state.get("sums", {}).items()}
        self.count = int(state.get("count", 0))
