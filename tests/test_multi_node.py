"""Multi-node training on loopback: two "machines" (two ``accelerate launch`` with machine_rank 0 and 1,
one process each, gloo on CPU) train the tiny recipe for two steps and end with the same weights.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
WRAPPER = ROOT / "tests" / "fixtures" / "train_dumping_weights.py"
MULTI_NODE_CONFIGS = sorted((ROOT / "recipes" / "accelerate").glob("multi-node-*.yaml"))
TINY = shlex.split(
    "--config recipes/configs/tiny-cpu.yaml --num_train 20 --num_validation 4 --num_test 4 --num_test_unseen 4 "
    "--tiny_hidden_size 32 --tiny_num_layers 1 --tiny_num_heads 2 --tiny_intermediate_size 64 --tiny_vocab_size 400 "
    "--pseudo_name_copies 1 --augment_factor 0 --max_steps 2 --eval_strategy no --save_strategy no "
    "--disable_tqdm true"
)


@pytest.mark.parametrize("config", MULTI_NODE_CONFIGS, ids=[c.name for c in MULTI_NODE_CONFIGS])
def test_multi_node_configs_load_with_two_machines(config: Path) -> None:
    from accelerate.commands.config.config_args import load_config_from_file

    loaded = load_config_from_file(str(config))
    assert loaded.num_machines == 2 and loaded.num_processes % loaded.num_machines == 0
    assert loaded.rdzv_backend == "static" and loaded.main_process_port


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_two_machines_on_loopback_train_the_same_model(tmp_path: Path) -> None:
    """About 20 s on the shared 2-core machine (two launchers, two ranks importing torch)."""
    output = tmp_path / "out"  # one folder, as on the shared storage of a real cluster
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HF_DATASETS_CACHE": str(tmp_path / "hf-datasets"),
        "HF_HUB_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    port = str(free_port())
    launch = [sys.executable, "-m", "accelerate.commands.accelerate_cli", "launch"]
    machines = [
        subprocess.Popen(
            [
                *launch,
                "--config_file", "recipes/accelerate/multi-node-cpu.yaml",
                "--num_machines", "2", "--machine_rank", str(rank),
                "--main_process_ip", "127.0.0.1", "--main_process_port", port,
                str(WRAPPER), *TINY, "--evaluate_splits", "[]", "--output_dir", str(output),
            ],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        for rank in (0, 1)
    ]  # fmt: skip
    logs = [machine.communicate(timeout=600)[0] for machine in machines]
    for machine, log in zip(machines, logs, strict=True):
        assert machine.returncode == 0, log[-4000:]
    first, second = (torch.load(output / f"rank-{r}.pt") for r in (0, 1))
    assert first.keys() == second.keys() and first
    assert all(torch.equal(first[name], second[name]) for name in first)
    # both ranks took part: 40 examples at 16 per rank are one epoch in 2 steps (3 steps alone)
    import json

    state = json.loads((output / "trainer_state.json").read_text())
    assert state["global_step"] == 2 and state["epoch"] == pytest.approx(1.0)
    from safetensors.torch import load_file

    saved = load_file(output / "model.safetensors")
    assert all(torch.equal(saved[name], first[name]) for name in saved)
