"""`homeclip demo`: the main job end to end on the embedded default (a simulated Milan-layout home)."""
from __future__ import annotations

import argparse
from pathlib import Path

HELP = "The main job: simulate, prepare, train both encoders, evaluate, compare, report."
DESCRIPTION = (
    "Simulate a resident in the Milan layout, prepare the dataset, train the Chronos encoder (original config, "
    "short schedule) and the standard Transformer encoder, evaluate both next to the baselines, compare them "
    "and print where the reports are. Without a model hub the Chronos backbone and the text encoder fall back "
    "(statistics backbone, offline all-MiniLM-L6-v2), and every output says so."
)
def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of the demo (defaults finish in a few minutes on 2 CPU cores)."""
    p.add_argument("--out", default="runs/demo", help="output folder (default: runs/demo)")
    p.add_argument("--home", default="milan", help="packaged home to simulate (default: milan)")
    p.add_argument("--days", type=int, default=14, help="simulated days (default: 14)")
    p.add_argument("--seed", type=int, default=0, help="seed of the simulation, split and training (default: 0)")
    p.add_argument("--epochs", type=int, default=8, help="training epochs per encoder (default: 8)")
    p.add_argument("--stride", type=int, default=25, help="window stride in events (default: 25)")
    p.add_argument("--configs", default=None,
                   help="folder holding chronos_clip.json and transformer_clip_mlm.json (default: the configs "
                        "shipped with homeclip, configs/training/milan/ in a checkout)")
    p.add_argument("--device", default="auto", help="cpu, cuda or auto (default: auto)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the models of an earlier demo in --out (without it, such a folder is refused)")


def run(args: argparse.Namespace) -> int:
    """Run every stage, each with its own progress output, and print the paths of the results."""
    from ..console import progress_enabled, say
    from ..data.homes import load_home
    from ..data.prepare import format_summary, prepare_dataset
    from ..data.simulate import write_simulated_log
    from ..data.windows import SplitConfig, WindowConfig
    from ..errors import UserError
    from ..experiment import Experiment, encoder_comparison, packaged_configs, run_experiment, short_schedule
    from ..training.run_dir import claim_output_dir

    if args.days < 3:
        raise UserError("--days must be at least 3 so that train, validation and test each get a day")
    out = Path(args.out)
    home = load_home(args.home)
    configs = encoder_comparison(args.configs or packaged_configs())
    for name, path in configs.items():
        if not path.is_file():
            raise UserError(f"config file not found (the demo needs {path.name} for '{name}')", path=str(path))
    exp = Experiment(data_dir=out / "data" / home.name, home=home.name, out=out, device=args.device, configs=configs,
                     overrides=short_schedule(args.epochs, args.seed), overwrite=args.overwrite,
                     progress=progress_enabled())
    for name in configs:   # before anything is simulated: an earlier demo's models are never silently replaced
        claim_output_dir(exp.run_dir(name), resume=False, overwrite=args.overwrite)
    _stage(f"simulating {args.days} days of a resident in the {home.name} layout")
    raw = write_simulated_log(out / "raw" / f"{home.name}_{args.days}d_seed{args.seed}.txt", home, args.days, seed=args.seed)

    _stage("preparing the dataset (windows, captions, day split, vocabulary)")
    summary = prepare_dataset(raw, home, exp.data_dir, window=WindowConfig(length=50, stride=args.stride),
                              split=SplitConfig(seed=args.seed), progress=exp.progress)
    say(format_summary(summary))

    result = run_experiment(exp, say=_stage)
    compare_dir = result["compare_dir"]
    say((compare_dir / "compare.md").read_text(encoding="utf-8"))
    say("Headlines:")
    for run in result["table"]["runs"]:
        say(f"  {run['headline']}")
    say("Reports:")
    for d in result["eval_dirs"].values():
        say(f"  {d / 'report.html'}")
    say(f"  {compare_dir / 'compare.html'}")
    return 0


def _stage(text: str) -> None:
    print(f"\n==> {text}", flush=True)
