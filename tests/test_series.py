"""Windows -> series: fixed normalisation, left NaN padding, optional channels."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from homeclip.encoders.series import BASE_CHANNELS, SeriesConfig, build_series, state_signs

NAN = float("nan")


def _batch(ids, dts, mask, xy=None, states=None, tod=None):
    ids = torch.tensor(ids)
    mask = torch.tensor(mask)
    xy = torch.full((*ids.shape, 2), NAN) if xy is None else torch.tensor(xy, dtype=torch.float32)
    cats = {"sensor": ids, "room": ids // 2, "state": torch.tensor(states) if states is not None else ids * 0}
    return dict(categorical_features=cats, coordinates=xy, time_deltas=torch.tensor(dts, dtype=torch.float32),
                mask=mask, time_of_day=None if tod is None else torch.tensor(tod, dtype=torch.float32))


def test_base_channels_fixed_normalisation_and_left_padding():
    cfg = SeriesConfig(sensor_vocab_size=11, room_vocab_size=6)
    b = _batch([[4, 6, 0, 0], [10, 2, 8, 2]], [[1.0, math.e - 1, 0, 0], [0, 0, 0, 0]],
               [[True, True, False, False], [True] * 4])
    s = build_series(cfg, **b)
    assert s.shape == (2, 5, 4) and s.dtype == torch.float32
    # Row 0: two real events moved to the end, in order; NaN before them in every channel.
    assert torch.isnan(s[0, :, :2]).all()
    np.testing.assert_allclose(s[0, 0, 2:], [4 / 10, 6 / 10])            # id / (vocab size - 1), not batch max
    np.testing.assert_allclose(s[0, 1, 2:], [2 / 5, 3 / 5])
    np.testing.assert_allclose(s[0, 4, 2:], [math.log(2.0), 1.0], rtol=1e-6)
    assert torch.isnan(s[0, 2:4, 2:]).all()                               # unknown coordinates stay missing
    np.testing.assert_allclose(s[1, 0], [1.0, 0.2, 0.8, 0.2])


def test_window_series_does_not_depend_on_the_batch_or_padding():
    cfg = SeriesConfig(sensor_vocab_size=50, room_vocab_size=30)
    alone = build_series(cfg, **_batch([[3, 5, 7]], [[1.0, 2.0, 3.0]], [[True, True, True]],
                                       xy=[[[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]]))
    padded = build_series(cfg, **_batch(
        [[3, 5, 7, 0, 0, 0], [49, 48, 47, 46, 45, 44]], [[1.0, 2.0, 3.0, 0, 0, 0], [9.0] * 6],
        [[True, True, True, False, False, False], [True] * 6],
        xy=[[[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]] + [[NAN, NAN]] * 3, [[0.9, 0.9]] * 6]))
    torch.testing.assert_close(padded[0, :, -3:], alone[0])
    assert torch.isnan(padded[0, :, :3]).all()


def test_any_mask_pattern_is_compacted_in_order():
    cfg = SeriesConfig(sensor_vocab_size=11, room_vocab_size=11)
    s = build_series(cfg, **_batch([[1, 2, 3, 4, 5]], [[0.0] * 5], [[False, True, False, True, True]]))
    np.testing.assert_allclose(s[0, 0, 2:], [0.2, 0.4, 0.5])
    assert torch.isnan(s[0, 0, :2]).all()


def test_extra_channels_state_and_time_of_day():
    signs = state_signs(["<pad>", "<unk>", "ON", "off", "OPEN", "CLOSE", "PRESENT", "ABSENT", "23.5"])
    assert signs == [0, 0, 1, -1, 1, -1, 1, -1, 0]
    cfg = SeriesConfig(sensor_vocab_size=11, room_vocab_size=11, extra_channels=("state", "time_of_day"),
                       state_values=tuple(signs))
    assert cfg.channel_names == BASE_CHANNELS + ("state", "tod_sin", "tod_cos") and cfg.n_targets == 8
    s = build_series(cfg, **_batch([[1, 2, 0]], [[0.0] * 3], [[True, True, False]], states=[[2, 3, 0]],
                                   tod=[[21_600.0, 43_200.0, 0.0]]))
    assert s.shape == (1, 8, 3)
    np.testing.assert_allclose(s[0, 5, 1:], [1.0, -1.0])
    np.testing.assert_allclose(s[0, 6, 1:], [1.0, 0.0], atol=1e-6)     # 06:00 and 12:00
    np.testing.assert_allclose(s[0, 7, 1:], [0.0, -1.0], atol=1e-6)
    cov = SeriesConfig(sensor_vocab_size=11, room_vocab_size=11, extra_channels=("time_of_day",), covariates=True)
    assert cov.n_targets == 5 and len(cov.channel_names) == 7
    assert cov.to_dict()["channels"][-1] == "tod_cos"


@pytest.mark.parametrize("kwargs, match", [
    (dict(extra_channels=("weather",)), "unknown extra channel"),
    (dict(extra_channels=("state",)), "state_values"),
    (dict(covariates=True), "covariates=True needs extra_channels"),
    (dict(extra_channels=("time_of_day", "time_of_day")), "repeat"),
])
def test_bad_series_configs(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SeriesConfig(sensor_vocab_size=5, room_vocab_size=5, **kwargs)


def test_ids_outside_the_vocabulary_and_missing_inputs_are_errors():
    cfg = SeriesConfig(sensor_vocab_size=4, room_vocab_size=11)
    with pytest.raises(ValueError, match="sensor id 7 is outside the vocabulary"):
        build_series(cfg, **_batch([[7]], [[0.0]], [[True]]))
    tod = SeriesConfig(sensor_vocab_size=11, room_vocab_size=11, extra_channels=("time_of_day",))
    with pytest.raises(ValueError, match="needs the batch's time_of_day"):
        build_series(tod, **_batch([[1]], [[0.0]], [[True]]))
    st = SeriesConfig(sensor_vocab_size=11, room_vocab_size=11, extra_channels=("state",), state_values=(0.0, 1.0))
    with pytest.raises(ValueError, match="no entry in state_values"):
        build_series(st, **_batch([[1]], [[0.0]], [[True]], states=[[5]]))
