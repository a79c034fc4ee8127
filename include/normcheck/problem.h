#pragma once
/// The problem descriptor: one value that names a normalization problem completely, prints as one
/// line and parses back (parse(print(p)) == p), so that every failure can be replayed with
/// `normcheck repro '<line>'`. Shape validation lives here, once.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "normcheck/dtype.h"
#include "normcheck/status.h"
#include "normcheck/tensor.h"

namespace normcheck {

enum class Op : std::uint8_t { kBatchNorm, kLayerNorm, kInstanceNorm, kGroupNorm, kRmsNorm, kLayerNorm2d };
inline constexpr Op kAllOps[] = {Op::kBatchNorm, Op::kLayerNorm, Op::kInstanceNorm,
                                 Op::kGroupNorm, Op::kRmsNorm,   Op::kLayerNorm2d};
enum class Profile : std::uint8_t { kPyTorch, kKeras, kOnnx };
inline constexpr Profile kAllProfiles[] = {Profile::kPyTorch, Profile::kKeras, Profile::kOnnx};
enum class Mode : std::uint8_t { kTrain, kEval };
enum class Direction : std::uint8_t { kForward, kBackward };

std::string_view name(Op op);  ///< batch_norm layer_norm instance_norm group_norm rms_norm layer_norm_2d
std::string_view name(Profile p);    ///< pytorch keras onnx
std::string_view name(Mode m);       ///< train eval
std::string_view name(Direction d);  ///< forward backward
std::optional<Op> parse_op(std::string_view s);
std::optional<Profile> parse_profile(std::string_view s);
std::optional<Mode> parse_mode(std::string_view s);
std::optional<Direction> parse_direction(std::string_view s);

/// How the generated inputs' x values are drawn from the seed (properties/inputs.h makes them).
/// Part of the descriptor, so that a repro line replays the same data:
///   normal:OFFSET:SPREAD   x = offset + spread * N(0, 1)           (default normal:0:1)
///   uniform:OFFSET:SPREAD  x = offset + spread * U(-1, 1)
///   constant:VALUE         every x = value (every set constant: the output is exactly beta)
///   large                  |x| up to the largest magnitude whose squares summed over a set stay
///                          finite in a float32 accumulator (float16: up to half its max, whose
///                          squares overflow float16 itself)
///   tiny                   x = N(0, 1) * 4 * the dtype's smallest normal (subnormal deviations)
///   exact_pairs:MEAN       pairs MEAN +- d with d exact in the dtype, MEAN a power of two: every set's
///                          mean is MEAN exactly and its sums are exact in any order (as oneDNN's benchdnn)
///   nan, inf               normal:0:1 with one NaN (+inf) planted in one set chosen by the seed
enum class ValueKind : std::uint8_t { kNormal, kUniform, kConstant, kLarge, kTiny, kExactPairs, kNaN, kInf };
struct Values {
  ValueKind kind = ValueKind::kNormal;
  double offset = 0;  ///< normal/uniform: the center; constant: the value; exact_pairs: the mean
  double spread = 1;  ///< normal: the standard deviation; uniform: the half-width
  bool operator==(const Values&) const = default;
};
std::string to_string(const Values& v);            ///< "normal:0:1", "constant:1234.5", "nan", ...
Expected<Values> parse_values(std::string_view s);  ///< also accepts "normal" and "uniform" (0:1)

struct Problem {
  Op op = Op::kBatchNorm;
  std::vector<std::int64_t> shape;  ///< logical shape of x: (N, C, spatial...) or (*, normalized_shape)
  DType dtype = DType::kFloat32;    ///< x, y, weight, bias, running stats, dy, dx all have this dtype
  Layout layout = Layout::kContiguous;
  /// nullopt means "eps=None": the machine epsilon of dtype (rms_norm only, PyTorch's default).
  std::optional<double> eps = 1e-5;
  /// nullopt means "momentum=None": cumulative moving average (pytorch profile only).
  std::optional<double> momentum = 0.1;
  bool affine = true;  ///< a weight (gamma) is applied
  bool bias = true;    ///< a bias (beta) is added; without affine only where the profile allows it (not onnx)
  bool track_running_stats = true;  ///< batch_norm / instance_norm only
  Mode mode = Mode::kTrain;
  std::int64_t num_groups = 1;                   ///< group_norm only
  std::vector<std::int64_t> normalized_shape;    ///< layer_norm / rms_norm only: the trailing dims
  Profile profile = Profile::kPyTorch;
  Direction direction = Direction::kForward;
  std::uint64_t seed = 0;  ///< the seed the generator used for the inputs (0 when inputs are given)
  Values values;           ///< how the generator drew x (ignored when inputs are given)

  bool operator==(const Problem&) const = default;
};

/// The op's defaults as the profile's framework defines them (PyTorch: eps 1e-5, momentum 0.1,
/// affine on except instance_norm, track_running_stats on for batch_norm only, rms_norm eps=None
/// and no bias; keras: eps 1e-3, momentum 0.99; onnx: eps 1e-5, momentum 0.9).
Problem default_problem(Op op, std::vector<std::int64_t> shape, Profile profile = Profile::kPyTorch);

/// One line, every field, `key=value` separated by single spaces, the op first, e.g.
/// "batch_norm shape=8x3x5x5 dtype=float32 layout=contiguous eps=1e-05 momentum=0.1 affine=1 bias=1
///  track_running_stats=1 mode=train profile=pytorch direction=forward seed=0 values=normal:0:1"
/// (group_norm adds groups=G; layer_norm/rms_norm add normalized_shape=AxB; eps/momentum may be
/// "none"; doubles print in the shortest form that parses back to the same bits).
std::string to_string(const Problem& p);
/// Parses a line produced by to_string; fields may come in any order and missing fields take
/// default_problem's values (except that a missing bias follows an explicit affine=0). Rejects unknown or repeated keys, bad values (NaN, negative eps,
/// a size that is not an integer...) with a message naming the field. Also runs validate().
Expected<Problem> parse_problem(std::string_view line);

/// The few numbers kernels need, derived once from a valid problem (ATen's (M, N) / (N, C, HxW, G)).
/// Every op is viewed as x[n][c][s] with n < N, c < C, s < S:
///   batch_norm, instance_norm, group_norm, layer_norm_2d: N = shape[0], C = shape[1], S = prod(shape[2:])
///   layer_norm, rms_norm: N = prod(leading dims), C = prod(normalized_shape), S = 1
/// and the normalization sets are
///   batch_norm: one per c (m = N*S);  instance_norm: one per (n, c) (m = S);
///   group_norm: one per (n, g), channels g*C/G..(g+1)*C/G-1 (m = C/G*S);
///   layer_norm, rms_norm: one per n (m = C);  layer_norm_2d: one per (n, s) (m = C).
/// The affine index of x[n][c][s] is c in every op.
struct Geometry {
  std::int64_t N = 0, C = 0, S = 0, G = 1;
  std::int64_t num_sets = 0;  ///< batch_norm: C; instance_norm: N*C; group_norm: N*G; ln/rms: N; ln2d: N*S
  std::int64_t set_size = 0;  ///< m, the number of elements in one set
};

/// The normalization set of element x[n][c][s] (see Geometry): c for batch_norm, n*C + c for
/// instance_norm, n*G + c/(C/G) for group_norm, n for layer_norm/rms_norm, n*S + s for layer_norm_2d.
std::int64_t set_index(Op op, const Geometry& g, std::int64_t n, std::int64_t c, std::int64_t s);

/// Checks the shape rules with "Expected X, but got Y" messages: rank limits per op (batch_norm 2..5,
/// instance_norm 3..5, group_norm 2..8, layer_norm_2d 3..5, layer_norm/rms_norm 1..8 with a
/// non-empty normalized_shape equal to the trailing dims), C % G == 0 with 1 <= G <= C,
/// non-negative sizes, element counts that fit in int64, eps finite and >= 0, momentum finite,
/// both within the range of the type the profile holds them in (effective_eps), bias=1 with affine=0
/// only where the profile allows it (pytorch, keras; not onnx),
/// layout channels_last only for rank >= 3 of an op with a channel dim, permuted for rank >= 2,
/// values with finite parameters (spread > 0; exact_pairs' mean a power of two).
Status validate(const Problem& p);
/// validate(p), then the Geometry.
Expected<Geometry> geometry(const Problem& p);

/// The eps actually used: p.eps, or the machine epsilon of p.dtype for eps=None, as p.profile's
/// framework holds it (docs/semantics.md, "How eps and momentum are held"): rounded to float32
/// under onnx (a float attribute), and to the type the framework computes its statistics in under
/// keras and pytorch (float32, float64 for float64 data). The reference, the built-in
/// implementations and the properties normalize with this value.
double effective_eps(const Problem& p);

/// The weights of the running-statistics update new = keep * old + take * batch, as p.profile's
/// framework holds them (docs/semantics.md):
///   pytorch: take = momentum (None: 1.0 / num_batches_tracked, counted first) cast to the
///            accumulation type, keep = 1 - take in that type (ATen's `1 - momentum`)
///   keras:   keep = momentum, take = 1.0 - momentum in Python's double, each cast to the compute
///            dtype (so keep + take need not be 1)
///   onnx:    keep = momentum as a float32 attribute, take = 1 - keep in the data's type
/// The accumulation / compute type is stats_dtype(p.dtype). Precondition: p is valid; a
/// num_batches_tracked >= 1 when p.momentum is none.
struct RunningWeights {
  double keep = 0, take = 0;
};
RunningWeights held_momentum(const Problem& p, std::int64_t num_batches_tracked);

/// The shape of weight and bias (and dweight, dbias): normalized_shape for layer_norm / rms_norm,
/// else (C) = (shape[1]). Precondition: p is valid.
std::vector<std::int64_t> affine_shape(const Problem& p);
/// batch_norm / instance_norm with track_running_stats=1: the problem takes running_mean/var.
bool tracks_running_stats(const Problem& p);
/// ... and in eval mode: every element is normalized with the running statistics (otherwise with
/// batch statistics, as PyTorch's `training or running stats are None` rule says).
bool uses_running_stats(const Problem& p);
/// The dtype frameworks save mean and rstd in (their accumulation type): float32 for float16,
/// bfloat16 and float32 data, float64 for float64 data.
DType stats_dtype(DType data);

}  // namespace normcheck
