// Random Vector Accelerating (include/lmlab/optim/random_vector_accelerating.h).
#include "lmlab/optim/random_vector_accelerating.h"

#include "lmlab/core/error.h"
#include "lmlab/core/seed.h"
#include "lmlab/kernels/optim_step.h"

namespace lmlab::optim {

RandomVectorAccelerating::RandomVectorAccelerating(torch::optim::Optimizer& base,
                                                   RandomVectorAcceleratingOptions options)
    : StepWrapper(base), options_(options), generator_(make_generator(options.seed())) {
  LMLAB_CHECK(options.subspace_dim() >= 0, UsageError,
              "RandomVectorAcceleratingOptions::subspace_dim must be >= 0 (0: all coordinates); got ",
              options.subspace_dim());
}

kernels::GaussianDots RandomVectorAccelerating::fill(const TensorList& like, const TensorList* x,
                                                     const std::vector<double>& weights) {
  if (scratch_.size() != like.size()) scratch_.assign(like.size(), torch::Tensor());
  const auto& kernels = kernels::optim_kernels();
  // A stream per (seed, step): the kernel mixes the key, so neighbouring steps are unrelated.
  const uint64_t key = derive_seed(options_.seed(), "rva draw") ^ uint64_t(steps());
  uint64_t count = 0;
  for (const auto& t : like) count += uint64_t(t.numel() + 1) / 2 * 2;
  LMLAB_CHECK(count <= (uint64_t(1) << 32), UsageError, "RandomVectorAccelerating draws at most 2^32 coordinates "
              "over all parameters; got ", count, "; set subspace_dim (optim.rva_subspace_dim) to draw fewer");
  kernels::GaussianDots total;
  uint64_t start = 0;
  for (size_t i = 0; i < like.size(); ++i) {
    if (!scratch_[i].defined() || scratch_[i].sizes() != like[i].sizes())
      scratch_[i] = torch::empty(like[i].sizes(), torch::kFloat);
    float* v = scratch_[i].data_ptr<float>();
    const float* xi = x == nullptr ? nullptr : (*x)[i].data_ptr<float>();
    auto dots = over_slices<kernels::GaussianDots>(like[i].numel(), [&](int64_t begin, int64_t end) {
      return kernels.gaussian_fill(v + begin, xi == nullptr ? nullptr : xi + begin, end - begin, start + begin, key);
    });
    if (!weights.empty()) dots.v_x *= weights[i];
    total += dots;
    start += uint64_t(like[i].numel() + 1) / 2 * 2;
  }
  return total;
}

bool RandomVectorAccelerating::in_subspace(const TensorList& like) const {
  int64_t total = 0;
  for (const auto& t : like) total += t.numel();
  return options_.subspace_dim() > 0 && options_.subspace_dim() < total;
}

TensorList RandomVectorAccelerating::draw(const TensorList& like) {
  int64_t total = 0;
  for (const auto& t : like) total += t.numel();
  if (!in_subspace(like)) {
    fill(like);
    TensorList v;
    for (size_t i = 0; i < like.size(); ++i) v.push_back(scratch_[i].to(like[i].scalar_type()));
    return v;
  }
  const auto dtype = like.front().options();
  const auto coords = torch::randperm(total, generator_, torch::kLong).narrow(0, 0, options_.subspace_dim());
  const auto flat =
      torch::zeros({total}, dtype).index_put_({coords}, torch::randn({options_.subspace_dim()}, generator_, dtype));
  TensorList v;
  int64_t offset = 0;
  for (const auto& t : like) {
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

// With u = lr b per group: d = u + 2 <v, u> / ||v||^2 v (the sign of <v, u> orients v), so
// p <- p - lr b - c v with c = 2 <v, u> / ||v||^2.
void RandomVectorAccelerating::fused_step(MomentumStep& m) {
  m.update();
  if (m.dots().buffer_buffer == 0) return m.along();  // no step to accelerate
  TensorList buffers;
  std::vector<double> lrs;
  for (size_t i = 0; i < m.groups().size(); ++i)
    for (const auto& b : m.groups()[i].buffers) {
      buffers.push_back(b);
      lrs.push_back(base().param_groups()[i].options().get_lr());
    }
  TensorList v;
  double vu = 0, vv = 0;
  if (in_subspace(buffers)) {
    v = draw(buffers);
    for (size_t i = 0; i < v.size(); ++i) vu += lrs[i] * global_dot({v[i]}, {buffers[i]});
    vv = global_dot(v, v);
  } else {
    const auto dots = fill(buffers, &buffers, lrs);
    v = scratch_, vu = dots.v_x, vv = dots.v_v;
  }
  if (vv == 0) return m.along();  // every drawn coordinate zero: keep the base step
  m.along(v, 2 * vu / vv);
}

void RandomVectorAccelerating::save(torch::serialize::OutputArchive& archive) const {
  StepWrapper::save(archive);
  archive.write("seed", torch::tensor(int64_t(options_.seed())));
  archive.write("generator_state", generator_.get_state());
}

void RandomVectorAccelerating::load(torch::serialize::InputArchive& archive) {
  StepWrapper::load(archive);
  torch::Tensor seed, state;  // fresh tensors: reading into a defined one resizes its storage
  if (archive.try_read("seed", seed)) options_.seed(uint64_t(seed.item<int64_t>()));
  archive.read("generator_state", state);
  generator_.set_state(state);
}

}  // namespace lmlab::optim
