"""Two CPU processes (gloo), as under `torchrun --nproc_per_node=2`: gathered loss, identical weights."""
from __future__ import annotations

import json
import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from homeclip.training.distributed import DistInfo, any_rank, gather_no_grad, gather_with_grad
from homeclip.training.losses import clip_loss

WORLD = 2
GLOBAL_BATCH = 8


def global_batch():
    """A global batch of inputs, caption embeddings and caption ids (two captions shared by two windows)."""
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(GLOBAL_BATCH, 5, generator=g), torch.randn(GLOBAL_BATCH, 3, generator=g)
    caption_ids = torch.tensor([0, 1, 2, 3, 4, 5, 6, 0])
    return x, y, caption_ids


def loss_and_grads(x, y, caption_ids, info: DistInfo):
    """The contrastive loss of this rank's rows (gathered over ranks) and the DDP-averaged gradients."""
    torch.manual_seed(1)
    sensor_net, text_net = torch.nn.Linear(5, 4), torch.nn.Linear(3, 4)
    scale = torch.nn.Parameter(torch.tensor(2.0))
    s = torch.nn.functional.normalize(sensor_net(x), dim=-1)
    t = torch.nn.functional.normalize(text_net(y), dim=-1)
    out = clip_loss(gather_with_grad(s, info), gather_with_grad(t, info), scale,
                    caption_ids=gather_no_grad(caption_ids, info))
    out.loss.backward()
    grads = [p.grad.clone() for p in (*sensor_net.parameters(), *text_net.parameters(), scale)]
    if info.enabled:   # what DistributedDataParallel does: average gradients over ranks
        for gr in grads:
            dist.all_reduce(gr)
            gr /= info.world_size
    return out.loss.detach(), grads


def _worker(rank: int, port: int, tmp: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(WORLD),
                      LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    from homeclip.training.trainer import Trainer
    from test_trainer import HashTextEncoder, tiny_config, tiny_data

    cfg = tiny_config(__import__("pathlib").Path(tmp), max_epochs=2, batch_size=6)
    trainer = Trainer(cfg, tiny_data(), text_encoder=HashTextEncoder(), progress=False)
    info = trainer.dist
    assert info.world_size == WORLD and info.rank == rank and dist.is_initialized()
    x, y, caps = global_batch()
    rows = slice(rank * GLOBAL_BATCH // WORLD, (rank + 1) * GLOBAL_BATCH // WORLD)
    loss, grads = loss_and_grads(x[rows], y[rows], caps[rows], info)
    stop = any_rank(rank == 1, info)   # one rank's Ctrl-C stops every rank
    result = trainer.run()
    torch.save({"loss": loss, "grads": grads, "stop": stop, "steps": result.steps,
                "weights": {k: v for k, v in trainer.model.state_dict().items() if torch.is_tensor(v)}},
               os.path.join(tmp, f"rank{rank}.pt"))
    dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.timeout(120)
def test_two_processes_gather_all_negatives_and_end_with_identical_weights(tmp_path):
    mp.start_processes(_worker, args=(_free_port(), str(tmp_path)), nprocs=WORLD, start_method="spawn")
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(WORLD))
    # the gathered loss equals the single-process loss on the same global batch, and so do the gradients
    single_loss, single_grads = loss_and_grads(*global_batch(), DistInfo())
    for r in (r0, r1):
        assert r["loss"].item() == pytest.approx(single_loss.item(), rel=1e-6)
        for a, b in zip(r["grads"], single_grads):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)
        assert r["stop"] is True
    # both ranks trained the same number of steps on disjoint shards and hold identical weights
    assert r0["steps"] == r1["steps"] == 2 * 4   # 48 windows / 2 ranks / batch 6 = 4 steps per epoch
    assert set(r0["weights"]) == set(r1["weights"])
    for k in r0["weights"]:
        assert torch.equal(r0["weights"][k], r1["weights"][k]), k
    # only rank 0 wrote outputs: one line per logged step, none doubled
    lines = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    steps = [x["step"] for x in lines if "loss" in x]
    assert steps == sorted(set(steps)) == [2, 4, 6, 8]
    hp = json.loads((tmp_path / "run" / "hyperparameters.json").read_text())
    assert hp["world_size"] == 2
    assert (tmp_path / "run" / "final_model.pt").is_file()
