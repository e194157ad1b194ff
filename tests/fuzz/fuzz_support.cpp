// What every fuzz target shares (fuzz_target.h).
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "fuzz_target.h"

namespace lmlab::fuzz {

void property_broken(const std::string& what) {
#ifdef LMLAB_LIBFUZZER
  std::fprintf(stderr, "property broken: %s\n", what.c_str());
  std::abort();
#else
  throw std::logic_error("property broken: " + what);
#endif
}

}  // namespace lmlab::fuzz
