// Random Vector Accelerating (include/lmlab/optim/random_vector_accelerating.h).
#include "lmlab/optim/random_vector_accelerating.h"

#include "lmlab/core/archive.h"
#include "lmlab/core/error.h"
#include "lmlab/core/seed.h"

namespace lmlab::optim {

RandomVectorAccelerating::RandomVectorAccelerating(torch::optim::Optimizer& base,
                                                   RandomVectorAcceleratingOptions options)
    : StepWrapper(base), options_(options), generator_(make_generator(options.seed())) {
  LMLAB_CHECK(options.subspace_dim() >= 0, UsageError,
              "RandomVectorAcceleratingOptions::subspace_dim must be >= 0 (0: all coordinates); got ",
              options.subspace_dim());
}

TensorList RandomVectorAccelerating::draw(const TensorList& u) {
  int64_t total = 0;
  for (const auto& t : u) total += t.numel();
  const auto dtype = u.front().options();  // drawn in the parameters' dtype, no conversion
  torch::Tensor flat;
  if (options_.subspace_dim() == 0 || options_.subspace_dim() >= total) {
    flat = torch::randn({total}, generator_, dtype);
  } else {
    const auto coords = torch::randperm(total, generator_, torch::kLong).narrow(0, 0, options_.subspace_dim());
    flat = torch::zeros({total}, dtype).index_put_({coords}, torch::randn({options_.subspace_dim()}, generator_, dtype));
  }
  TensorList v;
  int64_t offset = 0;
  for (const auto& t : u) {
    v.push_back(flat.narrow(0, offset, t.numel()).view(t.sizes()).to(t.scalar_type()));
    offset += t.numel();
  }
  return v;
}

void RandomVectorAccelerating::adjust(const Snapshot& s, const TensorList& u) {
  if (global_dot(u, u) == 0) return;  // no step to accelerate
  TensorList v = draw(u);
  if (global_dot(v, v) == 0) return;  // every drawn coordinate zero: keep the base step
  if (global_dot(v, u) < 0)
    for (auto& t : v) t.neg_();
  take_step(s, accelerated_direction(u, v));
}

void RandomVectorAccelerating::save(torch::serialize::OutputArchive& archive) const {
  StepWrapper::save(archive);
  archive.write("generator_state", generator_.get_state());
}

void RandomVectorAccelerating::load(torch::serialize::InputArchive& archive) {
  torch::Tensor state;
  LMLAB_CHECK(archive.try_read("generator_state", state), DataError,
              "optimizer state lacks 'generator_state'; it was not saved by Random Vector Accelerating");
  torch::Generator generator = make_generator(options_.seed());  // not clone(): it leaks in LibTorch 1.13
  try {
    generator.set_state(state);
  } catch (const c10::Error& e) {
    throw DataError(std::string("optimizer state: 'generator_state' is not a random generator's state (") +
                    e.what_without_backtrace() + "); it was not saved by Random Vector Accelerating");
  }
  StepWrapper::load(archive);
  generator_ = std::move(generator);
}

}  // namespace lmlab::optim
