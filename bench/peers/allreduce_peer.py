"""torch.distributed.all_reduce on gloo (one rank of bench/distributed.sh): the peer of
bench/allreduce_bench.cpp, with the same sizes, iterations and repeats. Rank 0 prints one JSON line
per size: {"bytes", "iterations", "seconds": [per repeat]}."""
import json
import sys
import time

import torch
import torch.distributed as dist


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    dist.init_process_group("gloo")
    t = torch.full((1000,), float(dist.get_rank() + 1))
    dist.all_reduce(t)
    world = dist.get_world_size()
    assert t[0].item() == world * (world + 1) / 2, t[0].item()
    size = 4 << 10
    while size <= 64 << 20:
        iterations = min(200, max(10, (1 << 28) // size))
        t = torch.ones(size // 4)
        seconds = []
        for _ in range(repeats):
            dist.barrier()
            start = time.perf_counter()
            for _ in range(iterations):
                dist.all_reduce(t)
            seconds.append((time.perf_counter() - start) / iterations)
        if dist.get_rank() == 0:
            print(json.dumps({"bytes": size, "iterations": iterations, "seconds": seconds}), flush=True)
        size *= 4
    dist.barrier()


if __name__ == "__main__":
    main()
