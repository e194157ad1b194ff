// Seeding helpers (include/lmlab/core/seed.h).
#include "lmlab/core/seed.h"

#include <ATen/CPUGeneratorImpl.h>

namespace lmlab {

void seed_everything(uint64_t seed) { torch::manual_seed(seed); }

uint64_t derive_seed(uint64_t seed, const std::string& purpose) {
  // FNV-1a over the purpose, mixed with the seed by splitmix64's finaliser.
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : purpose) h = (h ^ c) * 1099511628211ull;
  uint64_t z = seed ^ h;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

torch::Generator make_generator(uint64_t seed) {
  return at::make_generator<at::CPUGeneratorImpl>(seed);
}

}  // namespace lmlab
