"""lmlab's layers and ops under torch.nn.parallel.DistributedDataParallel: two ranks started by
torchrun on loopback (gloo) train as one process with the same global batch (distributed/ddp_worker.py)."""
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

WORKER = pathlib.Path(__file__).parent / "distributed" / "ddp_worker.py"


@pytest.mark.skipif(shutil.which("torchrun") is None, reason="torchrun (python3-torch) is missing")
def test_layers_train_under_distributed_data_parallel(tmp_path):
    # Debian's torchrun fails before starting a worker with its default --redirects 0 (docs/distributed.md).
    port = str(20000 + os.getpid() % 20000)
    cmd = ["torchrun", "--redirects", "1", "--tee", "1", "--log_dir", str(tmp_path / "logs"), "--nproc_per_node", "2",
           "--master_port", port, str(WORKER)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "rank 0: ok" in out and "rank 1: ok" in out, out
