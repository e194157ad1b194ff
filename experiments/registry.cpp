// The experiment table (experiments/registry.h).
#include "registry.h"

#include "lmlab/core/error.h"

namespace lmlab {

// One factory per experiment file.
ExperimentDef teacher_student_experiment();
ExperimentDef fmnist_mlp_experiment();
ExperimentDef text_gpt_experiment();
ExperimentDef onebit_kernel_regime_experiment();
ExperimentDef onebit_generalization_difference_experiment();
ExperimentDef onebit_scaling_law_experiment();
ExperimentDef streaming_memory_error_experiment();
ExperimentDef sparse_gaussian_experiment();
ExperimentDef ntk_attention_prefix_error_experiment();
ExperimentDef ntk_attention_finetune_vit_experiment();
ExperimentDef ntk_attention_finetune_text_experiment();

const std::vector<ExperimentDef>& all_experiments() {
  static const std::vector<ExperimentDef> table = [] {
    std::vector<ExperimentDef> t = {teacher_student_experiment(), fmnist_mlp_experiment(),
                                    text_gpt_experiment(), onebit_kernel_regime_experiment(),
                                    onebit_generalization_difference_experiment(), onebit_scaling_law_experiment(),
                                    streaming_memory_error_experiment(), sparse_gaussian_experiment(),
                                    ntk_attention_prefix_error_experiment(), ntk_attention_finetune_vit_experiment(),
                                    ntk_attention_finetune_text_experiment()};
    for (const ExperimentDef& def : t)
      LMLAB_ASSERT(!def.default_config.empty(), "experiment ", def.name, " has no default config");
    return t;
  }();
  return table;
}

const ExperimentDef& find_experiment(const std::string& name) {
  std::string names;
  for (const ExperimentDef& def : all_experiments()) {
    if (def.name == name) return def;
    names += "  " + def.name + "\n";
  }
  throw UsageError("unknown experiment '" + name + "'. Known experiments (lmlab list):\n" + names);
}

}  // namespace lmlab
