"""Guards against silent methodology errors when a checkpoint is scored or searched, and their record.

- Cross-home: a checkpoint trained on one home and applied to another home's windows is an error unless the
  caller allows it (`--allow-cross-home`) or the checkpoint's inputs are semantic (`event_fields ==
  "semantic"`, made for transfer); either way every output says "trained on X, tested on Y".
- Test-as-validation: the run records the sha256 of the files it trained and validated on; when the file
  scored now is the run's validation file, the model was selected on the test split (and when it is the
  training file, it was trained on it). Both are flagged, never refused: the original config validates on
  milan_test.json.
"""
from __future__ import annotations

from ..errors import UserError

SEMANTIC_FIELDS = "semantic"


def is_semantic(config: dict | None) -> bool:
    """True for a checkpoint whose inputs are home-independent (made for transfer between homes)."""
    return (config or {}).get("event_fields") == SEMANTIC_FIELDS


def check_homes(trained_on: str | None, tested_on: str | None, *, semantic: bool, allow_cross_home: bool,
                subject: str = "this checkpoint was trained on", what: str = "evaluate") -> dict:
    """The home record of an evaluation or search; raises UserError for an unallowed cross-home use."""
    trained_on, tested_on = trained_on or None, tested_on or None
    # A run on several homes records them joined by "+": scoring one of them is not cross-home.
    cross = bool(trained_on and tested_on and tested_on not in trained_on.split("+"))
    allowed_by = None
    if cross:
        if semantic:
            allowed_by = "semantic-input checkpoint (event_fields = 'semantic', made for transfer)"
        elif allow_cross_home:
            allowed_by = "--allow-cross-home"
        else:
            raise UserError(f"{subject} home '{trained_on}' but the data is from home '{tested_on}'; to "
                            f"{what} across homes on purpose pass --allow-cross-home")
    return {"trained_on": trained_on, "tested_on": tested_on, "cross_home": cross, "allowed_by": allowed_by,
            "semantic_inputs": semantic}


def assess(meta: dict | None, config: dict | None, *, train_home: str | None, test_home: str | None,
           allow_cross_home: bool = False, test_sha256: str | None = None) -> dict:
    """Everything an evaluation must say about how its numbers came about (results["methodology"]).

    `meta`/`config`: the checkpoint's; `train_home`: the home of the split the probes are fit on;
    `test_sha256`: of the file scored (None for in-memory data: the file checks are then skipped)."""
    meta = meta or {}
    homes = check_homes(meta.get("home"), test_home, semantic=is_semantic(config),
                        allow_cross_home=allow_cross_home)
    probe = check_homes(train_home, test_home, semantic=is_semantic(config), allow_cross_home=allow_cross_home,
                        subject="the train split (probes and baselines are fit on it) is from")
    files = meta.get("data_files") or {}
    val_shas, train_shas = _shas(files.get("val")), _shas(files.get("train"))
    return {
        **homes,
        "probe_train_home": train_home or None,
        "probe_cross_home": probe["cross_home"],
        "training_home_recorded": bool(meta.get("home")),
        "test_data_sha256": test_sha256,
        "validation_data": files.get("val"),
        "selected_on_test_split": bool(test_sha256 and test_sha256 in val_shas),
        "trained_on_test_split": bool(test_sha256 and test_sha256 in train_shas),
        "validation_was_a_test_split": bool(meta.get("validation_is_test_split")),
    }


def _shas(entry: dict | list | None) -> set[str]:
    """The sha256 of a recorded data file, or of each file when a run read several datasets."""
    entries = entry if isinstance(entry, list) else [entry] if entry else []
    return {e["sha256"] for e in entries if isinstance(e, dict) and e.get("sha256")}


def methodology_warnings(m: dict) -> list[str]:
    """The banner sentences for a methodology record (most serious first)."""
    out = []
    if m.get("trained_on_test_split"):
        out.append("TRAINED ON THE TEST SPLIT: the file scored here is the checkpoint's training file "
                   "(same sha256); these scores measure memorisation, not generalisation.")
    if m.get("selected_on_test_split"):
        out.append("SELECTED ON THE TEST SPLIT: the file scored here is the checkpoint's validation file (same "
                   "sha256), so best_model.pt was chosen by looking at these test windows; the scores are "
                   "optimistic. Train with --val_data <home>_val.json to keep the test split unseen.")
    elif m.get("validation_was_a_test_split"):
        out.append("The checkpoint was validated on a test split (another file than the one scored here).")
    if m.get("cross_home"):
        out.append(f"CROSS-HOME: trained on {m['trained_on']}, tested on {m['tested_on']} "
                   f"(allowed by {m['allowed_by']}).")
    if m.get("probe_cross_home"):
        out.append(f"The probes and baselines were fit on home {m['probe_train_home']} and scored on home "
                   f"{m['tested_on']}.")
    if not m.get("training_home_recorded"):
        out.append("The checkpoint does not record the home it was trained on: the cross-home check was skipped.")
    return out
