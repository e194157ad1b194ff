// Random Vector Accelerating (include/lmlab/optim/random_vector_accelerating.h).
#include "lmlab/optim/random_vector_accelerating.h"

#include <algorithm>
#include <mutex>
#include <unordered_set>

#include <ATen/CPUGeneratorImpl.h>

#include "lmlab/core/archive.h"
#include "lmlab/core/error.h"
#include "lmlab/core/seed.h"
#include "lmlab/kernels/optim_step.h"

namespace lmlab::optim {
namespace {

int64_t total_numel(const TensorList& list) {
  int64_t total = 0;
  for (const auto& t : list) total += t.numel();
  return total;
}

// The draws of a full-space vector over `list`: each tensor starts at an even draw.
uint64_t draw_count(const TensorList& list) {
  uint64_t count = 0;
  for (const auto& t : list) count += uint64_t(t.numel() + 1) / 2 * 2;
  return count;
}

// The stream's counter has 32 bits.
void check_draw_count(uint64_t count) {
  LMLAB_CHECK(count <= (uint64_t(1) << 32), UsageError, "RandomVectorAccelerating draws at most 2^32 coordinates "
              "over all parameters; got ", count, "; set subspace_dim (optim.rva_subspace_dim) to draw fewer");
}

}  // namespace

RandomVectorAccelerating::RandomVectorAccelerating(torch::optim::Optimizer& base,
                                                   RandomVectorAcceleratingOptions options)
    : StepWrapper(base), options_(options), generator_(make_generator(options.seed())) {
  LMLAB_CHECK(options.subspace_dim() >= 0, UsageError,
              "RandomVectorAcceleratingOptions::subspace_dim must be >= 0 (0: all coordinates); got ",
              options.subspace_dim());
  if (options.subspace_dim() == 0) {  // before any step: every parameter the base has now
    TensorList all;
    for (auto& group : base.param_groups()) all.insert(all.end(), group.params().begin(), group.params().end());
    check_draw_count(draw_count(all));
  }
}

kernels::GaussianDots RandomVectorAccelerating::fill(const TensorList& like, const TensorList* x,
                                                     const std::vector<double>& weights) {
  if (scratch_.size() != like.size()) scratch_.assign(like.size(), torch::Tensor());
  const auto& kernels = kernels::optim_kernels();
  const uint64_t key = stream_key();
  check_draw_count(draw_count(like));  // parameter groups may have been added since the constructor
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
  return options_.subspace_dim() > 0 && options_.subspace_dim() < total_numel(like);
}

uint64_t RandomVectorAccelerating::stream_key() const {
  return derive_seed(options_.seed(), "rva draw") ^ uint64_t(steps());  // the kernel mixes the key
}

RandomVectorAccelerating::SubspaceDraw RandomVectorAccelerating::draw_subspace(int64_t total) {
  const int64_t k = options_.subspace_dim();
  SubspaceDraw d;
  {
    // Floyd's algorithm: k distinct coordinates with k draws.
    std::unordered_set<int64_t> chosen(2 * k);
    auto* gen = at::check_generator<at::CPUGeneratorImpl>(generator_);
    std::lock_guard<std::mutex> lock(generator_.mutex());
    for (int64_t j = total - k; j < total; ++j) {
      const auto t = int64_t(gen->random64() % uint64_t(j + 1));
      if (!chosen.insert(t).second) chosen.insert(j);
    }
    d.coords.assign(chosen.begin(), chosen.end());
  }
  std::sort(d.coords.begin(), d.coords.end());
  d.values.resize(k);
  kernels::optim_kernels().gaussian_fill(d.values.data(), nullptr, k, 0, stream_key());
  return d;
}

TensorList RandomVectorAccelerating::draw(const TensorList& like) {
  if (!in_subspace(like)) {
    fill(like);
    TensorList v;
    for (size_t i = 0; i < like.size(); ++i) v.push_back(scratch_[i].to(like[i].scalar_type()));
    return v;
  }
  const int64_t total = total_numel(like);
  const SubspaceDraw d = draw_subspace(total);
  const auto flat = torch::zeros({total}, like.front().options())
                        .index_put_({torch::tensor(d.coords, torch::kLong)},
                                    torch::tensor(d.values).to(like.front().scalar_type()));
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
  TensorList buffers, params;
  std::vector<double> lrs;
  for (size_t i = 0; i < m.groups().size(); ++i)
    for (size_t j = 0; j < m.groups()[i].buffers.size(); ++j) {
      buffers.push_back(m.groups()[i].buffers[j]);
      params.push_back(m.groups()[i].params[j]);
      lrs.push_back(base().param_groups()[i].options().get_lr());
    }
  if (!in_subspace(buffers)) {
    const auto dots = fill(buffers, &buffers, lrs);
    if (dots.v_v == 0) return m.along();  // every drawn coordinate zero: keep the base step
    return m.along(scratch_, 2 * dots.v_x / dots.v_v);
  }
  // On k coordinates: the inner products over them, the base step, then c v on them alone.
  const SubspaceDraw d = draw_subspace(total_numel(buffers));
  std::vector<std::pair<size_t, int64_t>> where;  // (tensor, offset in it) of each coordinate
  double vu = 0, vv = 0;
  size_t t = 0;
  for (size_t i = 0, start = 0; i < d.coords.size(); ++i) {
    while (d.coords[i] >= int64_t(start) + buffers[t].numel()) start += buffers[t++].numel();
    where.emplace_back(t, d.coords[i] - int64_t(start));
    vu += lrs[t] * d.values[i] * buffers[t].data_ptr<float>()[where.back().second];
    vv += double(d.values[i]) * d.values[i];
  }
  m.along();
  if (vv == 0) return;
  const double c = 2 * vu / vv;
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < where.size(); ++i) params[where[i].first].data_ptr<float>()[where[i].second] -= float(c * d.values[i]);
}

void RandomVectorAccelerating::save(torch::serialize::OutputArchive& archive) const {
  StepWrapper::save(archive);
  archive.write("seed", torch::tensor(int64_t(options_.seed())));
  archive.write("generator_state", generator_.get_state());
}

void RandomVectorAccelerating::load(torch::serialize::InputArchive& archive) {
  torch::Tensor seed, state;  // fresh tensors: reading into a defined one resizes its storage
  const bool has_seed = archive.try_read("seed", seed);  // absent in states saved before the keyed draws
  LMLAB_CHECK(!has_seed || (seed.numel() == 1 && seed.scalar_type() == torch::kLong), DataError,
              "optimizer state: 'seed' is not one int64; it was not saved by Random Vector Accelerating");
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
  if (has_seed) options_.seed(uint64_t(seed.item<int64_t>()));
}

}  // namespace lmlab::optim
