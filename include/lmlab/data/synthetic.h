// Seeded synthetic data: Gaussian inputs, points on the unit sphere, and teacher-student
// regression with a fixed random two-layer ReLU teacher (the setting of NTK / mean-field width
// studies). Every function draws from its own lmlab::make_generator, never the global generator:
// the same arguments give bitwise identical tensors.
//
// Shapes: n examples, d input dimension, m teacher width; x [n,d], y [n,1], W [m,d], a [m].
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace lmlab {

// x ~ N(0, I_d), [n,d] of `dtype` (kFloat32 or kFloat64).
torch::Tensor gaussian(int64_t n, int64_t d, uint64_t seed, torch::Dtype dtype = torch::kFloat32);

// Uniform on the unit sphere S^{d-1}: g / ||g|| for g ~ N(0, I_d), normalised in float64 and then
// rounded to `dtype`, so each row's norm is 1 to within the dtype's rounding. [n,d].
torch::Tensor unit_sphere(int64_t n, int64_t d, uint64_t seed,
                          torch::Dtype dtype = torch::kFloat32);

// Options of TwoLayerTeacher; each setter rejects an out-of-range value with a UsageError.
class TeacherOptions {
 public:
  TeacherOptions& dim(int64_t d);             // d >= 1, default 32
  TeacherOptions& teacher_width(int64_t m);   // m >= 1, default 8
  TeacherOptions& noise_std(double sigma);    // sigma >= 0, default 0 (noiseless labels)
  TeacherOptions& seed(uint64_t seed);        // seed of the teacher's weights, default 0
  TeacherOptions& dtype(torch::Dtype dtype);  // kFloat32 (default) or kFloat64
  int64_t dim() const { return dim_; }
  int64_t teacher_width() const { return teacher_width_; }
  double noise_std() const { return noise_std_; }
  uint64_t seed() const { return seed_; }
  torch::Dtype dtype() const { return dtype_; }

 private:
  int64_t dim_ = 32;
  int64_t teacher_width_ = 8;
  double noise_std_ = 0.0;
  uint64_t seed_ = 0;
  torch::Dtype dtype_ = torch::kFloat32;
};

struct RegressionData {
  torch::Tensor x;  // [n,d] inputs
  torch::Tensor y;  // [n,1] targets
};

// The teacher f(x) = a^T relu(W x / sqrt(d)) / sqrt(m), with W [m,d] and a [m] entries i.i.d.
// N(0,1), drawn (W first, then a) from make_generator(derive_seed(seed, "teacher")). With x ~
// N(0, I_d), each pre-activation is N(0, ||w_j||^2 / d) ~ N(0, 1) and Var f(x) = O(1) for any m.
class TwoLayerTeacher {
 public:
  explicit TwoLayerTeacher(const TeacherOptions& options);

  // Noiseless f(x) for x [n,d] of the options' dtype: [n,1].
  torch::Tensor operator()(const torch::Tensor& x) const;
  // x ~ N(0, I_d) from gaussian(n, d, derive_seed(seed, "teacher-x")) and y = f(x) + noise_std * e,
  // e ~ N(0,1) from make_generator(derive_seed(seed, "teacher-noise")).
  RegressionData sample(int64_t n, uint64_t seed) const;

  const torch::Tensor& W() const { return W_; }
  const torch::Tensor& a() const { return a_; }
  const TeacherOptions& options() const { return options_; }

 private:
  TeacherOptions options_;
  torch::Tensor W_;
  torch::Tensor a_;
};

}  // namespace lmlab
