// Seeding: one user seed drives every random stream of a run, so the same seed, thread count and
// SIMD level give identical results (DESIGN.md "Determinism").
#pragma once

#include <cstdint>
#include <string>

#include <torch/torch.h>

namespace lmlab {

// Seeds LibTorch's global generator (parameter initialisation, dropout).
void seed_everything(uint64_t seed);

// An independent seed for one named purpose ("data", "init", ...), derived by hashing, so adding a
// new stream never shifts the others.
uint64_t derive_seed(uint64_t seed, const std::string& purpose);

// A private CPU generator for torch::randn / randint / randperm calls that must not depend on
// what else consumed the global generator.
torch::Generator make_generator(uint64_t seed);

}  // namespace lmlab
