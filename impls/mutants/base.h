#pragma once
/// The mutants' base ("mutants-base"): one correct, plain implementation of every op, forward and
/// backward, train and eval, every profile and dtype, any input layout, written so that each
/// mutant (impls/mutants/mutants_*.cc) changes ONE thing by overriding ONE virtual hook.
///
/// What it computes is what the frameworks compute (docs/semantics.md): statistics accumulated
/// in float32 for 16/32-bit data and in float64 for float64 data, by a pairwise sum (the
/// reduction docs/tolerances.md's bound is derived for), the variance in two passes, eps inside
/// the square root, the closed-form backward, PyTorch's / Keras' / ONNX's running statistics.
/// It is slow on purpose: every element goes through plain scalar code and a virtual call or two.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "impls/common.h"
#include "impls/registry.h"

namespace normcheck::impls::mutants {

/// Arithmetic in an accumulation type t: each operation is done in double and rounded once to t.
/// For t = float32 this IS float arithmetic, bit for bit: for + - * / and sqrt, rounding the
/// double result again to a format with p bits is innocuous when double has >= 2p + 2 bits
/// (Figueroa, "When is double rounding innocuous?", SIGNUM 1995): 53 >= 2*24 + 2. The same holds
/// for float16 (p = 11) and bfloat16 (p = 8); for t = float64 it is plain double arithmetic.
/// One code path therefore serves every accumulation type a mutant may choose.
class Acc {
 public:
  explicit Acc(DType t) : t_(t) {}
  DType type() const { return t_; }
  /// v rounded to the accumulation type (RNE).
  double operator()(double v) const;

 private:
  DType t_;
};

/// The logical position of an element of x viewed as x[n][c][s] (Geometry), with linear index
/// i = (n * C + c) * S + s.
struct Index {
  std::int64_t n = 0, c = 0, s = 0;
};

/// Which elements share one mean and one variance: the linear indices of each set, in logical
/// order.
struct Partition {
  std::vector<std::vector<std::int64_t>> members;
  std::int64_t num_sets() const { return static_cast<std::int64_t>(members.size()); }
};

/// One set's statistics in the accumulation type. rms_norm: mean 0 and var the mean square.
struct Moments {
  double mean = 0, var = 0;
};

/// The inputs of the dx formula for one element (per set: m, sum_g, sum_gxhat).
struct DxTerms {
  double g = 0;     ///< dy * gamma
  double xhat = 0;  ///< (x - mean) * rstd
  double rstd = 0;
  double m = 0;          ///< set size
  double sum_g = 0;      ///< sum over the set of g
  double sum_gxhat = 0;  ///< sum over the set of g * xhat
  bool centered = true;  ///< false for rms_norm: no mean, no sum_g term
};

/// One call's state: the problem reduced to x[n][c][s], the data as doubles exact in the
/// accumulation type, and what the passes compute. Vectors of elements are in logical order.
struct Work {
  const Problem* p = nullptr;
  Geometry g;
  Acc acc{DType::kFloat32};
  double eps = 0;
  std::vector<double> X, dY;        ///< dY empty for forward problems
  std::vector<double> gamma, beta;  ///< C values (1 and 0 without affine)
  bool use_running = false;         ///< eval with running statistics: one set per channel
  Partition sets;
  std::vector<Moments> stats;  ///< per set
  std::vector<double> rstd;    ///< per set
  std::vector<double> Y;       ///< written where y_written
  std::vector<char> y_written;
  std::vector<double> dX, dgamma, dbeta;

  Index index_of(std::int64_t i) const { return {i / (g.C * g.S), (i / g.S) % g.C, i % g.S}; }
  std::int64_t numel() const { return static_cast<std::int64_t>(X.size()); }
};

class Base : public Implementation {
 public:
  Base();
  std::string_view name() const override { return "mutants-base"; }
  std::string_view description() const override {
    return "the mutants' correct base: plain scalar code, float32 accumulation (float64 for float64 "
           "data), pairwise sums, two-pass variance";
  }
  const Capabilities& capabilities() const override { return caps_; }
  Status run(const Problem& p, const Inputs& in, Outputs& out) override;

 protected:
  // ---- Reading the inputs --------------------------------------------------------------------
  /// The accumulation type for data of type t: float32 for 16/32-bit data, float64 for float64.
  virtual DType accumulator(DType data) const;
  /// Element offset (from v.data) of the element at logical linear index i of a tensor of
  /// p.shape (x, dy).
  virtual std::int64_t element_offset(const TensorView& v, const Geometry& g, std::int64_t i) const;

  // ---- Statistics ----------------------------------------------------------------------------
  /// The eps actually added to the variance (normcheck::effective_eps: as the profile's framework holds it).
  virtual double effective_eps(const Problem& p) const;
  /// Whether op subtracts the mean (every op but rms_norm).
  virtual bool centers(Op op) const;
  /// The sets of batch statistics (the reference's: docs/semantics.md's table).
  virtual Partition partition(const Problem& p, const Geometry& g) const;
  /// sum(v) in the accumulation type, pairwise.
  virtual double sum(std::span<const double> v, const Acc& acc) const;
  /// One set's mean and biased variance (two passes), or mean square when !centered.
  virtual Moments moments(std::span<const double> xs, bool centered, const Acc& acc) const;
  /// moments() of every set of `sets`.
  virtual std::vector<Moments> set_moments(const Partition& sets, const std::vector<double>& X, bool centered,
                                           const Acc& acc) const;
  /// rstd = 1 / sqrt(var + eps).
  virtual double rstd_of(double var, double eps, const Acc& acc) const;
  /// What goes into the saved rstd buffer: rstd.
  virtual double saved_rstd(double rstd, const Moments& st, double eps, const Acc& acc) const;

  // ---- Running statistics (batch_norm / instance_norm with track_running_stats) --------------
  /// The framework's refusals (PyTorch: one value per channel in training; instance_norm with
  /// momentum=None).
  virtual Status profile_refusals(const Problem& p, const Geometry& g) const;
  /// Eval with tracking normalizes with the running statistics (PyTorch's rule).
  virtual bool normalizes_with_running_stats(const Problem& p) const;
  /// The running buffers are updated in training only.
  virtual bool updates_running_stats(const Problem& p) const;
  /// PyTorch's BatchNorm counts every training step.
  virtual bool counts_batches(const Problem& p) const;
  /// keep and take in new = keep * old + take * batch (update_weights, impls/common.h).
  virtual UpdateWeights running_weights(const Problem& p, std::int64_t num_batches_tracked) const;
  /// The factor on the batch variance in the running estimate: m/(m-1) under pytorch, else 1.
  virtual double running_var_correction(const Problem& p, std::int64_t m, const Acc& acc) const;

  // ---- Forward -------------------------------------------------------------------------------
  /// The affine index of an element: its channel (its trailing position for layer_norm/rms_norm).
  virtual std::int64_t affine_index(const Problem& p, const Geometry& g, const Index& at) const;
  /// y = (x - mean) * rstd * gamma + beta, each step rounded to the accumulation type.
  virtual double normalize(double x, double mean, double rstd, double gamma, double beta,
                           const Acc& acc) const;
  /// How many of a set's m elements (in logical order) the normalize loop writes.
  virtual std::int64_t elements_written(std::int64_t m) const;
  /// Fills w.Y / w.y_written from the statistics.
  virtual void forward(Work& w) const;

  // ---- Backward ------------------------------------------------------------------------------
  /// dx = rstd / m * (m g - sum_g - xhat * sum_gxhat)  (rms_norm: no sum_g term).
  virtual double dx_of(const DxTerms& t, const Acc& acc) const;
  /// Whether element `at` contributes to dweight (every element with that affine index).
  virtual bool contributes_to_dweight(const Geometry& g, const Index& at) const;
  /// Whether dbias is computed (otherwise it is left zero, as an unset gradient buffer).
  virtual bool computes_dbias() const;

  Capabilities caps_;

 private:
  void statistics(Work& w, const Outputs& out) const;
  void running_update(Work& w, Outputs& out) const;
  void backward(Work& w) const;
};

}  // namespace normcheck::impls::mutants
