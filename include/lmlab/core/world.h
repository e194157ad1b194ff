// The world of processes lmlab runs in: one process, or one rank of several started by torchrun
// (or Slurm's srun) with PyTorch's environment variables RANK, WORLD_SIZE, LOCAL_RANK,
// LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT. The ranks meet in a c10d TCPStore (LibTorch's key-value store at
// MASTER_ADDR:MASTER_PORT, the rendezvous PyTorch itself uses): rank 0 serves it, unless torchrun's
// agent already does (TORCHELASTIC_USE_AGENT_STORE=True), in which case every rank is a client.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <torch/csrc/distributed/c10d/Store.hpp>

#include "lmlab/core/run.h"

namespace lmlab {

struct World {
  int rank = 0, size = 1, local_rank = 0, local_size = 1;  // local: the ranks on this node
  std::string master_addr;  // "" for one process
  int master_port = 0;
  bool agent_store = false;  // torchrun's agent serves the store at MASTER_ADDR:MASTER_PORT
  int restart = 0;           // torchrun's TORCHELASTIC_RESTART_COUNT: the store outlives a restart

  bool distributed() const { return size > 1; }
  // "one process" or "rank 1 of 2 (local rank 1), store 127.0.0.1:29500 served by torchrun's agent".
  std::string describe() const;
};

// The world the environment describes; one process when WORLD_SIZE is unset. UsageError naming the
// variable when a value is not a number, out of range, or one that a world of several needs is
// missing.
World world_from_env();

// The store every rank of `world` shares (world.distributed() must hold); DataError naming the
// address when it cannot be reached within `timeout`.
c10::intrusive_ptr<c10d::Store> connect_store(const World& world, std::chrono::milliseconds timeout);

// A text value in the store; get_text waits until the key is set (up to the store's timeout).
void set_text(c10d::Store& store, const std::string& key, const std::string& text);
std::string get_text(c10d::Store& store, const std::string& key);

// The sweep points of one run shared through `store` under keys that start with `prefix` (one
// prefix per run): a claim is a counter, a finished point its stored line, a failure its message.
std::unique_ptr<PointShare> store_point_share(c10::intrusive_ptr<c10d::Store> store, std::string prefix, int rank);

}  // namespace lmlab
