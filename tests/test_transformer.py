"""The standard encoder: shapes, padding invariance, span masking, MLM loss, config round trip, bad arguments."""
from __future__ import annotations

import io
import json

import pytest
import torch

from homeclip.data.batches import WindowDataset
from homeclip.data.vocab import build_vocab
from homeclip.data.windows import SEED_FIELDS
from homeclip.encoders.transformer import TransformerEncoder, span_mask
from homeclip.testing import random_windowset

SMALL = dict(d_model=32, n_layers=2, n_heads=4, d_ff=64, output_dim=24, fourier_features=4)
INPUTS = ("categorical_features", "coordinates", "time_deltas", "mask", "time_of_day")


@pytest.fixture(scope="module")
def data():
    ws = random_windowset(n=16, seq_len=20, seed=3, min_len=5)
    vocab = build_vocab(ws)
    return vocab.sizes_of(SEED_FIELDS), WindowDataset(ws, vocab).get_batch(range(len(ws)))


def _args(batch: dict) -> tuple:
    return tuple(batch[k] for k in INPUTS)


def _model(sizes, seed: int = 0, **kw) -> TransformerEncoder:
    torch.manual_seed(seed)
    return TransformerEncoder(sizes, **{**SMALL, **kw}).eval()


def _rearrange(batch: dict, columns: torch.Tensor, length: int) -> dict:
    """The same windows with their T columns moved to `columns` of a wider row; other columns padding
    (deliberately filled with junk: valid ids, NaN coordinates, large time values)."""
    b = batch["mask"].shape[0]
    gen = torch.Generator().manual_seed(7)

    def spread(x, junk):
        out = junk(x.shape[:1] + (length,) + x.shape[2:]).to(x.dtype)
        out[:, columns] = x
        return out

    real = batch["mask"]
    out = {"mask": spread(real, lambda s: torch.zeros(s, dtype=torch.bool))}
    out["categorical_features"] = {
        f: spread(v.masked_fill(~real, 0), lambda s: torch.randint(0, 2, s, generator=gen))
        for f, v in batch["categorical_features"].items()}
    out["coordinates"] = spread(batch["coordinates"], lambda s: torch.full(s, float("nan")))
    out["time_deltas"] = spread(batch["time_deltas"], lambda s: torch.rand(s, generator=gen) * 1e5)
    out["time_of_day"] = spread(batch["time_of_day"], lambda s: torch.rand(s, generator=gen) * 8e4)
    assert out["mask"].sum() == real.sum() and b == out["mask"].shape[0]
    return out


def test_shapes_unit_norm_and_features_ignored(data):
    sizes, batch = data
    model = _model(sizes)
    z = model.forward_clip(*_args(batch))
    assert z.shape == (16, 24) and model.output_dim == 24
    assert torch.allclose(z.norm(dim=-1), torch.ones(16), atol=1e-5)
    assert torch.isfinite(z).all()
    assert model.uses_frozen_features is False
    assert torch.equal(model(*_args(batch), features=torch.randn(16, 7)), z)
    without_tod = model(*_args(batch)[:4])
    assert without_tod.shape == z.shape and not torch.allclose(without_tod, z)


@pytest.mark.parametrize("positional", ["alibi", "learned"])
def test_padding_never_changes_an_embedding(data, positional):
    sizes, batch = data
    model = _model(sizes, positional=positional)
    with torch.no_grad():
        z = model(*_args(batch))
        alone = torch.cat([model(*_args({k: _row(batch[k], i) for k in INPUTS})) for i in range(4)])
        assert (alone - z[:4]).abs().max() < 1e-5
        t = batch["mask"].shape[1]
        layouts = {"right": torch.arange(t), "left": torch.arange(t) + 9,
                   "holes": torch.arange(t) * 2 + 1}  # padding between every two events
        for name, columns in layouts.items():
            moved = model(*_args(_rearrange(batch, columns, 2 * t + 2)))
            assert (moved - z).abs().max() < 1e-5, name


def _row(x, i):
    if isinstance(x, dict):
        return {k: v[i:i + 1] for k, v in x.items()}
    return x[i:i + 1]


@pytest.mark.parametrize("positional", ["alibi", "learned"])
def test_event_order_matters(data, positional):
    sizes, batch = data
    model = _model(sizes, positional=positional)
    one = {k: _row(batch[k], 0) for k in INPUTS}
    n = int(one["mask"].sum())
    rev = torch.cat([torch.arange(n - 1, -1, -1), torch.arange(n, one["mask"].shape[1])])
    flipped = {k: ({f: v[:, rev] for f, v in x.items()} if isinstance(x, dict) else x[:, rev]) for k, x in one.items()}
    with torch.no_grad():
        assert (model(*_args(one)) - model(*_args(flipped))).abs().max() > 1e-4


def test_positional_modes_are_exclusive(data):
    sizes, _ = data
    alibi = _model(sizes, positional="alibi")
    learned = _model(sizes, positional="learned")
    assert alibi.positions is None and alibi.alibi is not None
    assert not any("position" in name for name, _ in alibi.named_parameters())
    assert "alibi" not in alibi.state_dict()  # fixed slopes, rebuilt from the config
    slopes = alibi.alibi
    assert slopes.shape == (4,) and torch.all(slopes[1:] < slopes[:-1]) and torch.all(slopes > 0)
    assert learned.alibi is None
    assert learned.positions.weight.shape == (50, 32) and learned.positions.weight.requires_grad
    assert sum(p.numel() for p in learned.parameters()) - sum(p.numel() for p in alibi.parameters()) == 50 * 32


def test_learned_positions_reject_windows_longer_than_sequence_length(data):
    sizes, batch = data
    model = _model(sizes, positional="learned", sequence_length=10)
    with pytest.raises(ValueError, match="sequence_length=10"):
        model(*_args(batch))


def test_span_mask_never_touches_padding_and_hits_mask_prob():
    total_real = total_selected = 0
    for seed in range(50):
        gen = torch.Generator().manual_seed(1000 + seed)
        mask = torch.rand(32, 50, generator=gen) < torch.rand(32, 1, generator=gen)  # arbitrary patterns
        mask[0] = False  # an all-padding row
        selected = span_mask(mask, 0.15, 3.0, torch.Generator().manual_seed(seed))
        assert not (selected & ~mask).any()
        assert not selected[0].any()
        assert selected[mask.any(1)].any(1).all()  # every non-empty row contributes
        total_real += int(mask.sum())
        total_selected += int(selected.sum())
    assert 0.13 < total_selected / total_real < 0.18


def test_span_mask_is_reproducible_and_spans_have_the_mean_length():
    mask = torch.ones(200, 400, dtype=torch.bool)
    a = span_mask(mask, 0.03, 3.0, torch.Generator().manual_seed(5))
    assert torch.equal(a, span_mask(mask, 0.03, 3.0, torch.Generator().manual_seed(5)))
    assert not torch.equal(a, span_mask(mask, 0.03, 3.0, torch.Generator().manual_seed(6)))
    starts = a & ~torch.nn.functional.pad(a, (1, 0))[:, :-1]
    mean_run = a.sum().item() / starts.sum().item()
    assert 2.7 < mean_run < 3.5  # a little above 3: neighbouring spans occasionally merge
    single = span_mask(mask, 0.03, 1.0, torch.Generator().manual_seed(5))
    starts = single & ~torch.nn.functional.pad(single, (1, 0))[:, :-1]
    assert single.sum().item() / starts.sum().item() < 1.1


def test_masked_events_get_the_field_mask_id(data):
    sizes, batch = data
    model = _model(sizes, mlm_fields=("sensor", "room", "state"))
    cat = batch["categorical_features"]
    masked, selected = model.mask_inputs(cat, batch["mask"], torch.Generator().manual_seed(0))
    assert selected.any() and not (selected & ~batch["mask"]).any()
    for f in cat:
        if f in ("sensor", "room", "state"):
            assert (masked[f][selected] == sizes[f]).all()
            assert model.embeddings[f].num_embeddings == sizes[f] + 1
        else:
            assert torch.equal(masked[f], cat[f])
        assert torch.equal(masked[f][~selected], cat[f][~selected])


def test_mlm_loss_is_deterministic_and_reports_stats(data):
    sizes, batch = data
    model = _model(sizes)
    loss, stats = model.mlm_loss(*_args(batch), generator=torch.Generator().manual_seed(1))
    again, stats2 = model.mlm_loss(*_args(batch), generator=torch.Generator().manual_seed(1))
    assert loss.item() == again.item() and stats == stats2
    _, selected = model.mask_inputs(batch["categorical_features"], batch["mask"], torch.Generator().manual_seed(1))
    assert stats["masked_positions"] == int(selected.sum()) > 0
    assert stats["masked_fraction"] == pytest.approx(int(selected.sum()) / int(batch["mask"].sum()))
    fields = ("sensor", "room", "state", "sensor_type", "tod_bucket", "dt_bucket")
    for f in fields:
        assert 0.0 <= stats[f"acc_{f}"] <= 1.0 and stats[f"loss_{f}"] > 0
    assert loss.item() == pytest.approx(sum(stats[f"loss_{f}"] for f in fields) / len(fields), rel=1e-5)


def test_mlm_weights_select_fields(data):
    sizes, batch = data
    model = _model(sizes, mlm_weights={"sensor": 2.0, "room": 0.0, "state": 0.0, "sensor_type": 0.0,
                                       "tod_bucket": 0.0, "dt_bucket": 0.0})
    loss, stats = model.mlm_loss(*_args(batch), generator=torch.Generator().manual_seed(1))
    assert loss.item() == pytest.approx(stats["loss_sensor"], rel=1e-5)


def test_mlm_loss_with_no_real_events_is_zero(data):
    sizes, batch = data
    empty = dict(batch, mask=torch.zeros_like(batch["mask"]))
    loss, stats = _model(sizes).mlm_loss(*_args(empty), generator=torch.Generator().manual_seed(0))
    assert loss.item() == 0.0 and stats["masked_positions"] == 0


@pytest.fixture
def one_thread():
    """Tiny ops are dominated by thread hand-offs, badly so on a busy 2-core machine: run them on one thread."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_mlm_and_clip_losses_decrease_on_a_tiny_overfit(data, one_thread):
    sizes, batch = data
    model = _model(sizes, dropout=0.0).train()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    targets = torch.nn.functional.one_hot(torch.arange(16) % 6, 24).float()  # a fixed "text" side per label

    def losses():
        gen = torch.Generator().manual_seed(0)
        mlm, _ = model.mlm_loss(*_args(batch), generator=gen)
        z = model(*_args(batch))
        clip = torch.nn.functional.cross_entropy(z @ targets.T / 0.1, torch.arange(16) % 6)
        return mlm, clip

    first = [x.item() for x in losses()]
    for _ in range(25):
        opt.zero_grad()
        mlm, clip = losses()
        (mlm + clip).backward()
        assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
        opt.step()
    last = [x.item() for x in losses()]
    assert last[0] < 0.6 * first[0] and last[1] < 0.5 * first[1], (first, last)


@pytest.mark.parametrize("positional", ["alibi", "learned"])
def test_config_and_state_dict_round_trip(data, positional):
    sizes, batch = data
    model = _model(sizes, positional=positional, mlm_fields=["sensor", "room"], mlm_weights={"room": 0.5})
    cfg = model.get_config()
    assert json.loads(json.dumps(cfg)) == cfg
    assert cfg["positional"] == positional and cfg["vocab_sizes"] == sizes and cfg["mlm_fields"] == ["sensor", "room"]
    buf = io.BytesIO()
    torch.save({"config": cfg, "state": model.state_dict()}, buf)
    buf.seek(0)
    saved = torch.load(buf, weights_only=True)
    torch.manual_seed(123)
    rebuilt = TransformerEncoder(**saved["config"])
    rebuilt.load_state_dict(saved["state"])
    rebuilt.eval()
    assert rebuilt.get_config() == cfg
    with torch.no_grad():
        assert torch.equal(rebuilt(*_args(batch)), model(*_args(batch)))


def test_missing_field_is_reported(data):
    sizes, batch = data
    cat = {k: v for k, v in batch["categorical_features"].items() if k != "room"}
    with pytest.raises(ValueError, match="lacks fields \\['room'\\]"):
        _model(sizes)(cat, *_args(batch)[1:])


@pytest.mark.parametrize("kwargs, message", [
    (dict(positional="rotary"), "positional must be one of"),
    (dict(positional="both"), "positional must be one of"),
    (dict(d_model=30, n_heads=4), r"d_model \(30\) must be divisible by n_heads \(4\)"),
    (dict(n_layers=0), "n_layers must be a positive integer"),
    (dict(dropout=1.0), "dropout must be in"),
    (dict(mask_prob=0.0), "mask_prob must be in"),
    (dict(mean_span=0.5), "mean_span must be >= 1"),
    (dict(mlm_fields=("sensor", "colour")), r"unknown: \['colour'\]"),
    (dict(mlm_fields=()), "mlm_fields must be a non-empty subset"),
    (dict(mlm_weights={"colour": 1.0}), "mlm_weights must map fields"),
    (dict(mlm_weights={"sensor": -1.0}), "mlm_weights must map fields"),
    (dict(mlm_fields=("sensor",), mlm_weights={"sensor": 0.0}), "not all zero"),
])
def test_invalid_arguments_raise_clear_errors(data, kwargs, message):
    sizes, _ = data
    with pytest.raises(ValueError, match=message):
        TransformerEncoder(sizes, **{**SMALL, **kwargs})


def test_invalid_vocab_sizes():
    with pytest.raises(ValueError, match="at least one categorical field"):
        TransformerEncoder({})
    with pytest.raises(ValueError, match="must be >= 2"):
        TransformerEncoder({"sensor": 1}, mlm_fields=("sensor",))


def test_works_inside_the_clip_model(data):
    model_mod = pytest.importorskip("homeclip.training.model", reason="the trainer's ClipModel has not landed")
    sizes, batch = data
    clip = model_mod.ClipModel(_model(sizes), text_dim=8, output_dim=24).train()
    out = clip(model_mod.batch_inputs(batch, "cpu"), torch.randn(5, 8), with_mlm=True)
    assert out["sensor"].shape == (16, 24) and out["mlm_loss"].ndim == 0 and out["mlm_stats"]["masked_positions"] > 0
    rebuilt = model_mod.rebuild_sensor_encoder("transformer", clip.sensor_encoder.get_config())
    assert isinstance(rebuilt, TransformerEncoder) and rebuilt.get_config() == clip.sensor_encoder.get_config()
