#include "normcheck/problem.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <span>
#include <system_error>
#include <utility>

namespace normcheck {
namespace {

// ---- names ---------------------------------------------------------------------------------------

constexpr std::string_view kOpNames[] = {"batch_norm", "layer_norm", "instance_norm",
                                         "group_norm", "rms_norm",   "layer_norm_2d"};
constexpr std::string_view kProfileNames[] = {"pytorch", "keras", "onnx"};
constexpr std::string_view kModeNames[] = {"train", "eval"};
constexpr std::string_view kDirectionNames[] = {"forward", "backward"};

template <class E, std::size_t kN>
std::optional<E> parse_enum(std::string_view s, const std::string_view (&names)[kN]) {
  for (std::size_t i = 0; i < kN; ++i) {
    if (names[i] == s) return static_cast<E>(i);
  }
  return std::nullopt;
}

template <std::size_t kN>
std::string join_names(const std::string_view (&names)[kN]) {
  std::string out;
  for (std::size_t i = 0; i < kN; ++i) {
    if (i > 0) out += ", ";
    out += names[i];
  }
  return out;
}

// ---- op families ---------------------------------------------------------------------------------

/// Ops viewed as (N, C, spatial...) with the channel at dim 1.
bool has_channel_dim(Op op) {
  return op == Op::kBatchNorm || op == Op::kInstanceNorm || op == Op::kGroupNorm || op == Op::kLayerNorm2d;
}
/// Ops that normalize over trailing dims given by normalized_shape.
bool has_normalized_shape(Op op) { return op == Op::kLayerNorm || op == Op::kRmsNorm; }
/// Ops that may keep running statistics.
bool has_running_stats(Op op) { return op == Op::kBatchNorm || op == Op::kInstanceNorm; }

struct RankLimits {
  int min, max;
};
RankLimits rank_limits(Op op) {
  switch (op) {
    case Op::kBatchNorm:
      return {2, 5};
    case Op::kInstanceNorm:
      return {3, 5};
    case Op::kGroupNorm:
      return {2, 8};
    case Op::kLayerNorm2d:
      return {3, 5};
    case Op::kLayerNorm:
    case Op::kRmsNorm:
      return {1, 8};
  }
  return {1, 8};
}

// ---- formatting ----------------------------------------------------------------------------------

/// "2x3x4" for the descriptor line.
std::string joined_x(std::span<const std::int64_t> dims) {
  std::string out;
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (i > 0) out += 'x';
    out += std::to_string(dims[i]);
  }
  return out;
}

/// The shortest text that parses back to the same double (std::to_chars without a precision).
std::string shortest(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  NC_CHECK(ec == std::errc(), "to_chars(double) needs at most 32 characters");
  return std::string(buf, end);
}

std::string optional_double(const std::optional<double>& v) { return v ? shortest(*v) : "none"; }

std::string shape_text(const Problem& p) { return "shape " + bracketed(p.shape); }

// ---- parsing helpers -----------------------------------------------------------------------------

/// Parses the whole of s as a T with std::from_chars (no sign prefix '+', no spaces, no leftovers).
template <class T>
bool parse_whole(std::string_view s, T& out) {
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

std::string quoted(std::string_view s) {
  // Built by appending: "'" + std::string(s) trips GCC 12's false -Wrestrict positive.
  std::string out;
  out.reserve(s.size() + 2);
  out += '\'';
  out += s;
  out += '\'';
  return out;
}

Status bad_value(std::string_view what, std::string_view text) {
  return Status::error("Expected " + std::string(what) + ", but got " + quoted(text));
}

Expected<bool> parse_bool(std::string_view key, std::string_view v) {
  if (v == "1" || v == "true") return true;
  if (v == "0" || v == "false") return false;
  return bad_value(std::string(key) + " to be 0, 1, true or false", v);
}

/// eps / momentum: a finite number or "none"; eps must also be >= 0.
Expected<std::optional<double>> parse_optional_double(std::string_view key, std::string_view v,
                                                      bool non_negative) {
  std::string what =
      std::string(key) + " to be a finite number" + (non_negative ? " >= 0" : "") + " or 'none'";
  if (v == "none") return std::optional<double>();
  double d = 0;
  if (!parse_whole(v, d) || !std::isfinite(d) || (non_negative && d < 0)) return bad_value(what, v);
  return std::optional<double>(d);
}

/// "2x3x4": non-negative integer dims joined by 'x'.
Expected<std::vector<std::int64_t>> parse_dims(std::string_view key, std::string_view v) {
  std::vector<std::int64_t> dims;
  std::size_t start = 0;
  while (true) {
    std::size_t end = v.find('x', start);
    std::string_view piece = v.substr(start, end == std::string_view::npos ? end : end - start);
    std::int64_t d = 0;
    if (!parse_whole(piece, d) || d < 0) {
      return Status::error("Expected " + std::string(key) +
                           " to be non-negative integer dims joined by 'x', but got " + quoted(v) +
                           " (bad dim " + quoted(piece) + ")");
    }
    dims.push_back(d);
    if (end == std::string_view::npos) return dims;
    start = end + 1;
  }
}

// The keys of a descriptor line, in to_string's order.
constexpr std::string_view kKeys[] = {
    "shape", "dtype",   "layout",    "eps",  "momentum", "affine",          "bias", "track_running_stats",
    "mode",  "profile", "direction", "seed", "values",   "groups",         "normalized_shape"};

struct Field {
  std::string_view key, value;
};

/// Splits on runs of whitespace (a pasted repro line may carry a trailing newline).
std::vector<std::string_view> tokens_of(std::string_view line) {
  std::vector<std::string_view> out;
  constexpr std::string_view kSpace = " \t\r\n";
  std::size_t i = line.find_first_not_of(kSpace);
  while (i != std::string_view::npos) {
    std::size_t end = line.find_first_of(kSpace, i);
    out.push_back(line.substr(i, end == std::string_view::npos ? end : end - i));
    i = line.find_first_not_of(kSpace, end);
  }
  return out;
}

/// Applies one explicit field (other than shape and profile, which come first) to p.
Status apply_field(Problem& p, const Field& f) {
  const std::string_view k = f.key, v = f.value;
  if (k == "dtype") {
    auto d = parse_dtype(v);
    if (!d) return bad_value("dtype to be one of float64, float32, float16, bfloat16", v);
    p.dtype = *d;
  } else if (k == "layout") {
    auto l = parse_layout(v);
    if (!l) return bad_value("layout to be contiguous, channels_last, permuted or strided", v);
    p.layout = *l;
  } else if (k == "eps") {
    auto e = parse_optional_double(k, v, /*non_negative=*/true);
    if (!e) return e.status();
    p.eps = *e;
  } else if (k == "momentum") {
    auto m = parse_optional_double(k, v, /*non_negative=*/false);
    if (!m) return m.status();
    p.momentum = *m;
  } else if (k == "affine" || k == "bias" || k == "track_running_stats") {
    auto b = parse_bool(k, v);
    if (!b) return b.status();
    (k == "affine" ? p.affine : k == "bias" ? p.bias : p.track_running_stats) = *b;
  } else if (k == "mode") {
    auto m = parse_mode(v);
    if (!m) return bad_value("mode to be train or eval", v);
    p.mode = *m;
  } else if (k == "direction") {
    auto d = parse_direction(v);
    if (!d) return bad_value("direction to be forward or backward", v);
    p.direction = *d;
  } else if (k == "seed") {
    if (!parse_whole(v, p.seed)) return bad_value("seed to be an unsigned 64-bit integer", v);
  } else if (k == "values") {
    auto vals = parse_values(v);
    if (!vals) return vals.status();
    p.values = *vals;
  } else if (k == "groups") {
    // Only group_norm prints it, so accepting it elsewhere would break parse(to_string(p)) == p.
    if (p.op != Op::kGroupNorm) {
      return Status::error("Expected groups only for group_norm, but got " +
                           quoted("groups=" + std::string(v)) + " for " + std::string(name(p.op)));
    }
    if (!parse_whole(v, p.num_groups)) return bad_value("groups to be an integer", v);
  } else if (k == "normalized_shape") {
    if (!has_normalized_shape(p.op)) {
      return Status::error("Expected normalized_shape only for layer_norm and rms_norm, but got " +
                           quoted("normalized_shape=" + std::string(v)) + " for " + std::string(name(p.op)));
    }
    auto dims = parse_dims(k, v);
    if (!dims) return dims.status();
    p.normalized_shape = std::move(*dims);
  } else {
    NC_CHECK(false, "apply_field called with key " + std::string(k));
  }
  return {};
}

// ---- validation pieces ---------------------------------------------------------------------------

Status check_shape(const Problem& p) {
  const std::string op(name(p.op));
  const RankLimits lim = rank_limits(p.op);
  const int rank = static_cast<int>(p.shape.size());
  if (rank < lim.min || rank > lim.max) {
    return Status::error("Expected " + op + " input of rank " + std::to_string(lim.min) + " to " +
                         std::to_string(lim.max) + ", but got rank " + std::to_string(rank) + " (" +
                         shape_text(p) + ")");
  }
  for (std::int64_t d : p.shape) {
    if (d < 0) return Status::error("Expected non-negative dims, but got " + shape_text(p));
  }
  // The product of the non-zero dims bounds every count derived from the shape (numel, N*S, C*S,
  // N*C...), even when a zero dim makes numel itself 0.
  std::int64_t product = 1;
  for (std::int64_t d : p.shape) {
    if (d != 0 && __builtin_mul_overflow(product, d, &product)) {
      return Status::error("Expected element counts that fit in int64, but got " + shape_text(p) +
                           " (the product of its dims overflows)");
    }
  }
  // layout=strided stores x inside a tensor one larger in every dim (strides_for): that tensor's
  // element count (and its strides, even when x is empty) must fit too (found by fuzz/descriptor_fuzz.cc).
  if (p.layout == Layout::kStrided) {
    std::int64_t padded = 1;
    for (std::int64_t d : p.shape) {
      std::int64_t d1 = 0;
      if (__builtin_add_overflow(d, 1, &d1) || __builtin_mul_overflow(padded, d1, &padded)) {
        return Status::error("Expected element counts that fit in int64, but got " + shape_text(p) +
                             " with layout=strided (the product of its dims + 1 overflows)");
      }
    }
  }
  return {};
}

Status check_channels(const Problem& p) {
  const std::string op(name(p.op));
  if (has_channel_dim(p.op) && p.shape[1] == 0) {
    return Status::error("Expected C = shape[1] > 0 for " + op + ", but got C=0 (" + shape_text(p) + ")");
  }
  if (p.op != Op::kGroupNorm) {
    if (p.num_groups != 1) {
      return Status::error("Expected num_groups=1 for " + op +
                           " (groups apply to group_norm only), but got " + std::to_string(p.num_groups));
    }
    return {};
  }
  const std::int64_t c = p.shape[1], g = p.num_groups;
  if (g < 1 || g > c) {
    return Status::error("Expected 1 <= num_groups <= C, but got G=" + std::to_string(g) +
                         ", C=" + std::to_string(c) + " (" + shape_text(p) + ")");
  }
  if (c % g != 0) {
    return Status::error("Expected C divisible by num_groups, but got C=" + std::to_string(c) +
                         ", G=" + std::to_string(g));
  }
  return {};
}

Status check_normalized_shape(const Problem& p) {
  const std::string op(name(p.op));
  const auto& ns = p.normalized_shape;
  if (!has_normalized_shape(p.op)) {
    if (!ns.empty()) {
      return Status::error("Expected no normalized_shape for " + op +
                           " (it applies to layer_norm and rms_norm only), but got " + bracketed(ns));
    }
    return {};
  }
  if (ns.empty()) return Status::error("Expected a non-empty normalized_shape for " + op + ", but got []");
  const std::string expected =
      "Expected normalized_shape " + bracketed(ns) + " to match the trailing dims of " + shape_text(p);
  if (ns.size() > p.shape.size()) {
    return Status::error(expected + ", but got only " + std::to_string(p.shape.size()) + " dims");
  }
  std::span<const std::int64_t> trailing(p.shape.data() + (p.shape.size() - ns.size()), ns.size());
  if (!std::equal(trailing.begin(), trailing.end(), ns.begin())) {
    return Status::error(expected + ", but got " + bracketed(trailing));
  }
  return {};
}

/// The type a profile's framework holds eps and momentum in (see effective_eps): a descriptor value
/// beyond that type's range would be held as inf.
DType held_dtype(const Problem& p) { return p.profile == Profile::kOnnx ? DType::kFloat32 : stats_dtype(p.dtype); }

Status check_held_range(const Problem& p) {
  const DType t = held_dtype(p);
  const std::string why = " (the " + std::string(name(p.profile)) + " profile holds it as " + std::string(name(t)) +
                          " for " + std::string(name(p.dtype)) + " data)";
  if (p.eps && !std::isfinite(round_to(t, *p.eps)))
    return Status::error("Expected eps within " + std::string(name(t)) + "'s range" + why + ", but got " +
                         shortest(*p.eps));
  if (p.momentum && !std::isfinite(round_to(t, *p.momentum)))
    return Status::error("Expected momentum within " + std::string(name(t)) + "'s range" + why + ", but got " +
                         shortest(*p.momentum));
  return {};
}

Status check_params(const Problem& p) {
  const std::string op(name(p.op));
  if (!p.eps) {
    if (p.op != Op::kRmsNorm) {
      return Status::error("Expected an eps value for " + op +
                           " (eps=none, the dtype's machine epsilon, is rms_norm's), but got none");
    }
  } else if (!std::isfinite(*p.eps) || *p.eps < 0) {
    return Status::error("Expected eps to be a finite number >= 0 or 'none', but got " + shortest(*p.eps));
  }
  if (!p.momentum) {
    if (p.profile != Profile::kPyTorch) {
      return Status::error("Expected a momentum value under the " + std::string(name(p.profile)) +
                           " profile (momentum=none is PyTorch's cumulative average), but got none");
    }
  } else if (!std::isfinite(*p.momentum)) {
    return Status::error("Expected momentum to be a finite number or 'none', but got " +
                         shortest(*p.momentum));
  }
  // Keras' center=True, scale=False and ATen's weight=None with a bias add beta without gamma;
  // ONNX's normalization ops take a Scale input whenever they take B.
  if (p.bias && !p.affine && p.profile == Profile::kOnnx)
    return Status::error("Expected bias=0 when affine=0 under the onnx profile (ONNX takes B only with Scale), "
                         "but got bias=1");
  NC_RETURN_IF_ERROR(check_held_range(p));
  if (p.track_running_stats && !has_running_stats(p.op)) {
    return Status::error("Expected track_running_stats=0 for " + op +
                         ", which has no running statistics, but got 1");
  }
  return {};
}

Status check_values(const Problem& p) {
  const Values& v = p.values;
  if (!std::isfinite(v.offset) || !std::isfinite(v.spread)) {
    return Status::error("Expected finite values parameters, but got values=" + to_string(v));
  }
  if ((v.kind == ValueKind::kNormal || v.kind == ValueKind::kUniform) && !(v.spread > 0)) {
    return Status::error("Expected a spread > 0, but got values=" + to_string(v));
  }
  if (v.kind == ValueKind::kExactPairs) {
    int e = 0;
    if (!(v.offset > 0) || std::frexp(v.offset, &e) != 0.5) {
      return Status::error("Expected exact_pairs' mean to be a positive power of two, but got values=" +
                           to_string(v));
    }
  }
  return {};
}

Status check_layout(const Problem& p) {
  if (p.layout == Layout::kPermuted && p.shape.size() < 2) {
    return Status::error("Expected rank >= 2 for layout=permuted, but got rank " +
                         std::to_string(p.shape.size()) + " (" + shape_text(p) + ")");
  }
  if (p.layout != Layout::kChannelsLast) return {};
  if (!has_channel_dim(p.op)) {
    return Status::error("Expected layout=contiguous for " + std::string(name(p.op)) +
                         ", which has no channel dim, but got channels_last");
  }
  if (p.shape.size() < 3) {
    return Status::error("Expected rank >= 3 for layout=channels_last, but got rank " +
                         std::to_string(p.shape.size()) + " (" + shape_text(p) + ")");
  }
  return {};
}

std::int64_t product(std::span<const std::int64_t> dims) {
  std::int64_t n = 1;
  for (std::int64_t d : dims) n *= d;  // validated: cannot overflow
  return n;
}

}  // namespace

// ---- public API ----------------------------------------------------------------------------------

std::string_view name(Op op) { return kOpNames[static_cast<int>(op)]; }
std::string_view name(Profile p) { return kProfileNames[static_cast<int>(p)]; }
std::string_view name(Mode m) { return kModeNames[static_cast<int>(m)]; }
std::string_view name(Direction d) { return kDirectionNames[static_cast<int>(d)]; }
std::optional<Op> parse_op(std::string_view s) { return parse_enum<Op>(s, kOpNames); }
std::optional<Profile> parse_profile(std::string_view s) { return parse_enum<Profile>(s, kProfileNames); }
std::optional<Mode> parse_mode(std::string_view s) { return parse_enum<Mode>(s, kModeNames); }
std::optional<Direction> parse_direction(std::string_view s) {
  return parse_enum<Direction>(s, kDirectionNames);
}

Problem default_problem(Op op, std::vector<std::int64_t> shape, Profile profile) {
  Problem p;
  p.op = op;
  p.profile = profile;
  switch (profile) {
    case Profile::kPyTorch:
      p.eps = 1e-5;
      p.momentum = 0.1;
      break;
    case Profile::kKeras:  // keras.layers.BatchNormalization / LayerNormalization / GroupNormalization
      p.eps = 1e-3;
      p.momentum = 0.99;
      break;
    case Profile::kOnnx:  // BatchNormalization-15, LayerNormalization-17, GroupNormalization-21
      p.eps = 1e-5;
      p.momentum = 0.9;
      break;
  }
  // RMSNorm: torch.nn.RMSNorm(eps=None) uses the dtype's machine epsilon; keras.layers.RMSNormalization
  // defaults to 1e-6; ONNX RMSNormalization-23 to 1e-5. None of them has a bias.
  if (op == Op::kRmsNorm) {
    if (profile == Profile::kPyTorch) p.eps = std::nullopt;
    if (profile == Profile::kKeras) p.eps = 1e-6;
    p.bias = false;
  }
  // torch.nn.InstanceNorm*d: affine=False, track_running_stats=False (so no bias either).
  if (op == Op::kInstanceNorm) p.affine = p.bias = false;
  p.track_running_stats = op == Op::kBatchNorm;
  p.num_groups = 1;
  if (has_normalized_shape(op) && !shape.empty()) p.normalized_shape = {shape.back()};
  p.shape = std::move(shape);
  return p;
}

namespace {
constexpr std::string_view kValueKindNames[] = {"normal", "uniform", "constant", "large",
                                                "tiny",   "exact_pairs", "nan", "inf"};
/// How many parameters each kind prints (normal/uniform: offset, spread; constant/exact_pairs: one).
int value_params(ValueKind k) {
  switch (k) {
    case ValueKind::kNormal:
    case ValueKind::kUniform: return 2;
    case ValueKind::kConstant:
    case ValueKind::kExactPairs: return 1;
    default: return 0;
  }
}
}  // namespace

std::string to_string(const Values& v) {
  std::string s(kValueKindNames[static_cast<int>(v.kind)]);
  const int n = value_params(v.kind);
  if (n >= 1) s += ":" + shortest(v.offset);
  if (n >= 2) s += ":" + shortest(v.spread);
  return s;
}

Expected<Values> parse_values(std::string_view s) {
  const std::size_t colon = s.find(':');
  const std::string_view kind_text = s.substr(0, colon);
  auto kind = parse_enum<ValueKind>(kind_text, kValueKindNames);
  if (!kind) return bad_value("values to be one of " + join_names(kValueKindNames) + " (with :parameters)", s);
  Values v;
  v.kind = *kind;
  std::vector<double> params;
  std::size_t start = colon;
  while (start != std::string_view::npos) {
    const std::size_t end = s.find(':', start + 1);
    const std::string_view piece = s.substr(start + 1, end == std::string_view::npos ? end : end - start - 1);
    double d = 0;
    const auto r = std::from_chars(piece.data(), piece.data() + piece.size(), d);
    if (piece.empty() || r.ec != std::errc() || r.ptr != piece.data() + piece.size()) {
      return Status::error("Expected values parameters to be numbers, but got " + quoted(piece) + " in " +
                           quoted(s));
    }
    params.push_back(d);
    start = end;
  }
  const int want = value_params(v.kind);
  const bool defaults_ok = params.empty() && (v.kind == ValueKind::kNormal || v.kind == ValueKind::kUniform);
  if (static_cast<int>(params.size()) != want && !defaults_ok) {
    return Status::error("Expected " + std::to_string(want) + " parameter(s) for values=" +
                         std::string(kind_text) + ", but got " + std::to_string(params.size()) + " in " +
                         quoted(s));
  }
  if (!params.empty()) v.offset = params[0];
  if (params.size() >= 2) v.spread = params[1];
  return v;
}

std::string to_string(const Problem& p) {
  std::string s(name(p.op));
  auto add = [&s](std::string_view key, std::string_view value) {
    s += ' ';
    s += key;
    s += '=';
    s += value;
  };
  add("shape", joined_x(p.shape));
  add("dtype", name(p.dtype));
  add("layout", name(p.layout));
  add("eps", optional_double(p.eps));
  add("momentum", optional_double(p.momentum));
  add("affine", p.affine ? "1" : "0");
  add("bias", p.bias ? "1" : "0");
  add("track_running_stats", p.track_running_stats ? "1" : "0");
  add("mode", name(p.mode));
  add("profile", name(p.profile));
  add("direction", name(p.direction));
  add("seed", std::to_string(p.seed));
  add("values", to_string(p.values));
  if (p.op == Op::kGroupNorm) add("groups", std::to_string(p.num_groups));
  if (has_normalized_shape(p.op)) add("normalized_shape", joined_x(p.normalized_shape));
  return s;
}

Expected<Problem> parse_problem(std::string_view line) {
  const std::vector<std::string_view> tokens = tokens_of(line);
  const std::string op_list = join_names(kOpNames);
  if (tokens.empty())
    return Status::error("Expected an op name (" + op_list + ") first, but got an empty line");
  const std::optional<Op> op = parse_op(tokens[0]);
  if (!op) return bad_value("an op name (" + op_list + ") first", tokens[0]);

  std::vector<Field> fields;
  for (std::size_t i = 1; i < tokens.size(); ++i) {
    const std::size_t eq = tokens[i].find('=');
    if (eq == std::string_view::npos) return bad_value("key=value", tokens[i]);
    Field f{tokens[i].substr(0, eq), tokens[i].substr(eq + 1)};
    if (parse_enum<int>(f.key, kKeys) == std::nullopt) {
      return Status::error("Unknown field " + quoted(f.key) + " (known: " + join_names(kKeys) + ")");
    }
    for (const Field& seen : fields) {
      if (seen.key == f.key)
        return Status::error("Expected each field once, but got " + quoted(f.key) + " twice");
    }
    if (f.value.empty())
      return Status::error("Expected a value for " + std::string(f.key) + ", but got " + quoted(tokens[i]));
    fields.push_back(f);
  }

  // shape and profile decide the defaults, so they are read before the other fields.
  const Field* shape_field = nullptr;
  Profile profile = Profile::kPyTorch;
  for (const Field& f : fields) {
    if (f.key == "shape") shape_field = &f;
    if (f.key == "profile") {
      auto pr = parse_profile(f.value);
      if (!pr) return bad_value("profile to be one of " + join_names(kProfileNames), f.value);
      profile = *pr;
    }
  }
  if (!shape_field) {
    std::string rebuilt;  // the tokens again, so that a newline in line cannot split the message
    for (std::string_view t : tokens) rebuilt += (rebuilt.empty() ? "" : " ") + std::string(t);
    return Status::error("Expected a shape=AxB... field, but got none in " + quoted(rebuilt));
  }
  auto shape = parse_dims("shape", shape_field->value);
  if (!shape) return shape.status();

  Problem p = default_problem(*op, std::move(*shape), profile);
  bool bias_given = false;
  for (const Field& f : fields) {
    if (f.key == "shape" || f.key == "profile") continue;
    bias_given = bias_given || f.key == "bias";
    NC_RETURN_IF_ERROR(apply_field(p, f));
  }
  // Without a weight there is no bias (PyTorch's affine=False drops both), so "affine=0" alone means
  // bias=0 rather than an error about a bias=1 the line never asked for.
  if (!p.affine && !bias_given) p.bias = false;
  NC_RETURN_IF_ERROR(validate(p));
  return p;
}

Status validate(const Problem& p) {
  NC_RETURN_IF_ERROR(check_shape(p));
  NC_RETURN_IF_ERROR(check_channels(p));
  NC_RETURN_IF_ERROR(check_normalized_shape(p));
  NC_RETURN_IF_ERROR(check_params(p));
  NC_RETURN_IF_ERROR(check_layout(p));
  NC_RETURN_IF_ERROR(check_values(p));
  return {};
}

Expected<Geometry> geometry(const Problem& p) {
  NC_RETURN_IF_ERROR(validate(p));
  const std::span<const std::int64_t> shape(p.shape);
  Geometry g;
  if (has_normalized_shape(p.op)) {
    const std::size_t lead = shape.size() - p.normalized_shape.size();
    g.N = product(shape.first(lead));
    g.C = product(shape.subspan(lead));
    g.S = 1;
  } else {
    g.N = shape[0];
    g.C = shape[1];
    g.S = product(shape.subspan(2));
  }
  g.G = p.op == Op::kGroupNorm ? p.num_groups : 1;
  switch (p.op) {
    case Op::kBatchNorm:
      g.num_sets = g.C, g.set_size = g.N * g.S;
      break;
    case Op::kInstanceNorm:
      g.num_sets = g.N * g.C, g.set_size = g.S;
      break;
    case Op::kGroupNorm:
      g.num_sets = g.N * g.G, g.set_size = g.C / g.G * g.S;
      break;
    case Op::kLayerNorm:
    case Op::kRmsNorm:
      g.num_sets = g.N, g.set_size = g.C;
      break;
    case Op::kLayerNorm2d:
      g.num_sets = g.N * g.S, g.set_size = g.C;
      break;
  }
  return g;
}

std::int64_t set_index(Op op, const Geometry& g, std::int64_t n, std::int64_t c, std::int64_t s) {
  switch (op) {
    case Op::kBatchNorm: return c;
    case Op::kInstanceNorm: return n * g.C + c;
    case Op::kGroupNorm: return n * g.G + c / (g.C / g.G);
    case Op::kLayerNorm:
    case Op::kRmsNorm: return n;
    case Op::kLayerNorm2d: return n * g.S + s;
  }
  return 0;
}

std::vector<std::int64_t> affine_shape(const Problem& p) {
  if (p.op == Op::kLayerNorm || p.op == Op::kRmsNorm) return p.normalized_shape;
  return {p.shape.size() >= 2 ? p.shape[1] : 0};
}

bool tracks_running_stats(const Problem& p) {
  return (p.op == Op::kBatchNorm || p.op == Op::kInstanceNorm) && p.track_running_stats;
}

bool uses_running_stats(const Problem& p) { return tracks_running_stats(p) && p.mode == Mode::kEval; }

DType stats_dtype(DType data) { return data == DType::kFloat64 ? DType::kFloat64 : DType::kFloat32; }

double effective_eps(const Problem& p) { return round_to(held_dtype(p), p.eps ? *p.eps : info(p.dtype).epsilon); }

RunningWeights held_momentum(const Problem& p, std::int64_t num_batches_tracked) {
  const DType acc = stats_dtype(p.dtype);
  RunningWeights w;
  switch (p.profile) {
    case Profile::kPyTorch: {
      // The module passes momentum, or 1.0 / num_batches_tracked for None, as a Python float;
      // ATen casts it to acc_t and forms 1 - momentum in acc_t.
      const double f = p.momentum ? *p.momentum : 1.0 / static_cast<double>(num_batches_tracked);
      w.take = round_to(acc, f);
      w.keep = round_to(acc, 1.0 - w.take);  // exact in double, then one rounding to acc
      break;
    }
    case Profile::kKeras: {
      // moving * momentum + batch * (1.0 - momentum): both Python floats, cast to the compute dtype.
      const double m = p.momentum.value_or(0.0);
      w.keep = round_to(acc, m);
      w.take = round_to(acc, 1.0 - m);
      break;
    }
    case Profile::kOnnx: {
      // momentum is a float attribute; ONNX Runtime forms (1. - momentum) in double, cast to T.
      w.keep = round_to(DType::kFloat32, p.momentum.value_or(0.0));
      w.take = round_to(acc, 1.0 - w.keep);
      break;
    }
  }
  return w;
}

}  // namespace normcheck
