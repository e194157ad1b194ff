// Per-example gradients from one backward (include/lmlab/privacy/per_example_grads.h): the
// layers are found in LibTorch 1.13's autograd graph; a pre-hook on each node that consumes a
// parameter forms the per-example gradient from the node's output gradient and saved tensors.
#include "lmlab/privacy/per_example_grads.h"

#include <functional>
#include <map>
#include <sstream>
#include <unordered_map>

#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/functions/accumulate_grad.h>
#include <torch/csrc/autograd/generated/Functions.h>

#include "lmlab/core/error.h"

namespace lmlab::privacy {
namespace {

namespace ag = torch::autograd;
namespace gen = torch::autograd::generated;
using torch::Tensor;

// LibTorch 1.13 keeps a node's input shapes private; zeros_like() is the public way to read them
// (a leaf's shape is read from the parameter itself).
std::vector<int64_t> metadata_shape(const ag::Node& node, uint32_t input_nr) {
  if (auto* leaf = dynamic_cast<const ag::AccumulateGrad*>(&node)) return leaf->variable.sizes().vec();
  return node.input_metadata(input_nr).zeros_like().sizes().vec();
}

// The shape a node's `edge`-th forward input had.
std::vector<int64_t> edge_shape(const ag::Node& node, size_t edge) {
  const ag::Edge& e = node.next_edges()[edge];
  return metadata_shape(*e.function, e.input_nr);
}

// True when a tensor of shape `in`, broadcast to `out` [B, ...], is the same for every example.
bool broadcast_over_batch(const std::vector<int64_t>& in, const std::vector<int64_t>& out, int64_t batch) {
  if (out.empty() || out[0] != batch) return false;
  return out.size() > in.size() || in[0] == 1;
}

// dy [B, ...] summed over the dimensions along which a tensor of shape `in` was broadcast -> [B, *in].
Tensor reduce_to_batched(const Tensor& dy, const std::vector<int64_t>& in) {
  const int64_t pad = dy.dim() - static_cast<int64_t>(in.size());
  std::vector<int64_t> dims;
  for (int64_t d = 1; d < dy.dim(); ++d)
    if (d < pad || (in[d - pad] == 1 && dy.size(d) != 1)) dims.push_back(d);
  std::vector<int64_t> shape{dy.size(0)};
  shape.insert(shape.end(), in.begin(), in.end());
  return (dims.empty() ? dy : dy.sum(dims)).reshape(shape);
}

// dy [N, C] or [N] as [B, N/B, C]: rows grouped per example.
Tensor rows_per_example(const Tensor& t, int64_t batch, const std::string& param, const std::string& op) {
  LMLAB_CHECK(t.dim() >= 1 && t.size(0) % batch == 0, UsageError, "per-example gradients: the ", op,
              " that uses parameter '", param, "' has ", t.dim() >= 1 ? t.size(0) : 0,
              " rows, not a multiple of the batch size ", batch, "; the losses must hold one entry per example");
  return t.reshape({batch, t.size(0) / batch, -1});
}

// A map from per-example gradients of a node's output to those of its parameter input.
using ChainStep = std::function<Tensor(const Tensor&)>;

struct Task {
  size_t edge;                   // which input of the node is (a map of) the parameter
  std::vector<ChainStep> chain;  // applied last-added first, down to the parameter
  size_t param;
};

struct Collector {
  std::vector<std::string> names;
  std::vector<Tensor> grads;
  int64_t batch = 0;
  bool active = true;  // off once our backward is over: a later backward through the graph ignores the hooks
  void add(size_t k, Tensor g) { grads[k] = grads[k].defined() ? grads[k] + g : std::move(g); }
};

// dy and the node's saved tensors -> per-example gradient of the node's input `edge`, [B, *shape].
Tensor terminal_gradient(ag::Node& node, size_t edge, const Tensor& dy, const Collector& c, const std::string& param) {
  const int64_t b = c.batch;
  const std::vector<int64_t> shape = edge_shape(node, edge);
  if (auto* mm = dynamic_cast<gen::MmBackward0*>(&node)) {  // x [N, in] @ mat2 [in, out]
    const Tensor x = rows_per_example(mm->self_.unpack(), b, param, "linear map");
    return torch::bmm(x.transpose(1, 2), rows_per_example(dy, b, param, "linear map"));
  }
  if (auto* mm = dynamic_cast<gen::AddmmBackward0*>(&node)) {  // bias + x [N, in] @ mat2 [in, out]
    const Tensor g = rows_per_example(dy, b, param, "linear map");
    if (edge == 0) return reduce_to_batched(g.sum(1), shape) * mm->beta.toDouble();
    const Tensor x = rows_per_example(mm->mat1_.unpack(), b, param, "linear map");
    return torch::bmm(x.transpose(1, 2), g) * mm->alpha.toDouble();
  }
  if (auto* ln = dynamic_cast<gen::NativeLayerNormBackward0*>(&node)) {
    const std::shared_ptr<ag::Node> self = node.shared_from_this();
    const Tensor x = ln->input_.unpack();
    LMLAB_CHECK(x.size(0) == b, UsageError, "per-example gradients: the layer norm with parameter '", param,
                "' sees input ", x.sizes(), ", whose first dimension is not the batch size ", b);
    const int64_t inner = c10::multiply_integers(shape);
    Tensor g = dy.reshape({b, -1, inner});
    if (edge == 1) g = g * ((x - ln->result1_.unpack(self)) * ln->result2_.unpack(self)).reshape({b, -1, inner});
    std::vector<int64_t> out{b};
    out.insert(out.end(), shape.begin(), shape.end());
    return g.sum(1).reshape(out);
  }
  if (auto* emb = dynamic_cast<gen::EmbeddingBackward0*>(&node)) {  // ids [B, ...] -> weight [V, C]
    const Tensor ids = emb->indices_.unpack();
    const int64_t v = shape[0], width = shape[1];
    const Tensor rows = ids.reshape({b, -1}) + torch::arange(b, ids.options()).unsqueeze(1) * v;
    Tensor g = torch::zeros({b * v, width}, dy.options()).index_add_(0, rows.reshape(-1), dy.reshape({-1, width}));
    g = g.reshape({b, v, width});
    if (emb->padding_idx >= 0) g.select(1, emb->padding_idx).zero_();
    return g;
  }
  if (auto* add = dynamic_cast<gen::AddBackward0*>(&node)) {
    const Tensor g = reduce_to_batched(dy, shape);
    return edge == 1 ? g * add->alpha.toDouble() : g;
  }
  if (dynamic_cast<gen::ExpandBackward0*>(&node)) return reduce_to_batched(dy, shape);
  LMLAB_ASSERT(false, "no per-example rule for ", node.name());
}

class PerExampleHook : public ag::FunctionPreHook {
 public:
  PerExampleHook(ag::Node* node, std::shared_ptr<Collector> c) : node_(node), c_(std::move(c)) {}
  void add(Task t) { tasks_.push_back(std::move(t)); }
  ag::variable_list operator()(const ag::variable_list& grads) override {
    if (!c_->active) return grads;
    torch::NoGradGuard no_grad;
    for (const Task& t : tasks_) {
      Tensor g = terminal_gradient(*node_, t.edge, grads[0], *c_, c_->names[t.param]);
      for (auto it = t.chain.rbegin(); it != t.chain.rend(); ++it) g = (*it)(g);
      c_->add(t.param, std::move(g));
    }
    return grads;
  }

 private:
  ag::Node* node_;
  std::shared_ptr<Collector> c_;  // shared: the hook may outlive the call in a graph the caller keeps
  std::vector<Task> tasks_;
};

// The autograd graph of the losses: who consumes each node's output (node, input index).
struct Graph {
  std::unordered_map<ag::Node*, std::vector<std::pair<ag::Node*, size_t>>> consumers;
  std::vector<ag::AccumulateGrad*> leaves;
};

Graph walk(const std::shared_ptr<ag::Node>& root) {
  Graph g;
  std::vector<ag::Node*> stack{root.get()};
  std::unordered_map<ag::Node*, bool> seen{{root.get(), true}};
  while (!stack.empty()) {
    ag::Node* n = stack.back();
    stack.pop_back();
    if (auto* leaf = dynamic_cast<ag::AccumulateGrad*>(n)) g.leaves.push_back(leaf);
    const auto& edges = n->next_edges();
    for (size_t i = 0; i < edges.size(); ++i) {
      ag::Node* child = edges[i].function.get();
      if (!child) continue;
      g.consumers[child].emplace_back(n, i);
      if (!seen[child]) {
        seen[child] = true;
        stack.push_back(child);
      }
    }
  }
  return g;
}

bool is_terminal(const ag::Node& n, size_t edge) {
  if (dynamic_cast<const gen::MmBackward0*>(&n)) return edge == 1;
  if (dynamic_cast<const gen::AddmmBackward0*>(&n)) return edge == 0 || edge == 2;
  if (dynamic_cast<const gen::NativeLayerNormBackward0*>(&n)) return edge == 1 || edge == 2;
  if (auto* emb = dynamic_cast<const gen::EmbeddingBackward0*>(&n)) return !emb->scale_grad_by_freq && !emb->sparse;
  return dynamic_cast<const gen::AddBackward0*>(&n) || dynamic_cast<const gen::ExpandBackward0*>(&n);
}

// A transpose or BitLinear's straight-through quantizer: per-example gradients pass through unchanged
// in value (up to the transpose).
bool is_pass_through(const ag::Node& n) {
  return dynamic_cast<const gen::TBackward0*>(&n) || n.name().find("StraightThrough>") != std::string::npos;
}

class Planner {
 public:
  Planner(const Graph& g, std::shared_ptr<Collector> c) : g_(g), c_(*c), collector_(std::move(c)) {}

  // Follows the parameter's value upward from `node` (which reads it at input `edge`) to the
  // nodes where per-example gradients can be formed.
  void attach(ag::Node* node, size_t edge, std::vector<ChainStep> chain, size_t param) {
    const std::string& name = c_.names[param];
    if (is_pass_through(*node)) {
      if (dynamic_cast<gen::TBackward0*>(node)) chain.push_back([](const Tensor& g) { return g.transpose(1, 2); });
      for (const auto& [up, e] : consumers(node)) attach(up, e, chain, param);
      return;
    }
    if (auto* emb = dynamic_cast<gen::EmbeddingBackward0*>(node); emb && broadcast_by_consumers(*node)) {
      // Example-independent ids (positions): scatter each example's gradient rows.
      const Tensor ids = emb->indices_.unpack().reshape(-1);
      const std::vector<int64_t> shape = edge_shape(*node, 0);
      chain.push_back([ids, shape](const Tensor& g) {
        const int64_t b = g.size(0);
        return torch::zeros({b, shape[0], shape[1]}, g.options()).index_add_(1, ids, g.reshape({b, -1, shape[1]}));
      });
      for (const auto& [up, e] : consumers(node)) attach(up, e, chain, param);
      return;
    }
    LMLAB_CHECK(is_terminal(*node, edge) && supported_broadcast(*node, edge), UsageError,
                "per-example gradients do not support parameter '", name, "' (shape ", shape_of(param),
                "), used by the operation ", node->name(),
                "; supported layers: linear (incl. BitLinear), embedding, layer norm, parameters added or "
                "expanded over the batch");
    auto& hook = hooks_[node];
    if (!hook) hook = std::make_unique<PerExampleHook>(node, collector_);
    hook->add({edge, std::move(chain), param});
  }

  // Hands the hooks to their nodes; called once every parameter has been planned, so a refused
  // layer leaves the caller's graph untouched.
  void install() {
    for (auto& [node, hook] : hooks_) node->add_pre_hook(std::move(hook));
  }

  void set_shapes(std::vector<std::vector<int64_t>> s) { shapes_ = std::move(s); }
  // The nodes that carry a hook: each must run in the backward.
  std::vector<ag::Node*> hooked() const {
    std::vector<ag::Node*> out;
    for (const auto& [node, hook] : hooks_) out.push_back(node);
    return out;
  }

 private:
  const std::vector<std::pair<ag::Node*, size_t>>& consumers(ag::Node* n) const {
    static const std::vector<std::pair<ag::Node*, size_t>> none;
    auto it = g_.consumers.find(n);
    return it == g_.consumers.end() ? none : it->second;
  }
  // Every consumer adds the node's output to a batched tensor it is broadcast against.
  bool broadcast_by_consumers(ag::Node& n) const {
    const auto& ups = consumers(&n);
    if (ups.empty()) return false;
    for (const auto& [up, e] : ups)
      if (!dynamic_cast<gen::AddBackward0*>(up) || !broadcast_over_batch(metadata_shape(n, 0), metadata_shape(*up, 0), c_.batch))
        return false;
    return true;
  }
  // An add or expand must broadcast the parameter over the batch (else it carries per-example data).
  bool supported_broadcast(ag::Node& n, size_t edge) const {
    if (!dynamic_cast<gen::AddBackward0*>(&n) && !dynamic_cast<gen::ExpandBackward0*>(&n)) return true;
    return broadcast_over_batch(edge_shape(n, edge), metadata_shape(n, 0), c_.batch);
  }
  std::string shape_of(size_t param) const {
    std::ostringstream os;
    os << torch::IntArrayRef(shapes_[param]);
    return os.str();
  }

  const Graph& g_;
  Collector& c_;
  std::shared_ptr<Collector> collector_;
  std::map<ag::Node*, std::unique_ptr<PerExampleHook>> hooks_;
  std::vector<std::vector<int64_t>> shapes_;
};

// The leaves the backward is asked for. Every hooked node must run, but the summed gradients of
// the linear weights (reached through a transpose or BitLinear's quantizer) are not needed: they
// are left out unless a hooked node would otherwise not run (a first layer without bias on raw
// inputs), so the backward skips their matmuls [ours].
std::vector<Tensor> backward_inputs(const Graph& g, const std::vector<ag::AccumulateGrad*>& leaves,
                                    const std::vector<ag::Node*>& hooked) {
  std::unordered_map<ag::Node*, bool> asked;
  for (ag::AccumulateGrad* leaf : leaves) {
    bool weight_only = true;
    for (const auto& [up, e] : g.consumers.at(leaf)) weight_only = weight_only && is_pass_through(*up);
    asked[leaf] = !weight_only;
  }
  for (bool changed = true; changed;) {
    changed = false;
    std::unordered_map<ag::Node*, bool> memo;
    std::function<bool(ag::Node*)> runs = [&](ag::Node* n) {
      if (auto it = asked.find(n); it != asked.end()) return it->second;
      if (auto it = memo.find(n); it != memo.end()) return it->second;
      memo[n] = false;  // the graph is acyclic; this only guards the recursion
      bool r = false;
      for (const ag::Edge& e : n->next_edges()) r = r || (e.function && runs(e.function.get()));
      return memo[n] = r;
    };
    for (ag::Node* node : hooked) {
      if (runs(node)) continue;
      // Ask for the parameters the node reads, through transposes and quantizers.
      std::vector<ag::Node*> below;
      for (const ag::Edge& e : node->next_edges()) below.push_back(e.function.get());
      while (!below.empty()) {
        ag::Node* c = below.back();
        below.pop_back();
        if (!c) continue;
        if (auto it = asked.find(c); it != asked.end()) {
          it->second = changed = true;
        } else if (is_pass_through(*c)) {
          for (const ag::Edge& e : c->next_edges()) below.push_back(e.function.get());
        }
      }
    }
  }
  std::vector<Tensor> out;
  for (ag::AccumulateGrad* leaf : leaves)
    if (asked[leaf]) out.push_back(leaf->variable);
  return out;
}

}  // namespace

PerExampleGrads per_example_gradients(torch::nn::Module& module, const torch::Tensor& losses) {
  std::vector<std::string> names;
  std::vector<Tensor> params;
  for (const auto& item : module.named_parameters()) {
    names.push_back(item.key());
    params.push_back(item.value());
  }
  return per_example_gradients(names, params, losses);
}

PerExampleGrads per_example_gradients(const std::vector<std::string>& names, const std::vector<Tensor>& params,
                                      const torch::Tensor& losses) {
  LMLAB_CHECK(names.size() == params.size(), UsageError, "per-example gradients: ", names.size(), " names for ",
              params.size(), " parameters");
  LMLAB_CHECK(losses.defined() && losses.dim() == 1 && losses.size(0) >= 1, UsageError,
              "per-example gradients need one loss per example, a 1-D tensor [B] with B >= 1; got ",
              losses.defined() ? losses.sizes() : torch::IntArrayRef{}, " (pass the unreduced losses, e.g. "
              "cross_entropy(..., reduction none), averaged over each example's tokens)");
  LMLAB_CHECK(losses.requires_grad() && losses.grad_fn(), UsageError,
              "per-example gradients: the losses do not depend on any parameter (no autograd graph)");
  auto collector = std::make_shared<Collector>();
  Collector& c = *collector;
  c.batch = losses.size(0);
  PerExampleGrads out;
  out.batch = c.batch;
  std::unordered_map<c10::TensorImpl*, size_t> index;
  std::vector<std::vector<int64_t>> shapes;
  for (size_t k = 0; k < params.size(); ++k) {
    if (!params[k].requires_grad()) continue;
    index[params[k].unsafeGetTensorImpl()] = c.names.size();
    c.names.push_back(names[k]);
    shapes.push_back(params[k].sizes().vec());
    out.params.push_back(params[k]);
  }
  c.grads.resize(c.names.size());

  const Graph g = walk(losses.grad_fn());
  Planner planner(g, collector);
  planner.set_shapes(shapes);
  std::vector<ag::AccumulateGrad*> ours;
  for (ag::AccumulateGrad* leaf : g.leaves) {
    auto it = index.find(leaf->variable.unsafeGetTensorImpl());
    if (it == index.end()) continue;  // a tensor outside the module: not ours to privatise
    for (const auto& [node, edge] : g.consumers.at(leaf)) planner.attach(node, edge, {}, it->second);
    ours.push_back(leaf);
  }
  LMLAB_CHECK(!ours.empty(), UsageError, "per-example gradients: the losses depend on no parameter of the module");
  const std::vector<Tensor> requested = backward_inputs(g, ours, planner.hooked());
  planner.install();
  try {
    ag::grad({losses.sum()}, requested, {}, /*retain_graph=*/false, /*create_graph=*/false, /*allow_unused=*/true);
  } catch (...) {
    c.active = false;
    throw;
  }
  c.active = false;

  std::vector<Tensor> candidates = std::move(out.params);
  out.params.clear();
  for (size_t k = 0; k < c.names.size(); ++k) {
    if (!c.grads[k].defined()) continue;
    out.names.push_back(c.names[k]);
    out.params.push_back(candidates[k]);
    out.grads.push_back(c.grads[k]);
  }
  return out;
}

torch::Tensor per_example_norms(const PerExampleGrads& g) {
  LMLAB_CHECK(!g.grads.empty(), UsageError, "per_example_norms: no per-example gradients");
  std::vector<torch::Tensor> norms;  // one pass per tensor, no squared copy
  for (const auto& t : g.grads) norms.push_back(torch::linalg_vector_norm(t.reshape({g.batch, -1}), 2, {1}));
  return torch::linalg_vector_norm(torch::stack(norms, 1), 2, {1});
}

}  // namespace lmlab::privacy
