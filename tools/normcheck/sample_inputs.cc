#include "tools/normcheck/sample_inputs.h"

#include <utility>

namespace normcheck::tool {

Expected<InputSet> make_sample_inputs(const Problem& p) {
  Expected<properties::GeneratedInputs> g = properties::make_inputs(p);
  if (!g) return g.status();
  // The generated set holds every tensor; the views say which ones the problem takes.
  InputSet in;
  in.x = std::move(g->x);
  if (g->views.weight) in.weight = std::move(g->weight);
  if (g->views.bias) in.bias = std::move(g->bias);
  if (g->views.running_mean) in.running_mean = std::move(g->running_mean);
  if (g->views.running_var) in.running_var = std::move(g->running_var);
  if (g->views.grad_output) in.grad_output = std::move(g->grad_output);
  in.num_batches_tracked = g->views.num_batches_tracked;
  return in;
}

Problem with_sample_spec(Problem p, const SampleSpec& spec) {
  p.seed = spec.seed;
  p.values = Values{ValueKind::kNormal, spec.offset, spec.spread};
  return p;
}

Expected<InputSet> make_sample_inputs(const Problem& p, const SampleSpec& spec) {
  return make_sample_inputs(with_sample_spec(p, spec));
}

}  // namespace normcheck::tool
