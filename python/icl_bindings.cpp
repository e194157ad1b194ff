// Python bindings of in-context learning (P9): prompt generators, baselines, the learner
// (checkpoints, training, prediction), RICL and LARICL (lmlab/icl.py wraps them).
#include <string>
#include <tuple>
#include <vector>

#include "bindings.h"
#include "lmlab/icl/baselines.h"
#include "lmlab/icl/checkpoint.h"
#include "lmlab/icl/laricl.h"
#include "lmlab/icl/learner.h"
#include "lmlab/icl/learner_training.h"
#include "lmlab/icl/linear_attention.h"
#include "lmlab/icl/prompt_tuning.h"
#include "lmlab/icl/prompts.h"
#include "lmlab/icl/ricl.h"
#include "lmlab/core/seed.h"

namespace lmlab_python {
namespace {

using Triple = std::tuple<torch::Tensor, torch::Tensor, torch::Tensor>;
Triple as_tuple(const lmlab::icl::Prompts& p) { return {p.xs, p.ys, p.ws}; }

// The learner's predictor, or the linear-attention learner when `learner` is None.
lmlab::icl::WeightedPredictor predictor(const std::shared_ptr<lmlab::icl::InContextLearnerImpl>& learner) {
  if (!learner) return lmlab::icl::linear_attention_predictor();
  return lmlab::icl::learner_predictor(lmlab::icl::InContextLearner(learner));
}

}  // namespace

void bind_icl(py::module_& m) {
  using namespace lmlab::icl;
  m.def("icl_regression_prompts", [](int64_t dim, int64_t points, int64_t batch, double noise_std, int64_t active_dim,
                                     uint64_t seed) {
    return as_tuple(regression_prompts(RegressionPromptOptions(dim, points).noise_std(noise_std).active_dim(active_dim),
                                       batch, lmlab::make_generator(seed)));
  }, py::arg("dim"), py::arg("points"), py::arg("batch"), py::arg("noise_std"), py::arg("active_dim"), py::arg("seed"));
  m.def("icl_bias_prompts", [](const torch::Tensor& xs, const torch::Tensor& ys, const torch::Tensor& ws,
                               const std::string& kind, double strength, double corrupt_std, uint64_t seed) {
    return as_tuple(bias_prompts({xs, ys, ws}, PromptBias(parse_bias_kind(kind), strength).corrupt_std(corrupt_std),
                                 lmlab::make_generator(seed)));
  }, py::arg("xs"), py::arg("ys"), py::arg("ws"), py::arg("kind"), py::arg("strength"), py::arg("corrupt_std"),
        py::arg("seed"));
  m.def("icl_label_skewed_prompts", [](int64_t dim, int64_t points, int64_t batch, double positive_share, uint64_t seed) {
    return as_tuple(label_skewed_prompts(RegressionPromptOptions(dim, points), batch, positive_share, lmlab::make_generator(seed)));
  }, py::arg("dim"), py::arg("points"), py::arg("batch"), py::arg("positive_share"), py::arg("seed"));
  m.def("icl_least_squares", &least_squares_predictions, py::arg("xs"), py::arg("ys"), NoGil());
  m.def("icl_ridge", &ridge_predictions, py::arg("xs"), py::arg("ys"), py::arg("lam"), NoGil());
  m.def("icl_nearest_neighbours", &nearest_neighbour_predictions, py::arg("xs"), py::arg("ys"), py::arg("neighbours"), NoGil());
  m.def("icl_averaging", &averaging_predictions, py::arg("xs"), py::arg("ys"), NoGil());
  m.def("icl_linear_attention", &linear_attention_predictions, py::arg("xs"), py::arg("ys"), py::arg("weights"), NoGil());
  m.def("icl_optimal_linear_attention_weights", &optimal_linear_attention_weights, py::arg("dim"),
        py::arg("noise_variance"));

  py::class_<InContextLearnerImpl, std::shared_ptr<InContextLearnerImpl>>(m, "IclLearner", py::module_local())
      .def(py::init([](int64_t dim, int64_t points, int64_t layers, int64_t heads, int64_t width, int64_t mlp_ratio,
                       uint64_t seed) {
             lmlab::seed_everything(seed);
             return InContextLearner(
                        InContextLearnerOptions(dim, points).layers(layers).heads(heads).width(width).mlp_ratio(mlp_ratio))
                 .ptr();
           }),
           py::arg("dim"), py::arg("points"), py::arg("layers"), py::arg("heads"), py::arg("width"), py::arg("mlp_ratio"),
           py::arg("seed"))
      .def_static("load", [](const std::string& path) { return load_learner(path).ptr(); }, py::arg("path"))
      .def("save", [](const std::shared_ptr<InContextLearnerImpl>& l, const std::string& path) {
             save_learner(InContextLearner(l), path);
           }, py::arg("path"))
      .def("forward", [](InContextLearnerImpl& l, const torch::Tensor& xs, const torch::Tensor& ys,
                         const c10::optional<torch::Tensor>& weights) {
             return weights ? l.forward_weighted(xs, ys, *weights) : l.forward(xs, ys);
           }, py::arg("xs"), py::arg("ys"), py::arg("weights"), NoGil())
      .def("train_learner", [](const std::shared_ptr<InContextLearnerImpl>& l, int64_t steps, int64_t batch, double lr,
                               double noise_std, int64_t dim_start, int64_t points_start, int64_t interval, uint64_t seed) {
             InContextLearner learner(l);
             const auto c = CurriculumOptions().dim_start(dim_start).points_start(points_start).interval(interval);
             return train_learner(learner,
                                  LearnerTrainingOptions().steps(steps).batch(batch).lr(lr).noise_std(noise_std).curriculum(c),
                                  seed);
           }, py::arg("steps"), py::arg("batch"), py::arg("lr"), py::arg("noise_std"), py::arg("dim_start"),
           py::arg("points_start"), py::arg("interval"), py::arg("seed"), NoGil())
      .def("set_training", [](InContextLearnerImpl& l, bool on) { l.train(on); }, py::arg("on"))
      .def("parameters", [](InContextLearnerImpl& l) { return l.parameters(); })
      .def_property_readonly("options", [](const InContextLearnerImpl& l) {
        const auto& o = l.options();
        py::dict d;
        d["dim"] = o.dim(), d["points"] = o.points(), d["layers"] = o.layers(), d["heads"] = o.heads();
        d["width"] = o.width(), d["mlp_ratio"] = o.mlp_ratio();
        return d;
      });

  m.def("icl_ricl", [](const std::shared_ptr<InContextLearnerImpl>& learner, const torch::Tensor& xs, const torch::Tensor& ys,
                       int64_t steps, double lr, int64_t batch, uint64_t seed) {
    const auto r = fit_ricl(predictor(learner), xs, ys, RICLOptions().steps(steps).lr(lr).batch(batch).seed(seed));
    return std::make_tuple(r.weights, r.losses, r.prompt_passes);
  }, py::arg("learner"), py::arg("xs"), py::arg("ys"), py::arg("steps"), py::arg("lr"), py::arg("batch"), py::arg("seed"),
        NoGil());
  m.def("icl_tune", [](const std::shared_ptr<InContextLearnerImpl>& learner, const std::string& method,
                       const torch::Tensor& xs, const torch::Tensor& ys, int64_t steps, double lr, int64_t batch,
                       uint64_t seed) {
    const auto r = tune_on_prompts(InContextLearner(learner), method, xs, ys,
                                   PromptTuningOptions().steps(steps).lr(lr).batch(batch).seed(seed));
    return std::make_tuple(r.learner.ptr(), r.losses, r.trained_parameters);
  }, py::arg("learner"), py::arg("method"), py::arg("xs"), py::arg("ys"), py::arg("steps"), py::arg("lr"),
        py::arg("batch"), py::arg("seed"), NoGil());
  m.def("icl_laricl", [](const std::shared_ptr<InContextLearnerImpl>& learner, const torch::Tensor& xs, const torch::Tensor& ys,
                         double ridge) {
    const auto r = fit_laricl(predictor(learner), xs, ys, LARICLOptions().ridge(ridge));
    return std::make_tuple(r.weights, r.losses, r.prompt_passes);
  }, py::arg("learner"), py::arg("xs"), py::arg("ys"), py::arg("ridge"), NoGil());
}

}  // namespace lmlab_python
