"""InfoNCE, the temperature clamp, weight-decay groups and the hard-negative bank."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from homeclip.training.losses import (LOGIT_SCALE_MAX, HardNegativeBank, clamp_logit_scale, clip_loss,
                                      hard_negative_logits, positive_mask)
from homeclip.training.model import ClipModel
from homeclip.training.schedule import parameter_groups


def unit(n, d, seed=0):
    return F.normalize(torch.randn(n, d, generator=torch.Generator().manual_seed(seed)), dim=-1)


def test_perfect_alignment_gives_near_zero_loss_and_shuffled_pairs_do_not():
    emb = torch.eye(8, 16)                      # orthonormal rows
    scale = torch.tensor(LOGIT_SCALE_MAX)       # temperature 0.01
    good = clip_loss(emb, emb, scale)
    assert good.loss.item() < 1e-3 and good.acc_s2t.item() == 1.0 and good.acc_t2s.item() == 1.0
    shuffled = clip_loss(emb, emb[torch.roll(torch.arange(8), 1)], scale)
    assert shuffled.loss.item() > 10.0 and shuffled.acc_s2t.item() == 0.0
    rand = clip_loss(unit(8, 16, 1), unit(8, 16, 2), torch.tensor(0.0))   # temperature 1: near uniform
    assert rand.loss.item() == pytest.approx(math.log(8), abs=0.3)


def test_loss_is_symmetric_average_of_both_directions():
    s, t, scale = unit(6, 8, 1), unit(6, 8, 2), torch.tensor(2.0)
    logits = scale.exp() * s @ t.t()
    expected = 0.5 * (F.cross_entropy(logits, torch.arange(6)) + F.cross_entropy(logits.t(), torch.arange(6)))
    assert clip_loss(s, t, scale).loss.item() == pytest.approx(expected.item(), rel=1e-6)


def test_identical_captions_are_not_negatives_of_each_other():
    s = torch.eye(4, 8)
    t = torch.eye(4, 8).clone()
    t[1] = t[0]          # windows 0 and 1 share caption text
    s[1] = s[0]
    scale = torch.tensor(LOGIT_SCALE_MAX)
    unmasked = clip_loss(s, t, scale).loss.item()
    masked = clip_loss(s, t, scale, caption_ids=torch.tensor([7, 7, 8, 9])).loss.item()
    assert unmasked > 0.3 and masked < 1e-3


def test_temperature_is_clamped_and_learnable():
    assert clamp_logit_scale(torch.tensor(10.0)).item() == pytest.approx(math.log(100))
    assert clamp_logit_scale(torch.tensor(-3.0)).item() == 0.0
    model = ClipModel(torch.nn.Linear(3, 4), text_dim=5, output_dim=4, temperature_init=0.02)
    assert model.temperature == pytest.approx(0.02) and model.logit_scale.requires_grad
    model.logit_scale.data.fill_(50.0)
    assert model.temperature == pytest.approx(0.01)
    frozen = ClipModel(torch.nn.Linear(3, 4), text_dim=5, output_dim=4, learnable_temperature=False)
    assert not frozen.logit_scale.requires_grad
    s, t = unit(4, 4, 1), unit(4, 4, 2)
    scale = torch.tensor(1.0, requires_grad=True)
    clip_loss(s, t, scale).loss.backward()
    assert scale.grad is not None and scale.grad.item() != 0.0


def test_weight_decay_spares_biases_norms_and_temperature():
    enc = torch.nn.Sequential(torch.nn.LayerNorm(6), torch.nn.Linear(6, 4))
    model = ClipModel(enc, text_dim=5, output_dim=4)
    decay, exempt = parameter_groups(model, 0.01)
    ids = lambda ps: {id(p) for p in ps["params"]}   # noqa: E731
    assert ids(decay) == {id(enc[1].weight), id(model.text_projection.weight)}
    assert {id(model.logit_scale), id(enc[0].weight), id(enc[0].bias), id(enc[1].bias)} <= ids(exempt)
    assert decay["weight_decay"] == 0.01 and exempt["weight_decay"] == 0.0


def test_bank_is_fifo_and_holds_only_pushed_batches():
    bank = HardNegativeBank(5)
    assert [len(x) for x in bank.entries()] == [0, 0]
    bank.push(torch.tensor([10, 11, 12]), torch.tensor([0, 1, 2]))
    bank.push(torch.tensor([13, 14, 15]), torch.tensor([3, 4, 5]))
    caps, wins = bank.entries()
    assert sorted(caps.tolist()) == [11, 12, 13, 14, 15] and sorted(wins.tolist()) == [1, 2, 3, 4, 5]
    restored = HardNegativeBank(1)
    restored.load_state_dict(bank.state_dict())
    assert torch.equal(restored.entries()[0], caps) and restored.size == 5


@pytest.mark.parametrize("strategy", ["hardest", "random"])
def test_hard_negatives_never_include_a_windows_own_captions(strategy):
    # bank: captions of past windows; window 0 of the batch reappears in the bank (same window id 100) and
    # window 1's caption text (id 7) was also used by another window.
    bank_caps = torch.tensor([7, 3, 4, 5, 9, 6])
    bank_wins = torch.tensor([50, 100, 51, 52, 53, 54])
    caps, wins = torch.tensor([1, 7]), torch.tensor([100, 101])
    positives = positive_mask(caps, wins, bank_caps, bank_wins)
    assert positives.tolist() == [[False, True, False, False, False, False],
                                  [True, False, False, False, False, False]]
    # Make the positives the MOST similar bank entries: they still must not be drawn.
    bank_text = unit(6, 8, 3)
    sensor = torch.stack([bank_text[1], bank_text[0]])
    out = hard_negative_logits(sensor, bank_text, torch.tensor(2.0), positives, k=3, strategy=strategy,
                               generator=torch.Generator().manual_seed(0))
    assert out.shape[0] == 2 and out.shape[1] == 3
    own = [(sensor[0] @ bank_text[1]).item(), (sensor[1] @ bank_text[0]).item()]
    for row, value in enumerate(own):
        assert not torch.isclose(out[row], torch.tensor(2.0).exp() * value).any()
    if strategy == "hardest":
        assert torch.isfinite(out).all()   # enough true negatives: every slot is a real negative
    all_positive = torch.ones(2, 6, dtype=torch.bool)
    blocked = hard_negative_logits(sensor, bank_text, torch.tensor(2.0), all_positive, k=3, strategy=strategy)
    assert torch.isinf(blocked).all() and (blocked < 0).all()
    with pytest.raises(ValueError):
        hard_negative_logits(sensor, bank_text, torch.tensor(2.0), positives, k=3, strategy="semi")


def test_hard_negatives_raise_the_loss_and_keep_it_finite():
    s, t = unit(4, 8, 1), unit(4, 8, 2)
    scale = torch.tensor(2.0)
    base = clip_loss(s, t, scale).loss
    extra = hard_negative_logits(s, unit(10, 8, 3), scale, torch.zeros(4, 10, dtype=torch.bool), 5, "hardest")
    with_bank = clip_loss(s, t, scale, extra_logits=extra).loss
    assert torch.isfinite(with_bank) and with_bank > base


# ----------------------------------------------------------------------------- SigLIP and focal InfoNCE
from homeclip.training.losses import (SIGLIP_BIAS_INIT, SIGLIP_TEMPERATURE_INIT,  # noqa: E402
                                      contrastive_loss, siglip_loss)
from homeclip.training.model import build_clip_model  # noqa: E402


def _softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def test_siglip_hand_checked_values():
    # sims [[1, 0], [0.6, 0.8]], t = 1, b = -1: logits [[0, -1], [-0.4, -0.2]]; positives on the diagonal.
    s, t = torch.tensor([[1.0, 0.0], [0.6, 0.8]]), torch.eye(2)
    out = siglip_loss(s, t, torch.tensor(0.0), torch.tensor(-1.0))
    hand = (_softplus(0.0) + _softplus(-1.0) + _softplus(-0.4) + _softplus(0.2)) / 2   # -log sigmoid(x) = softplus(-x)
    assert hand == pytest.approx(1.1587815, abs=1e-6)
    assert out.loss.item() == pytest.approx(hand, rel=1e-6)
    # Same caption text: the off-diagonal pairs are neither positives nor negatives.
    masked = siglip_loss(s, t, torch.tensor(0.0), torch.tensor(-1.0), caption_ids=torch.tensor([5, 5]))
    assert masked.loss.item() == pytest.approx((_softplus(0.0) + _softplus(0.2)) / 2, rel=1e-6)
    # The paper's start (t = 10, b = -10) on a perfect batch: positives at logit 0, negatives at -10.
    start = siglip_loss(torch.eye(2), torch.eye(2), torch.tensor(math.log(10.0)), torch.tensor(-10.0))
    assert start.loss.item() == pytest.approx(math.log(2) + _softplus(-10.0), rel=1e-6)


def test_siglip_bank_negatives_add_their_terms_and_masked_ones_nothing():
    s, t, scale, bias = torch.eye(2), torch.eye(2), torch.tensor(0.0), torch.tensor(0.0, requires_grad=True)
    base = siglip_loss(s, t, scale, bias).loss.item()
    extra = torch.tensor([[0.5, float("-inf")], [float("-inf"), float("-inf")]])
    out = siglip_loss(s, t, scale, bias, extra_logits=extra)
    assert out.loss.item() == pytest.approx(base + _softplus(0.5) / 2, rel=1e-6)
    out.loss.backward()
    assert torch.isfinite(bias.grad) and bias.grad.item() != 0.0


def test_focal_infonce_hand_checked_and_gamma_zero_is_infonce():
    # eye(2) at t = 1: each row's own pair has p = e / (e + 1); focal weight (1 - p)^2.
    p = math.e / (math.e + 1)
    out = clip_loss(torch.eye(2), torch.eye(2), torch.tensor(0.0), focal_gamma=2.0)
    assert out.loss.item() == pytest.approx((1 - p) ** 2 * -math.log(p), rel=1e-6)
    assert out.loss.item() == pytest.approx(0.0226581, abs=1e-6)
    s, t, scale = unit(6, 8, 1), unit(6, 8, 2), torch.tensor(2.0)
    assert clip_loss(s, t, scale, focal_gamma=0.0).loss.item() == pytest.approx(clip_loss(s, t, scale).loss.item())
    assert clip_loss(s, t, scale, focal_gamma=2.0).loss.item() < clip_loss(s, t, scale).loss.item()


def test_contrastive_loss_picks_the_configured_loss():
    s, t, scale, bias = unit(5, 8, 1), unit(5, 8, 2), torch.tensor(1.0), torch.tensor(-2.0)
    ids = torch.tensor([1, 1, 2, 3, 4])
    assert contrastive_loss("infonce")(s, t, scale, None, caption_ids=ids).loss.item() == pytest.approx(
        clip_loss(s, t, scale, caption_ids=ids).loss.item())
    # focal_gamma only matters to focal_infonce
    assert contrastive_loss("infonce", 3.0)(s, t, scale, None).loss.item() == pytest.approx(
        clip_loss(s, t, scale).loss.item())
    assert contrastive_loss("focal_infonce", 3.0)(s, t, scale, None).loss.item() == pytest.approx(
        clip_loss(s, t, scale, focal_gamma=3.0).loss.item())
    assert contrastive_loss("siglip")(s, t, scale, bias).loss.item() == pytest.approx(
        siglip_loss(s, t, scale, bias).loss.item())
    with pytest.raises(ValueError, match="unknown loss"):
        contrastive_loss("triplet")


def test_siglip_model_starts_at_the_papers_values_and_infonce_has_no_bias():
    cfg = {"output_dim": 4, "temperature_init": 0.02, "learnable_temperature": True}
    sig = build_clip_model(torch.nn.Linear(3, 4), 5, {**cfg, "loss": "siglip"})
    assert SIGLIP_TEMPERATURE_INIT == 0.1 and sig.temperature == pytest.approx(0.1)
    assert sig.logit_scale.item() == pytest.approx(math.log(10.0))
    assert sig.logit_bias.item() == SIGLIP_BIAS_INIT == -10.0 and "logit_bias" in sig.state_dict()
    plain = build_clip_model(torch.nn.Linear(3, 4), 5, cfg)          # a config from before the loss key
    assert plain.logit_bias is None and "logit_bias" not in plain.state_dict()
    assert plain.temperature == pytest.approx(0.02)


@pytest.mark.parametrize("loss", ["siglip", "focal_infonce"])
def test_each_loss_trains_and_siglip_bias_is_saved_and_loaded(tmp_path, loss):
    from test_trainer import HashTextEncoder, tiny_config, tiny_data

    from homeclip.training.checkpoint import load_checkpoint, load_model
    from homeclip.training.trainer import train

    result = train(tiny_config(tmp_path, loss=loss), data=tiny_data(), text_encoder=HashTextEncoder(), progress=False)
    assert result.final_loss is not None and math.isfinite(result.final_loss)
    saved = load_checkpoint(tmp_path / "run" / "final_model.pt")
    model = load_model(tmp_path / "run" / "final_model.pt").model
    if loss == "siglip":
        assert saved["config"]["loss"] == "siglip"
        learned = saved["model"]["logit_bias"].item()
        assert learned != SIGLIP_BIAS_INIT and model.logit_bias.item() == learned
    else:
        assert "logit_bias" not in saved["model"] and model.logit_bias is None
