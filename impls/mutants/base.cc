// "mutants-base": the correct implementation every mutant starts from (impls/mutants/base.h).
#include "impls/mutants/base.h"

#include <cmath>
#include <utility>

namespace normcheck::impls::mutants {
namespace {

void* address_of(const TensorView& v, std::int64_t offset) {
  return static_cast<char*>(v.data) + offset * static_cast<std::int64_t>(size_of(v.dtype));
}

/// Pairwise sum of v[lo, hi): halves added recursively, so each term passes through at most
/// ceil(log2 n) additions (the gamma_{ceil(log2 n)} of docs/tolerances.md).
double pairwise(std::span<const double> v, const Acc& acc) {
  if (v.empty()) return 0;
  if (v.size() == 1) return v[0];
  const std::size_t half = v.size() / 2;
  return acc(pairwise(v.first(half), acc) + pairwise(v.subspan(half), acc));
}

}  // namespace

double Acc::operator()(double v) const {
  switch (t_) {
    case DType::kFloat64:
      return v;
    case DType::kFloat32:
      return static_cast<double>(static_cast<float>(v));
    default:
      return round_to(t_, v);
  }
}

Base::Base() : caps_(Capabilities::everything_on_cpu()) { caps_.saves_stats = true; }

// ---- Hooks: the correct behaviour ------------------------------------------------------------

DType Base::accumulator(DType data) const { return stats_dtype(data); }

std::int64_t Base::element_offset(const TensorView& v, const Geometry&, std::int64_t i) const {
  return v.offset_of_linear(i);
}

double Base::effective_eps(const Problem& p) const { return normcheck::effective_eps(p); }

bool Base::centers(Op op) const { return op != Op::kRmsNorm; }

Partition Base::partition(const Problem& p, const Geometry& g) const {
  // Scalar math: set(n, c, s) = c (batch_norm), n*C + c (instance_norm), n*G + c/(C/G)
  // (group_norm), n (layer_norm, rms_norm), n*S + s (layer_norm_2d).
  Partition part;
  part.members.resize(static_cast<std::size_t>(g.num_sets));
  const std::int64_t per_group = g.G > 0 ? g.C / g.G : 1;
  for (std::int64_t n = 0, i = 0; n < g.N; ++n) {
    for (std::int64_t c = 0; c < g.C; ++c) {
      for (std::int64_t s = 0; s < g.S; ++s, ++i) {
        std::int64_t k = 0;
        switch (p.op) {
          case Op::kBatchNorm:
            k = c;
            break;
          case Op::kInstanceNorm:
            k = n * g.C + c;
            break;
          case Op::kGroupNorm:
            k = n * g.G + c / per_group;
            break;
          case Op::kLayerNorm:
          case Op::kRmsNorm:
            k = n;
            break;
          case Op::kLayerNorm2d:
            k = n * g.S + s;
            break;
        }
        part.members[static_cast<std::size_t>(k)].push_back(i);
      }
    }
  }
  return part;
}

double Base::sum(std::span<const double> v, const Acc& acc) const { return pairwise(v, acc); }

Moments Base::moments(std::span<const double> xs, bool centered, const Acc& acc) const {
  const double m = acc(static_cast<double>(xs.size()));
  std::vector<double> terms(xs.size());
  if (!centered) {
    // Scalar math: ms = sum(X^2) / M
    for (std::size_t i = 0; i < xs.size(); ++i) terms[i] = acc(xs[i] * xs[i]);
    return {0.0, acc(sum(terms, acc) / m)};
  }
  // Scalar math: mean = sum(X) / M;  var = sum((X - mean)^2) / M   (two passes, biased)
  const double mean = acc(sum(xs, acc) / m);
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const double d = acc(xs[i] - mean);
    terms[i] = acc(d * d);
  }
  return {mean, acc(sum(terms, acc) / m)};
}

std::vector<Moments> Base::set_moments(const Partition& sets, const std::vector<double>& X, bool centered,
                                       const Acc& acc) const {
  std::vector<Moments> out;
  out.reserve(sets.members.size());
  std::vector<double> xs;
  for (const std::vector<std::int64_t>& set : sets.members) {
    xs.clear();
    for (const std::int64_t i : set) xs.push_back(X[static_cast<std::size_t>(i)]);
    out.push_back(moments(xs, centered, acc));
  }
  return out;
}

double Base::rstd_of(double var, double eps, const Acc& acc) const {
  // Scalar math: rstd = 1 / sqrt(var + eps)
  // rms_norm's mean square of a set holding +-inf is inf: rstd = 0, as rsqrt(inf) in PyTorch.
  return acc(1.0 / acc(std::sqrt(acc(var + eps))));
}

double Base::saved_rstd(double rstd, const Moments&, double, const Acc&) const { return rstd; }

Status Base::profile_refusals(const Problem& p, const Geometry& g) const { return pytorch_refusals(p, g); }

bool Base::normalizes_with_running_stats(const Problem& p) const { return uses_running_stats(p); }

bool Base::updates_running_stats(const Problem& p) const {
  return tracks_running_stats(p) && p.mode == Mode::kTrain;
}

bool Base::counts_batches(const Problem& p) const {
  return p.mode == Mode::kTrain && p.profile == Profile::kPyTorch && p.op == Op::kBatchNorm;
}

UpdateWeights Base::running_weights(const Problem& p, std::int64_t num_batches_tracked) const {
  return update_weights(p, num_batches_tracked);
}

double Base::running_var_correction(const Problem& p, std::int64_t m, const Acc& acc) const {
  if (p.profile != Profile::kPyTorch) return 1.0;
  const double md = static_cast<double>(m);
  return acc(md / (md - 1));  // m >= 2: profile_refusals() refuses m == 1
}

std::int64_t Base::affine_index(const Problem&, const Geometry&, const Index& at) const { return at.c; }

double Base::normalize(double x, double mean, double rstd, double gamma, double beta, const Acc& acc) const {
  // Scalar math: Y = (X - mean) * rstd * gamma + beta
  const double xhat = acc(acc(x - mean) * rstd);
  return acc(acc(xhat * gamma) + beta);
}

std::int64_t Base::elements_written(std::int64_t m) const { return m; }

void Base::forward(Work& w) const {
  for (std::int64_t k = 0; k < w.sets.num_sets(); ++k) {
    const std::vector<std::int64_t>& set = w.sets.members[static_cast<std::size_t>(k)];
    const Moments& st = w.stats[static_cast<std::size_t>(k)];
    const std::int64_t count = elements_written(static_cast<std::int64_t>(set.size()));
    for (std::int64_t j = 0; j < count; ++j) {
      const std::size_t i = static_cast<std::size_t>(set[static_cast<std::size_t>(j)]);
      const std::size_t a =
          static_cast<std::size_t>(affine_index(*w.p, w.g, w.index_of(static_cast<std::int64_t>(i))));
      w.Y[i] = normalize(w.X[i], st.mean, w.rstd[static_cast<std::size_t>(k)], w.gamma[a], w.beta[a], w.acc);
      w.y_written[i] = 1;
    }
  }
}

double Base::dx_of(const DxTerms& t, const Acc& acc) const {
  // Scalar math: dX = rstd / M * (M * g - sum_g - xhat * sum_gxhat)
  double inner = acc(t.m * t.g);
  if (t.centered) inner = acc(inner - t.sum_g);
  inner = acc(inner - acc(t.xhat * t.sum_gxhat));
  return acc(acc(t.rstd / t.m) * inner);
}

bool Base::contributes_to_dweight(const Geometry&, const Index&) const { return true; }

bool Base::computes_dbias() const { return true; }

// ---- The passes --------------------------------------------------------------------------------

void Base::statistics(Work& w, const Outputs& out) const {
  const Problem& p = *w.p;
  const bool centered = centers(p.op);
  if (w.use_running) {
    // One set per channel, its statistics read from the buffers.
    w.sets.members.assign(static_cast<std::size_t>(w.g.C), {});
    for (std::int64_t i = 0; i < w.numel(); ++i)
      w.sets.members[static_cast<std::size_t>(w.index_of(i).c)].push_back(i);
    w.stats.resize(static_cast<std::size_t>(w.g.C));
    for (std::int64_t c = 0; c < w.g.C; ++c)
      w.stats[static_cast<std::size_t>(c)] = {w.acc(out.running_mean->get_linear(c)),
                                              w.acc(out.running_var->get_linear(c))};
  } else {
    w.sets = partition(p, w.g);
    w.stats = set_moments(w.sets, w.X, centered, w.acc);
  }
  w.rstd.resize(w.stats.size());
  for (std::size_t k = 0; k < w.stats.size(); ++k) w.rstd[k] = rstd_of(w.stats[k].var, w.eps, w.acc);
  if (w.use_running) return;
  // The saved statistics, one per set, in the stats dtype (set_linear rounds once).
  if (out.mean) {
    NC_CHECK(out.mean->numel() == w.sets.num_sets(), "saved mean: one per set");
    for (std::int64_t k = 0; k < w.sets.num_sets(); ++k)
      out.mean->set_linear(k, w.stats[static_cast<std::size_t>(k)].mean);
  }
  if (out.rstd) {
    NC_CHECK(out.rstd->numel() == w.sets.num_sets(), "saved rstd: one per set");
    for (std::int64_t k = 0; k < w.sets.num_sets(); ++k) {
      const std::size_t ks = static_cast<std::size_t>(k);
      out.rstd->set_linear(k, saved_rstd(w.rstd[ks], w.stats[ks], w.eps, w.acc));
    }
  }
}

void Base::running_update(Work& w, Outputs& out) const {
  const Problem& p = *w.p;
  if (counts_batches(p)) out.num_batches_tracked += 1;
  if (!updates_running_stats(p) || !out.running_mean || !out.running_var) return;
  if (w.g.N * w.g.S == 0) return;  // an empty batch carries no statistics (ATen returns early)
  const Acc& acc = w.acc;
  // The batch statistics of the standard sets: channel c (batch_norm) or (n, c) (instance_norm).
  std::vector<Moments> batch = w.use_running ? set_moments(partition(p, w.g), w.X, true, acc) : w.stats;
  const std::int64_t instances = p.op == Op::kBatchNorm ? 1 : w.g.N;
  NC_CHECK(static_cast<std::int64_t>(batch.size()) == instances * w.g.C,
           "running stats need per-channel sets");
  const UpdateWeights uw = running_weights(p, out.num_batches_tracked);
  const double bessel = running_var_correction(p, w.g.set_size, acc);
  const double keep = acc(uw.keep), take = acc(uw.take);
  std::vector<double> means(static_cast<std::size_t>(instances)), vars(means.size());
  const double count = acc(static_cast<double>(instances));
  for (std::int64_t c = 0; c < w.g.C; ++c) {
    // Scalar math: batch_mean = sum_n mean[n][c] / N;  batch_var = sum_n var[n][c] * bessel / N
    //              running = keep * running + take * batch
    for (std::int64_t n = 0; n < instances; ++n) {
      const Moments& st = batch[static_cast<std::size_t>(p.op == Op::kBatchNorm ? c : n * w.g.C + c)];
      // Each term divided by N before the (float32) sum: N variances near float32's max would
      // overflow summed first (found by the nightly tier: inf for an exact 1.4e36 at N = 1,023).
      means[static_cast<std::size_t>(n)] = acc(st.mean / count);
      vars[static_cast<std::size_t>(n)] = acc(acc(st.var * bessel) / count);
    }
    const double batch_mean = sum(means, acc), batch_var = sum(vars, acc);
    const double old_mean = acc(out.running_mean->get_linear(c)),
                 old_var = acc(out.running_var->get_linear(c));
    out.running_mean->set_linear(c, acc(acc(keep * old_mean) + acc(take * batch_mean)));
    out.running_var->set_linear(c, acc(acc(keep * old_var) + acc(take * batch_var)));
  }
}

void Base::backward(Work& w) const {
  const Problem& p = *w.p;
  const Acc& acc = w.acc;
  const bool centered = centers(p.op);
  const std::size_t numel = w.X.size();
  // Per element: g = dY * gamma, xhat = (X - mean) * rstd, in the set's statistics.
  std::vector<double> g(numel), xhat(numel);
  for (std::int64_t k = 0; k < w.sets.num_sets(); ++k) {
    const std::size_t ks = static_cast<std::size_t>(k);
    for (const std::int64_t i : w.sets.members[ks]) {
      const std::size_t is = static_cast<std::size_t>(i);
      const std::size_t a = static_cast<std::size_t>(affine_index(p, w.g, w.index_of(i)));
      g[is] = acc(w.dY[is] * w.gamma[a]);
      xhat[is] = acc(acc(w.X[is] - w.stats[ks].mean) * w.rstd[ks]);
    }
  }
  w.dX.assign(numel, 0.0);
  std::vector<double> gs, gx;
  for (std::int64_t k = 0; k < w.sets.num_sets(); ++k) {
    const std::size_t ks = static_cast<std::size_t>(k);
    const std::vector<std::int64_t>& set = w.sets.members[ks];
    if (w.use_running) {
      // Scalar math (eval, running statistics): dX = g * rstd_running
      for (const std::int64_t i : set)
        w.dX[static_cast<std::size_t>(i)] = acc(g[static_cast<std::size_t>(i)] * w.rstd[ks]);
      continue;
    }
    gs.clear();
    gx.clear();
    for (const std::int64_t i : set) {
      gs.push_back(g[static_cast<std::size_t>(i)]);
      gx.push_back(acc(g[static_cast<std::size_t>(i)] * xhat[static_cast<std::size_t>(i)]));
    }
    DxTerms t;
    t.rstd = w.rstd[ks];
    t.m = acc(static_cast<double>(set.size()));
    t.sum_g = sum(gs, acc);
    t.sum_gxhat = sum(gx, acc);
    t.centered = centered;
    for (const std::int64_t i : set) {
      t.g = g[static_cast<std::size_t>(i)];
      t.xhat = xhat[static_cast<std::size_t>(i)];
      w.dX[static_cast<std::size_t>(i)] = dx_of(t, acc);
    }
  }
  // Scalar math: dgamma[c] = sum over a(i) == c of dY * xhat;  dbeta[c] = sum over a(i) == c of dY
  const std::size_t C = static_cast<std::size_t>(w.g.C);
  std::vector<std::vector<double>> dy_xhat(C), dy(C);
  for (std::size_t i = 0; i < numel; ++i) {
    const Index at = w.index_of(static_cast<std::int64_t>(i));
    const std::size_t a = static_cast<std::size_t>(affine_index(p, w.g, at));
    if (contributes_to_dweight(w.g, at)) dy_xhat[a].push_back(acc(w.dY[i] * xhat[i]));
    dy[a].push_back(w.dY[i]);
  }
  w.dgamma.assign(C, 0.0);
  w.dbeta.assign(C, 0.0);
  for (std::size_t c = 0; c < C; ++c) {
    w.dgamma[c] = sum(dy_xhat[c], acc);
    if (computes_dbias()) w.dbeta[c] = sum(dy[c], acc);
  }
}

Status Base::run(const Problem& p, const Inputs& in, Outputs& out) {
  const Expected<Geometry> geo = geometry(p);
  if (!geo) return geo.status();
  NC_RETURN_IF_ERROR(check_case_views(p, *geo, in, out));
  NC_RETURN_IF_ERROR(profile_refusals(p, *geo));

  Work w;
  w.p = &p;
  w.g = *geo;
  w.acc = Acc(accumulator(p.dtype));
  w.eps = w.acc(effective_eps(p));
  const std::int64_t numel = in.x.numel();
  // The data, read through the views' strides, each value rounded to the accumulation type
  // (exact for 16/32-bit data in float32).
  w.X.resize(static_cast<std::size_t>(numel));
  for (std::int64_t i = 0; i < numel; ++i)
    w.X[static_cast<std::size_t>(i)] = w.acc(load(p.dtype, address_of(in.x, element_offset(in.x, w.g, i))));
  if (p.direction == Direction::kBackward) {
    w.dY.resize(w.X.size());
    for (std::int64_t i = 0; i < numel; ++i)
      w.dY[static_cast<std::size_t>(i)] =
          w.acc(load(p.dtype, address_of(*in.grad_output, element_offset(*in.grad_output, w.g, i))));
  }
  w.gamma.assign(static_cast<std::size_t>(w.g.C), 1.0);
  w.beta.assign(static_cast<std::size_t>(w.g.C), 0.0);
  for (std::int64_t c = 0; c < w.g.C; ++c) {
    if (p.affine) w.gamma[static_cast<std::size_t>(c)] = w.acc(in.weight->get_linear(c));
    if (p.bias) w.beta[static_cast<std::size_t>(c)] = w.acc(in.bias->get_linear(c));
  }
  w.use_running = normalizes_with_running_stats(p);

  statistics(w, out);
  running_update(w, out);
  w.Y.assign(w.X.size(), 0.0);
  w.y_written.assign(w.X.size(), 0);
  forward(w);
  for (std::int64_t i = 0; i < numel; ++i)
    if (w.y_written[static_cast<std::size_t>(i)]) out.y.set_linear(i, w.Y[static_cast<std::size_t>(i)]);
  if (p.direction == Direction::kForward) return {};

  backward(w);
  for (std::int64_t i = 0; i < numel; ++i) out.dx->set_linear(i, w.dX[static_cast<std::size_t>(i)]);
  for (std::int64_t c = 0; c < w.g.C; ++c) {
    if (out.dweight) out.dweight->set_linear(c, w.dgamma[static_cast<std::size_t>(c)]);
    if (out.dbias) out.dbias->set_linear(c, w.dbeta[static_cast<std::size_t>(c)]);
  }
  return {};
}

}  // namespace normcheck::impls::mutants
