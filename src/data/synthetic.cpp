// Seeded synthetic data (include/lmlab/data/synthetic.h): Gaussian inputs, unit-sphere points and
// the two-layer ReLU teacher y = a^T relu(W x / sqrt(d)) / sqrt(m) + noise.
#include "lmlab/data/synthetic.h"

#include <cmath>

#include "lmlab/core/error.h"
#include "lmlab/core/seed.h"

namespace lmlab {
namespace {

void check_shape(const char* caller, int64_t n, int64_t d) {
  LMLAB_CHECK(n >= 0 && d >= 1, UsageError, caller, ": n = ", n, " and d = ", d,
              " must satisfy n >= 0 and d >= 1");
}

void check_dtype(const char* caller, torch::Dtype dtype) {
  LMLAB_CHECK(dtype == torch::kFloat32 || dtype == torch::kFloat64, UsageError, caller, ": dtype ",
              dtype, " is not supported; use float32 or float64");
}

}  // namespace

torch::Tensor gaussian(int64_t n, int64_t d, uint64_t seed, torch::Dtype dtype) {
  check_shape("gaussian", n, d);
  check_dtype("gaussian", dtype);
  return torch::randn({n, d}, make_generator(seed), dtype);
}

torch::Tensor unit_sphere(int64_t n, int64_t d, uint64_t seed, torch::Dtype dtype) {
  check_shape("unit_sphere", n, d);
  check_dtype("unit_sphere", dtype);
  const torch::Tensor g = torch::randn({n, d}, make_generator(seed), torch::kFloat64);
  return (g / g.norm(2, {1}, /*keepdim=*/true)).to(dtype);
}

TeacherOptions& TeacherOptions::dim(int64_t d) {
  LMLAB_CHECK(d >= 1, UsageError, "TeacherOptions: dim ", d, " must be at least 1");
  dim_ = d;
  return *this;
}

TeacherOptions& TeacherOptions::teacher_width(int64_t m) {
  LMLAB_CHECK(m >= 1, UsageError, "TeacherOptions: teacher_width ", m, " must be at least 1");
  teacher_width_ = m;
  return *this;
}

TeacherOptions& TeacherOptions::noise_std(double sigma) {
  LMLAB_CHECK(std::isfinite(sigma) && sigma >= 0.0, UsageError, "TeacherOptions: noise_std ", sigma,
              " must be finite and >= 0 (0 gives noiseless labels)");
  noise_std_ = sigma;
  return *this;
}

TeacherOptions& TeacherOptions::seed(uint64_t seed) {
  seed_ = seed;
  return *this;
}

TeacherOptions& TeacherOptions::dtype(torch::Dtype dtype) {
  check_dtype("TeacherOptions", dtype);
  dtype_ = dtype;
  return *this;
}

TwoLayerTeacher::TwoLayerTeacher(const TeacherOptions& options) : options_(options) {
  torch::Generator generator = make_generator(derive_seed(options.seed(), "teacher"));
  W_ = torch::randn({options.teacher_width(), options.dim()}, generator, options.dtype());
  a_ = torch::randn({options.teacher_width()}, generator, options.dtype());
}

torch::Tensor TwoLayerTeacher::operator()(const torch::Tensor& x) const {
  LMLAB_CHECK(x.dim() == 2 && x.size(1) == options_.dim() && x.scalar_type() == options_.dtype(),
              UsageError, "TwoLayerTeacher: input of shape ", x.sizes(), " and dtype ",
              x.scalar_type(), ", expected [n,", options_.dim(), "] of ", options_.dtype());
  const double d = static_cast<double>(options_.dim());
  const double m = static_cast<double>(options_.teacher_width());
  const torch::Tensor hidden = torch::relu(x.matmul(W_.t()) / std::sqrt(d));  // [n,m]
  return hidden.matmul(a_).div_(std::sqrt(m)).unsqueeze_(1);                  // [n,1]
}

RegressionData TwoLayerTeacher::sample(int64_t n, uint64_t seed) const {
  torch::Tensor x = gaussian(n, options_.dim(), derive_seed(seed, "teacher-x"), options_.dtype());
  torch::Tensor y = (*this)(x);
  if (options_.noise_std() > 0.0) {
    const torch::Tensor noise =
        torch::randn({n, 1}, make_generator(derive_seed(seed, "teacher-noise")), options_.dtype());
    y.add_(noise, options_.noise_std());
  }
  return {x, y};
}

}  // namespace lmlab
