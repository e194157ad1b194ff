// Synthetic generators: seed determinism, unit-sphere norms, and the teacher's exact formula.
#include "lmlab/data/synthetic.h"

#include <gtest/gtest.h>

#include <cmath>

#include "lmlab/core/error.h"

using namespace lmlab;

TEST(Synthetic, SameSeedIsBitwiseIdenticalAndSeedsDiffer) {
  torch::manual_seed(1);
  const torch::Tensor a = gaussian(50, 7, 42);
  torch::manual_seed(2);  // the global generator must not matter
  EXPECT_TRUE(torch::equal(gaussian(50, 7, 42), a));
  EXPECT_FALSE(torch::equal(gaussian(50, 7, 43), a));
  EXPECT_EQ(a.sizes(), (std::vector<int64_t>{50, 7}));
  EXPECT_EQ(a.scalar_type(), torch::kFloat32);
  EXPECT_EQ(gaussian(3, 2, 0, torch::kFloat64).scalar_type(), torch::kFloat64);
  EXPECT_TRUE(torch::equal(unit_sphere(20, 5, 9), unit_sphere(20, 5, 9)));
  EXPECT_FALSE(torch::equal(unit_sphere(20, 5, 9), unit_sphere(20, 5, 10)));
}

TEST(Synthetic, UnitSphereRowsHaveNormOne) {
  for (int64_t d : {1, 2, 3, 64, 1000}) {
    const torch::Tensor x = unit_sphere(200, d, 5);
    const torch::Tensor norms = x.to(torch::kFloat64).norm(2, {1});
    EXPECT_LT((norms - 1.0).abs().max().item<double>(), 1e-6) << "d = " << d;
  }
}

TEST(Synthetic, BadShapesAndDtypesAreUsageErrors) {
  EXPECT_THROW(gaussian(-1, 3, 0), UsageError);
  EXPECT_THROW(unit_sphere(3, 0, 0), UsageError);
  EXPECT_THROW(gaussian(3, 3, 0, torch::kInt64), UsageError);
  EXPECT_THROW(TeacherOptions().dim(0), UsageError);
  EXPECT_THROW(TeacherOptions().teacher_width(0), UsageError);
  EXPECT_THROW(TeacherOptions().noise_std(-0.5), UsageError);
  try {
    TeacherOptions().noise_std(NAN);
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("noise_std"), std::string::npos) << e.what();
  }
}

TEST(Teacher, ImplementsTheDocumentedFormula) {
  const TwoLayerTeacher teacher(
      TeacherOptions().dim(6).teacher_width(4).seed(11).dtype(torch::kFloat64));
  EXPECT_EQ(teacher.W().sizes(), (std::vector<int64_t>{4, 6}));
  EXPECT_EQ(teacher.a().sizes(), (std::vector<int64_t>{4}));
  const RegressionData data = teacher.sample(30, 1);
  EXPECT_EQ(data.x.sizes(), (std::vector<int64_t>{30, 6}));
  EXPECT_EQ(data.y.sizes(), (std::vector<int64_t>{30, 1}));
  // y_i = sum_j a_j relu(sum_k W_jk x_ik / sqrt(6)) / sqrt(4), written out loop by loop.
  const auto W = teacher.W().accessor<double, 2>();
  const auto a = teacher.a().accessor<double, 1>();
  const auto x = data.x.accessor<double, 2>();
  for (int64_t i = 0; i < 30; ++i) {
    double y = 0.0;
    for (int64_t j = 0; j < 4; ++j) {
      double pre = 0.0;
      for (int64_t k = 0; k < 6; ++k) pre += W[j][k] * x[i][k];
      y += a[j] * std::max(pre / std::sqrt(6.0), 0.0);
    }
    EXPECT_NEAR(data.y[i][0].item<double>(), y / 2.0, 1e-12);
  }
}

TEST(Teacher, SeedsFixWeightsDataAndNoise) {
  const TeacherOptions options = TeacherOptions().dim(8).teacher_width(5).noise_std(0.3).seed(4);
  const TwoLayerTeacher t1(options), t2(options);
  EXPECT_TRUE(torch::equal(t1.W(), t2.W()));
  EXPECT_TRUE(torch::equal(t1.a(), t2.a()));
  EXPECT_FALSE(torch::equal(TwoLayerTeacher(TeacherOptions(options).seed(5)).W(), t1.W()));
  const RegressionData d1 = t1.sample(100, 7), d2 = t2.sample(100, 7), d3 = t1.sample(100, 8);
  EXPECT_TRUE(torch::equal(d1.x, d2.x));
  EXPECT_TRUE(torch::equal(d1.y, d2.y));
  EXPECT_FALSE(torch::equal(d1.x, d3.x));
  // The noise is y - f(x): its sample std over 100 draws is 0.3 within about 4 standard errors
  // (the standard error of a sample std is sigma / sqrt(2n) = 0.021).
  const double noise_std = (d1.y - t1(d1.x)).std().item<double>();
  EXPECT_NEAR(noise_std, 0.3, 0.085);
  EXPECT_THROW(t1(torch::zeros({3, 7})), UsageError);
}
