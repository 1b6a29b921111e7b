"""What a run folder holds for the web app: checkpoints, the prepared split(s) to search, evaluation reports and
the comparison page. Files only (no model is loaded here).

Layouts understood (searched at most three levels below the run folder):
  * `homeclip demo` / `benchmarks/*`: models/<name>/best_model.pt, data/<home>/<home>_test.json,
    eval/<name>/report.html, compare/compare.html;
  * a training output_dir (best_model.pt at the top) or a folder of them (trained_models/milan/<name>/);
  * anything else, with --checkpoint / --data / --reports given explicitly.
The default split is the test split of the data the first model was trained on (days no model was trained on).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UserError

CHECKPOINT_NAMES = ("best_model.pt", "final_model.pt")
MAX_DEPTH = 3


@dataclass
class RunCatalog:
    """Everything the app serves, by name."""

    root: Path | None
    models: dict[str, Path]                               # name -> checkpoint
    data: list[Path]                                      # split JSON files searched, in order
    reports: dict[str, Path] = field(default_factory=dict)   # name -> folder with report.html
    compare: Path | None = None                           # folder with compare.html

    def describe(self) -> str:
        """A few lines for the console at start-up."""
        lines = [f"models:  {', '.join(f'{n} ({p})' for n, p in self.models.items())}",
                 f"windows: {', '.join(str(p) for p in self.data)}",
                 f"reports: {', '.join(self.reports) or 'none'}; comparison: {self.compare or 'none'}"]
        return "\n".join(lines)


def find_run(run: str | Path | None, *, checkpoints: list[str | Path] | None = None,
             data: list[str | Path] | None = None, reports: list[str | Path] | None = None) -> RunCatalog:
    """Discover a run's files (explicit paths win); UserError when there is no model or no split to search."""
    root = Path(run) if run is not None else None
    if root is not None and not root.is_dir():
        raise UserError("run folder not found", path=str(root))
    models = _named_checkpoints(checkpoints) if checkpoints else _find_checkpoints(root)
    if not models:
        raise UserError("no checkpoint (best_model.pt or final_model.pt) found; pass --checkpoint PATH",
                        path=str(root) if root else None)
    splits = [Path(p) for p in data] if data else _default_split(root, next(iter(models.values())))
    for p in splits:
        if not p.is_file():
            raise UserError("split file not found", path=str(p))
    if reports:
        report_dirs = {Path(p).name: Path(p) for p in reports}
        missing = [str(p) for p in report_dirs.values() if not (p / "report.html").is_file()]
        if missing:
            raise UserError("no report.html in this folder", path=missing[0])
    else:
        report_dirs = _find_reports(root)
    return RunCatalog(root=root, models=models, data=splits, reports=report_dirs, compare=_find_compare(root))


def _walk(root: Path, name: str) -> list[Path]:
    """Files called `name` at most MAX_DEPTH levels below root, shallowest first, then by path."""
    found = [p for depth in range(MAX_DEPTH + 1) for p in sorted(root.glob("/".join(["*"] * depth + [name])))]
    return [p for p in found if p.is_file()]


def _named_checkpoints(paths: list[str | Path]) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for p in map(Path, paths):
        if not p.is_file():
            raise UserError("checkpoint not found", path=str(p))
        name = p.parent.name or p.stem
        out[name if name not in out else f"{name}-{len(out)}"] = p
    return out


def _find_checkpoints(root: Path | None) -> dict[str, Path]:
    if root is None:
        return {}
    out: dict[str, Path] = {}
    for ckpt_name in CHECKPOINT_NAMES:          # best_model.pt where a run has one, else final_model.pt
        for p in _walk(root, ckpt_name):
            name = p.parent.name if p.parent != root else root.resolve().name
            if name not in out and not any(q.parent == p.parent for q in out.values()):
                out[name] = p
    return out


def _default_split(root: Path | None, checkpoint: Path) -> list[Path]:
    """The test split next to the model's training data (from hyperparameters.json), else one under the run."""
    candidates = []
    hp = checkpoint.parent / "hyperparameters.json"
    if hp.is_file():
        train = str(json.loads(hp.read_text(encoding="utf-8")).get("config", {}).get("train_data_path", ""))
        if train.endswith("_train.json"):
            test = Path(train[: -len("_train.json")] + "_test.json")
            candidates += [test] + ([root / test, root.parent / test] if root is not None else [])
    for c in candidates:
        if c.is_file():
            return [c]
    found = [p for p in _walk(root, "*_test.json")] if root is not None else []
    if not found:
        raise UserError("no prepared test split found for this run; pass --data SPLIT.json",
                        path=str(root) if root else None)
    return [found[0]]


def _find_reports(root: Path | None) -> dict[str, Path]:
    if root is None:
        return {}
    out: dict[str, Path] = {}
    for p in _walk(root, "report.html"):
        if (p.parent / "evaluation_results.json").is_file():
            name = p.parent.name
            out[name if name not in out else f"{p.parent.parent.name}-{name}"] = p.parent
    return out


def _find_compare(root: Path | None) -> Path | None:
    found = _walk(root, "compare.html") if root is not None else []
    return found[0].parent if found else None
