// Cross-op identities that hold exactly in real arithmetic, and therefore bit for bit in a
// correctly rounded reference (docs/semantics.md): GroupNorm(G=C) == InstanceNorm,
// GroupNorm(G=1) == LayerNorm over (C, spatial), InstanceNorm == BatchNorm on (1, N*C, spatial),
// LayerNorm over rows == BatchNorm1d on the transpose, LayerNorm2d == LayerNorm(C) channels-last;
// and the same bits whatever the strides of the inputs (channels-last, permuted, sliced, flipped).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "normcheck/problem.h"
#include "reference/reference.h"
#include "tests/reference/harness.h"
#include "tests/reference/oracle.h"

namespace normcheck {
namespace {

using oracle::Case;
using testing::make_inputs;
using testing::same_value;
using testing::show;
using Dims = std::vector<std::int64_t>;

std::vector<double> random_values(std::mt19937_64& rng, DType t, std::int64_t n, double offset = 0) {
  std::vector<double> v;
  for (std::int64_t i = 0; i < n; ++i)
    v.push_back(round_to(t, offset + std::normal_distribution<double>()(rng)));
  return v;
}

reference::Result evaluate_case(const Case& c) {
  testing::OwnedInputs in = make_inputs(c);
  Expected<reference::Result> r = reference::evaluate(c.problem, in.inputs);
  EXPECT_TRUE(r.ok()) << to_string(c.problem) << ": " << r.message();
  if (!r.ok()) return {};
  return std::move(r.value());
}

/// Counts the elements compared, so that no identity passes on empty outputs.
struct Compared {
  std::int64_t n = 0;
};

void expect_same(const std::vector<double>& want, const std::vector<double>& got, const std::string& what,
                 Compared& compared) {
  ASSERT_EQ(want.size(), got.size()) << what;
  int reported = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (same_value(want[i], got[i])) continue;
    if (++reported <= 5)
      ADD_FAILURE() << what << "[" << i << "]: " << show(want[i]) << " vs " << show(got[i]);
  }
  compared.n += static_cast<std::int64_t>(want.size());
}

/// Permutes a row-major tensor's values: out[index permuted] = in[index]; out's dim d is in's dim perm[d].
std::vector<double> permute(const std::vector<double>& in, const Dims& shape, const std::vector<int>& perm) {
  Dims out_shape;
  for (int d : perm) out_shape.push_back(shape[static_cast<std::size_t>(d)]);
  const Dims in_strides = contiguous_strides(shape);
  std::vector<double> out(in.size());
  const std::int64_t n = static_cast<std::int64_t>(in.size());
  for (std::int64_t i = 0; i < n; ++i) {
    // i is the out's linear index: peel its digits, map them to in's dims.
    std::int64_t rest = i, offset = 0;
    for (std::size_t d = out_shape.size(); d-- > 0;) {
      offset += (rest % out_shape[d]) * in_strides[static_cast<std::size_t>(perm[d])];
      rest /= out_shape[d];
    }
    out[static_cast<std::size_t>(i)] = in[static_cast<std::size_t>(offset)];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

TEST(Identities, GroupNormWithOneChannelPerGroupIsInstanceNorm) {
  std::mt19937_64 rng(81);
  Compared compared;
  for (const Dims& shape : {Dims{2, 4, 5}, Dims{3, 2, 2, 3}, Dims{1, 3, 2, 2, 2}}) {
    for (DType t : kAllDTypes) {
      for (Direction dir : {Direction::kForward, Direction::kBackward}) {
        for (bool affine : {true, false}) {
          const std::int64_t C = shape[1], numel = numel_of(shape);
          Case in_case, gn_case;
          in_case.problem = default_problem(Op::kInstanceNorm, shape);
          in_case.problem.affine = in_case.problem.bias = affine;
          gn_case.problem = default_problem(Op::kGroupNorm, shape);
          gn_case.problem.num_groups = C;
          gn_case.problem.affine = gn_case.problem.bias = affine;
          for (Case* c : {&in_case, &gn_case}) {
            c->problem.dtype = t;
            c->problem.direction = dir;
            c->problem.eps = 1e-3;
          }
          in_case.x = random_values(rng, t, numel, 1.5);
          if (affine) {
            in_case.weight = random_values(rng, t, C);
            in_case.bias = random_values(rng, t, C);
          }
          if (dir == Direction::kBackward) in_case.grad_output = random_values(rng, t, numel);
          const Problem gn_problem = gn_case.problem;
          gn_case = in_case;
          gn_case.problem = gn_problem;
          SCOPED_TRACE(to_string(gn_case.problem));
          const reference::Result a = evaluate_case(in_case), b = evaluate_case(gn_case);
          expect_same(a.y.values(), b.y.values(), "y", compared);
          expect_same(a.mean->values(), b.mean->values(), "mean", compared);
          expect_same(a.rstd->values(), b.rstd->values(), "rstd", compared);
          if (dir == Direction::kBackward) {
            expect_same(a.dx->values(), b.dx->values(), "dx", compared);
            if (affine) {
              expect_same(a.dweight->values(), b.dweight->values(), "dweight", compared);
              expect_same(a.dbias->values(), b.dbias->values(), "dbias", compared);
            }
          }
        }
      }
    }
  }
  EXPECT_GT(compared.n, 2500);
}

TEST(Identities, GroupNormWithOneGroupIsLayerNormOverChannelsAndSpace) {
  std::mt19937_64 rng(82);
  Compared compared;
  for (const Dims& shape : {Dims{2, 4, 5}, Dims{3, 3, 2, 2}}) {
    for (DType t : kAllDTypes) {
      for (Direction dir : {Direction::kForward, Direction::kBackward}) {
        for (bool affine : {true, false}) {
          const std::int64_t C = shape[1], numel = numel_of(shape), S = numel / (shape[0] * C);
          Case gn, ln;
          gn.problem = default_problem(Op::kGroupNorm, shape);
          gn.problem.num_groups = 1;
          ln.problem = default_problem(Op::kLayerNorm, shape);
          ln.problem.normalized_shape = Dims(shape.begin() + 1, shape.end());
          for (Case* c : {&gn, &ln}) {
            c->problem.dtype = t;
            c->problem.direction = dir;
            c->problem.affine = c->problem.bias = affine;
          }
          gn.x = ln.x = random_values(rng, t, numel, -3);
          if (affine) {
            // Per channel for group_norm; the same values expanded over space for layer_norm.
            gn.weight = random_values(rng, t, C);
            gn.bias = random_values(rng, t, C);
            for (std::int64_t c = 0; c < C; ++c) {
              for (std::int64_t s = 0; s < S; ++s) {
                ln.weight.push_back(gn.weight[static_cast<std::size_t>(c)]);
                ln.bias.push_back(gn.bias[static_cast<std::size_t>(c)]);
              }
            }
          }
          if (dir == Direction::kBackward) gn.grad_output = ln.grad_output = random_values(rng, t, numel);
          SCOPED_TRACE(to_string(gn.problem));
          const reference::Result a = evaluate_case(gn), b = evaluate_case(ln);
          expect_same(a.y.values(), b.y.values(), "y", compared);
          expect_same(a.mean->values(), b.mean->values(), "mean", compared);
          expect_same(a.rstd->values(), b.rstd->values(), "rstd", compared);
          if (dir == Direction::kBackward) expect_same(a.dx->values(), b.dx->values(), "dx", compared);
        }
      }
    }
  }
  EXPECT_GT(compared.n, 1500);
}

TEST(Identities, InstanceNormIsBatchNormOnOneSampleOfNTimesCChannels) {
  std::mt19937_64 rng(83);
  Compared compared;
  for (const Dims& shape : {Dims{2, 3, 6}, Dims{3, 2, 2, 2}}) {
    for (DType t : kAllDTypes) {
      for (Direction dir : {Direction::kForward, Direction::kBackward}) {
        for (bool affine : {false, true}) {
          const std::int64_t N = shape[0], C = shape[1], numel = numel_of(shape);
          Dims bn_shape{1, N * C};
          bn_shape.insert(bn_shape.end(), shape.begin() + 2, shape.end());
          Case in, bn;
          in.problem = default_problem(Op::kInstanceNorm, shape);
          bn.problem = default_problem(Op::kBatchNorm, bn_shape);
          bn.problem.track_running_stats = false;
          for (Case* c : {&in, &bn}) {
            c->problem.dtype = t;
            c->problem.direction = dir;
            c->problem.affine = c->problem.bias = affine;
          }
          in.x = bn.x = random_values(rng, t, numel, 10);
          if (affine) {  // instance_norm's per-channel affine, tiled over n for batch_norm
            in.weight = random_values(rng, t, C);
            in.bias = random_values(rng, t, C);
            for (std::int64_t n = 0; n < N; ++n) {
              bn.weight.insert(bn.weight.end(), in.weight.begin(), in.weight.end());
              bn.bias.insert(bn.bias.end(), in.bias.begin(), in.bias.end());
            }
          }
          if (dir == Direction::kBackward) in.grad_output = bn.grad_output = random_values(rng, t, numel);
          SCOPED_TRACE(to_string(in.problem));
          const reference::Result a = evaluate_case(in), b = evaluate_case(bn);
          expect_same(a.y.values(), b.y.values(), "y", compared);
          expect_same(a.mean->values(), b.mean->values(), "mean", compared);
          expect_same(a.rstd->values(), b.rstd->values(), "rstd", compared);
          if (dir == Direction::kBackward) expect_same(a.dx->values(), b.dx->values(), "dx", compared);
        }
      }
    }
  }
  EXPECT_GT(compared.n, 1500);
}

TEST(Identities, LayerNormOverRowsIsBatchNormOnTheTranspose) {
  std::mt19937_64 rng(84);
  Compared compared;
  for (const Dims& md : {Dims{3, 7}, Dims{5, 4}, Dims{2, 16}}) {
    const std::int64_t M = md[0], D = md[1];
    for (DType t : kAllDTypes) {
      for (Direction dir : {Direction::kForward, Direction::kBackward}) {
        for (bool tracked : {false, true}) {
          Case ln, bn;
          ln.problem = default_problem(Op::kLayerNorm, {M, D});
          bn.problem = default_problem(Op::kBatchNorm, {D, M});  // N = D, C = M
          bn.problem.track_running_stats = tracked;
          for (Case* c : {&ln, &bn}) {
            c->problem.dtype = t;
            c->problem.direction = dir;
            c->problem.affine = c->problem.bias = false;
          }
          ln.x = random_values(rng, t, M * D, -0.75);
          bn.x = permute(ln.x, {M, D}, {1, 0});
          if (tracked) {
            bn.running_mean = random_values(rng, t, M);
            bn.running_var = std::vector<double>(static_cast<std::size_t>(M), 1.0);
          }
          if (dir == Direction::kBackward) {
            ln.grad_output = random_values(rng, t, M * D);
            bn.grad_output = permute(ln.grad_output, {M, D}, {1, 0});
          }
          SCOPED_TRACE(to_string(bn.problem));
          const reference::Result a = evaluate_case(ln), b = evaluate_case(bn);
          expect_same(permute(a.y.values(), {M, D}, {1, 0}), b.y.values(), "y (transposed)", compared);
          expect_same(a.mean->values(), b.mean->values(), "mean", compared);
          expect_same(a.rstd->values(), b.rstd->values(), "rstd", compared);
          if (dir == Direction::kBackward) {
            expect_same(permute(a.dx->values(), {M, D}, {1, 0}), b.dx->values(), "dx (transposed)", compared);
          }
        }
      }
    }
  }
  EXPECT_GT(compared.n, 2000);
}

TEST(Identities, LayerNorm2dIsLayerNormOverChannelsOfTheChannelsLastPermutation) {
  std::mt19937_64 rng(85);
  Compared compared;
  for (const Dims& shape : {Dims{2, 3, 2, 2}, Dims{2, 5, 3}, Dims{1, 4, 2, 1, 3}}) {
    // (N, C, spatial...) -> (N, spatial..., C)
    std::vector<int> to_last{0};
    for (int d = 2; d < static_cast<int>(shape.size()); ++d) to_last.push_back(d);
    to_last.push_back(1);
    std::vector<int> back(to_last.size());
    for (std::size_t d = 0; d < to_last.size(); ++d)
      back[static_cast<std::size_t>(to_last[d])] = static_cast<int>(d);
    Dims last_shape;
    for (int d : to_last) last_shape.push_back(shape[static_cast<std::size_t>(d)]);
    const std::int64_t C = shape[1], numel = numel_of(shape);
    for (DType t : kAllDTypes) {
      for (Direction dir : {Direction::kForward, Direction::kBackward}) {
        for (bool affine : {true, false}) {
          Case ln2d, ln;
          ln2d.problem = default_problem(Op::kLayerNorm2d, shape);
          ln.problem = default_problem(Op::kLayerNorm, last_shape);
          ln.problem.normalized_shape = {C};
          for (Case* c : {&ln2d, &ln}) {
            c->problem.dtype = t;
            c->problem.direction = dir;
            c->problem.affine = c->problem.bias = affine;
            c->problem.eps = 1e-6;
          }
          ln2d.x = random_values(rng, t, numel, 4);
          ln.x = permute(ln2d.x, shape, to_last);
          if (affine) {
            ln2d.weight = ln.weight = random_values(rng, t, C);
            ln2d.bias = ln.bias = random_values(rng, t, C);
          }
          if (dir == Direction::kBackward) {
            ln2d.grad_output = random_values(rng, t, numel);
            ln.grad_output = permute(ln2d.grad_output, shape, to_last);
          }
          SCOPED_TRACE(to_string(ln2d.problem));
          const reference::Result a = evaluate_case(ln2d), b = evaluate_case(ln);
          expect_same(a.y.values(), permute(b.y.values(), last_shape, back), "y", compared);
          expect_same(a.mean->values(), b.mean->values(), "mean", compared);
          expect_same(a.rstd->values(), b.rstd->values(), "rstd", compared);
          if (dir == Direction::kBackward) {
            expect_same(a.dx->values(), permute(b.dx->values(), last_shape, back), "dx", compared);
            if (affine) {
              // The same terms dy * xhat summed per channel: the same sum, the same rounding.
              expect_same(a.dweight->values(), b.dweight->values(), "dweight", compared);
              expect_same(a.dbias->values(), b.dbias->values(), "dbias", compared);
            }
          }
        }
      }
    }
  }
  EXPECT_GT(compared.n, 2000);
}

// ---------------------------------------------------------------------------------------------
// Strides do not matter: the same logical values give the same bits.

enum class Style { kChannelsLast, kPermuted, kSliced, kFlipped };
const char* style_name(Style s) {
  switch (s) {
    case Style::kChannelsLast:
      return "channels_last";
    case Style::kPermuted:
      return "permuted";
    case Style::kSliced:
      return "sliced";
    case Style::kFlipped:
      return "flipped";
  }
  return "?";
}

/// A tensor's logical values held in storage of another layout, and the strided view of them.
struct Strided {
  Tensor storage;
  TensorView view;
};

Strided strided(DType t, const Dims& shape, const std::vector<double>& values, Style style,
                std::mt19937_64& rng) {
  Strided s;
  const std::size_t rank = shape.size();
  switch (style) {
    case Style::kChannelsLast: {
      s.storage = Tensor::from_values(t, shape, values, Layout::kChannelsLast);
      s.view = s.storage.view();
      return s;
    }
    case Style::kPermuted: {
      std::vector<int> order(rank);  // storage dim i holds logical dim order[i]
      std::iota(order.begin(), order.end(), 0);
      std::shuffle(order.begin(), order.end(), rng);
      Dims storage_shape;
      for (int d : order) storage_shape.push_back(shape[static_cast<std::size_t>(d)]);
      s.storage = Tensor::empty(t, storage_shape);
      s.view = s.storage.view();
      s.view.shape = shape;
      const Dims st = contiguous_strides(storage_shape);
      for (std::size_t i = 0; i < rank; ++i) s.view.strides[static_cast<std::size_t>(order[i])] = st[i];
      break;
    }
    case Style::kSliced: {
      // Every other element of a larger tensor, starting at index 1 in every dim.
      Dims big;
      for (std::int64_t d : shape) big.push_back(2 * d + 1);
      s.storage = Tensor::empty(t, big);
      s.storage.fill(std::nan(""));  // poison: a wrong index reads NaN
      const Dims st = contiguous_strides(big);
      s.view = s.storage.view();
      s.view.shape = shape;
      std::int64_t offset = 0;
      for (std::size_t i = 0; i < rank; ++i) {
        s.view.strides[i] = 2 * st[i];
        offset += st[i];
      }
      s.view.data = static_cast<char*>(s.storage.data()) + offset * static_cast<std::int64_t>(size_of(t));
      break;
    }
    case Style::kFlipped: {
      // Dim 0 runs backwards through memory (a negative stride, as DLPack allows).
      s.storage = Tensor::empty(t, shape);
      s.view = s.storage.view();
      const std::int64_t s0 = s.view.strides[0];
      s.view.data =
          static_cast<char*>(s.storage.data()) + (shape[0] - 1) * s0 * static_cast<std::int64_t>(size_of(t));
      s.view.strides[0] = -s0;
      break;
    }
  }
  for (std::size_t i = 0; i < values.size(); ++i) s.view.set_linear(static_cast<std::int64_t>(i), values[i]);
  return s;
}

void expect_same_result(const reference::Result& a, const reference::Result& b, Compared& compared) {
  expect_same(a.y.values(), b.y.values(), "y", compared);
  auto opt = [&](const char* what, const std::optional<Tensor>& u, const std::optional<Tensor>& v) {
    ASSERT_EQ(u.has_value(), v.has_value()) << what;
    if (u) expect_same(u->values(), v->values(), what, compared);
  };
  opt("mean", a.mean, b.mean);
  opt("rstd", a.rstd, b.rstd);
  opt("running_mean", a.running_mean, b.running_mean);
  opt("running_var", a.running_var, b.running_var);
  opt("dx", a.dx, b.dx);
  opt("dweight", a.dweight, b.dweight);
  opt("dbias", a.dbias, b.dbias);
  opt("y_bound", std::optional<Tensor>(a.y_bound), std::optional<Tensor>(b.y_bound));
  EXPECT_EQ(a.num_batches_tracked, b.num_batches_tracked);
}

TEST(Identities, TheSameLogicalValuesGiveTheSameBitsWhateverTheStrides) {
  std::mt19937_64 rng(86);
  Compared compared;
  int runs = 0;
  struct OpShape {
    Op op;
    Dims shape;
  };
  const std::vector<OpShape> shapes = {{Op::kBatchNorm, {3, 4, 2, 3}}, {Op::kInstanceNorm, {2, 3, 5}},
                                       {Op::kGroupNorm, {2, 4, 3, 2}}, {Op::kLayerNorm, {3, 2, 5}},
                                       {Op::kRmsNorm, {4, 6}},         {Op::kLayerNorm2d, {2, 3, 2, 2}}};
  for (const OpShape& os : shapes) {
    for (DType t : {DType::kFloat32, DType::kBFloat16, DType::kFloat64}) {
      for (Direction dir : {Direction::kForward, Direction::kBackward}) {
        Case c;
        c.problem = default_problem(os.op, os.shape);
        c.problem.dtype = t;
        c.problem.direction = dir;
        if (os.op == Op::kGroupNorm) c.problem.num_groups = 2;
        if (os.op == Op::kInstanceNorm) {
          c.problem.affine = c.problem.bias = true;
          c.problem.track_running_stats = true;
        }
        const std::int64_t numel = numel_of(os.shape);
        const Dims ashape = affine_shape(c.problem);
        c.x = random_values(rng, t, numel, 2);
        if (c.problem.affine) c.weight = random_values(rng, t, numel_of(ashape));
        if (c.problem.bias) c.bias = random_values(rng, t, numel_of(ashape));
        if (tracks_running_stats(c.problem)) {
          c.running_mean = random_values(rng, t, os.shape[1]);
          c.running_var = std::vector<double>(static_cast<std::size_t>(os.shape[1]), 1.5);
          c.num_batches_tracked = 2;
        }
        if (dir == Direction::kBackward) c.grad_output = random_values(rng, t, numel);
        const reference::Result want = evaluate_case(c);
        for (Style style : {Style::kChannelsLast, Style::kPermuted, Style::kSliced, Style::kFlipped}) {
          if (style == Style::kChannelsLast && (os.op == Op::kLayerNorm || os.op == Op::kRmsNorm)) continue;
          SCOPED_TRACE(to_string(c.problem) + " as " + style_name(style));
          Problem p = c.problem;
          if (style == Style::kChannelsLast) p.layout = Layout::kChannelsLast;
          reference::Inputs in;
          Strided x = strided(t, os.shape, c.x, style, rng);
          in.x = x.view;
          // The small tensors sliced (every other element), whatever the style.
          Strided w, b, rm, rv, dy;
          if (p.affine) {
            w = strided(t, ashape, c.weight, Style::kSliced, rng);
            in.weight = w.view;
          }
          if (p.bias) {
            b = strided(t, ashape, c.bias, Style::kFlipped, rng);
            in.bias = b.view;
          }
          if (tracks_running_stats(p)) {
            rm = strided(t, {os.shape[1]}, c.running_mean, Style::kSliced, rng);
            rv = strided(t, {os.shape[1]}, c.running_var, Style::kFlipped, rng);
            in.running_mean = rm.view;
            in.running_var = rv.view;
            in.num_batches_tracked = c.num_batches_tracked;
          }
          if (dir == Direction::kBackward) {
            dy = strided(t, os.shape, c.grad_output,
                         style == Style::kSliced ? Style::kPermuted : Style::kSliced, rng);
            in.grad_output = dy.view;
          }
          Expected<reference::Result> got = reference::evaluate(p, in);
          ASSERT_TRUE(got.ok()) << got.message();
          expect_same_result(want, *got, compared);
          ++runs;
        }
      }
    }
  }
  EXPECT_EQ(runs, (4 * 4 + 2 * 3) * 3 * 2);
  EXPECT_GT(compared.n, 10000);
}

}  // namespace
}  // namespace normcheck
