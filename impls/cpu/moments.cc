// The statistics: per normalization set, the mean and the biased variance in double.
//
// Every set is cut into fixed blocks (a piece of one contiguous run, or a tile of rows x columns
// for channels-last data) that stay in cache. A block's moments come from sums shifted by one of
// its own elements K (S1 = sum (x - K), S2 = sum (x - K)^2, mean = K + S1 / n, M2 = S2 - S1^2 / n;
// every x - K exact), redone by the corrected two-pass algorithm when K is an outlier, never from
// E[x^2] - E[x]^2. The mean stays an unevaluated pair hi + lo (hi = K, lo = S1 / n, of the order
// of std): at offset/spread 1e7 a
// single double would carry an absolute error of ~1e-9 std into every y. Blocks merge with Chan's
// formula in a pairwise tree whose shape depends only on the problem's shape, so the bits never
// depend on the thread count.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "impls/cpu/convert-inl.h"
#include "impls/cpu/kernels.h"
#include "impls/cpu/simd-inl.h"
#include "normcheck/status.h"

namespace normcheck::impls::cpu {
namespace {

constexpr std::int64_t kBlock = 8192;    // elements of a contiguous block
constexpr std::int64_t kTileCols = 256;  // columns of a channels-last tile
constexpr int kLanes = 16;               // independent partial sums (four AVX2 vectors of doubles)
constexpr std::int64_t kPrefetchRunBytes = 4096;  // runs up to this long are prefetched one by one

/// Chan's merge of (na, ha + la, m2a) with (nb, hb + lb, m2b), per column, into a; a keeps its hi.
void chan_merge(double na, const double* ha, double* la, double* m2a, double nb, const double* hb,
                const double* lb, const double* m2b, std::int64_t w) {
  const double n = na + nb;
  const double fb = nb / n, fab = na * nb / n;
  for (std::int64_t j = 0; j < w; ++j) {
    // Scalar math: delta = mean_b - mean_a; mean += delta * nb / n; M2 += M2_b + delta^2 na nb / n
    const double delta = (hb[j] - ha[j]) + (lb[j] - la[j]);
    la[j] = la[j] + delta * fb;
    m2a[j] = m2a[j] + m2b[j] + delta * delta * fab;
  }
}

/// Pairwise merging of a stream of blocks (a binary counter): the tree depends only on the
/// number of blocks pushed, and depth stays log2(blocks).
class Merger {
 public:
  explicit Merger(std::int64_t w) : w_(w) {}
  void push(double count, const double* hi, const double* lo, const double* m2) {
    if (used_ == levels_.size())
      levels_.push_back(
          Level{0, 0, std::vector<double>(w_), std::vector<double>(w_), std::vector<double>(w_)});
    Level& top = levels_[used_++];
    top.level = 0;
    top.count = count;
    std::copy(hi, hi + w_, top.hi.begin());
    std::copy(lo, lo + w_, top.lo.begin());
    std::copy(m2, m2 + w_, top.m2.begin());
    while (used_ >= 2 && levels_[used_ - 1].level == levels_[used_ - 2].level) collapse();
  }
  /// The merged moments (count 0 when nothing was pushed).
  double finish(double* hi, double* lo, double* m2) {
    if (used_ == 0) return 0;
    while (used_ >= 2) collapse();
    std::copy(levels_[0].hi.begin(), levels_[0].hi.end(), hi);
    std::copy(levels_[0].lo.begin(), levels_[0].lo.end(), lo);
    std::copy(levels_[0].m2.begin(), levels_[0].m2.end(), m2);
    return levels_[0].count;
  }

 private:
  struct Level {
    int level;
    double count;
    std::vector<double> hi, lo, m2;
  };
  void collapse() {
    Level& a = levels_[used_ - 2];
    const Level& b = levels_[used_ - 1];
    chan_merge(a.count, a.hi.data(), a.lo.data(), a.m2.data(), b.count, b.hi.data(), b.lo.data(), b.m2.data(),
               w_);
    a.count += b.count;
    a.level += 1;
    --used_;
  }
  std::int64_t w_;
  std::vector<Level> levels_;
  std::size_t used_ = 0;
};

/// One contiguous block, in one pass with the block's first element as the shift K:
/// mean = K + S1 / n, M2 = S2 - S1^2 / n with S1 = sum (x - K), S2 = sum (x - K)^2. Every x - K is
/// exact (two values of the same format close together), and while (mean - K)^2 <= kMaxShift * var
/// the subtraction loses at most a factor kMaxShift + 1 of double precision (2^-49 relative):
/// otherwise (K an outlier) the block is redone with the corrected two-pass algorithm.
constexpr double kMaxShift = 16;

/// S1 = sum_i (X[i] - K), S2 = sum_i (X[i] - K)^2 over one contiguous block, in kLanes partial
/// sums (element i goes to lane i % kLanes; lanes combined in order). The vector path keeps the
/// same lanes in the same order, so both paths give the same bits.
template <class T>
[[gnu::always_inline]] inline void shifted_sums(const T* x, std::int64_t n, double K, double* s1_out, double* s2_out) {
  // Scalar math: S1 = sum_i (X[i] - K), S2 = sum_i (X[i] - K)^2
  double a1[kLanes] = {}, a2[kLanes] = {};
  std::int64_t i = 0;
  if constexpr (kVectorizable<T>) {
    static_assert(kLanes == 16);
    V4d s1v[4] = {}, s2v[4] = {};
    const V4d kv = splat(K);
    for (; i + kLanes <= n; i += kLanes)
      for (int q = 0; q < 4; ++q) {
        const V4d d = load4(x + i + 4 * q) - kv;
        s1v[q] += d;
        s2v[q] += d * d;
      }
    for (int q = 0; q < 4; ++q) {
      store4(a1 + 4 * q, s1v[q]);
      store4(a2 + 4 * q, s2v[q]);
    }
  }
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      const double d = to_double(x[i + l]) - K;
      a1[l] += d;
      a2[l] += d * d;
    }
  for (int l = 0; i < n; ++i, ++l) {
    const double d = to_double(x[i]) - K;
    a1[l] += d;
    a2[l] += d * d;
  }
  double s1 = 0, s2 = 0;
  for (int l = 0; l < kLanes; ++l) {
    s1 += a1[l];
    s2 += a2[l];
  }
  *s1_out = s1;
  *s2_out = s2;
}

template <class T>
void block_moments_two_pass(const T* x, std::int64_t n, double* hi, double* lo, double* m2) {
  // Scalar math: mean0 = sum_i X[i] / n (kLanes partial sums, combined in lane order)
  double acc[kLanes] = {};
  std::int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += to_double(x[i + l]);
  for (int l = 0; i < n; ++i, ++l) acc[l] += to_double(x[i]);
  double sum = 0;
  for (int l = 0; l < kLanes; ++l) sum += acc[l];
  const double mean0 = sum / static_cast<double>(n);
  double s1 = 0, s2 = 0;
  shifted_sums(x, n, mean0, &s1, &s2);
  *hi = mean0;
  *lo = s1 / static_cast<double>(n);
  *m2 = std::isnan(s2) ? s2 : std::max(0.0, s2 - s1 * *lo);
}

template <class T>
__attribute__((target_clones("avx2", "default"))) void block_moments(const T* x, std::int64_t n, double* hi,
                                                                     double* lo, double* m2) {
  // float64 data have no spare bits in a double accumulator: always the corrected two-pass.
  if constexpr (std::is_same_v<T, double>) {
    block_moments_two_pass(x, n, hi, lo, m2);
  } else {
    const double K = to_double(x[0]);
    double s1 = 0, s2 = 0;
    shifted_sums(x, n, K, &s1, &s2);
    const double shift = s1 * (s1 / static_cast<double>(n));  // n (mean - K)^2
    const double M2 = s2 - shift;
    if (shift > kMaxShift * M2) {
      block_moments_two_pass(x, n, hi, lo, m2);
      return;
    }
    *hi = K;
    *lo = s1 / static_cast<double>(n);
    *m2 = std::isnan(M2) ? M2 : std::max(0.0, M2);
  }
}

/// Sum of squares of one contiguous block (rms_norm).
template <class T>
__attribute__((target_clones("avx2", "default"))) double block_sumsq(const T* x, std::int64_t n) {
  // Scalar math: sum_i X[i]^2 (kLanes partial sums): +inf for a block holding +-inf (rms_norm's
  // rstd = rsqrt(inf) = 0, as PyTorch), NaN for one holding a NaN.
  double acc[kLanes] = {};
  std::int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      const double v = to_double(x[i + l]);
      acc[l] += v * v;
    }
  for (int l = 0; i < n; ++i, ++l) {
    const double v = to_double(x[i]);
    acc[l] += v * v;
  }
  double sum = 0;
  for (int l = 0; l < kLanes; ++l) sum += acc[l];
  return sum;
}

/// A set made of K contiguous runs of L elements, run k at x + k * stride.
template <class T>
void run_moments(const T* x, std::int64_t K, std::int64_t stride, std::int64_t L, bool rms, double* mean,
                 double* mean_lo, double* var) {
  const double m = static_cast<double>(K) * static_cast<double>(L);
  if (rms) {
    double sum = 0;  // fixed order: runs, then blocks within a run
    for (std::int64_t k = 0; k < K; ++k)
      for (std::int64_t b = 0; b < L; b += kBlock)
        sum += block_sumsq(x + k * stride + b, std::min(kBlock, L - b));
    *mean = *mean_lo = 0;
    *var = sum / m;
    return;
  }
  Merger merger(1);
  // Short runs far apart (batch_norm over N runs of H x W): each run is a new stream to the
  // hardware prefetcher, which barely starts before the run ends; fetch the run after next while
  // this one is summed.
  const bool prefetch = K > 1 && L * static_cast<std::int64_t>(sizeof(T)) <= kPrefetchRunBytes;
  for (std::int64_t k = 0; k < K; ++k) {
    if (prefetch && k + 2 < K) {
      const char* next = reinterpret_cast<const char*>(x + (k + 2) * stride);
      for (std::int64_t o = 0; o < L * static_cast<std::int64_t>(sizeof(T)); o += 64) __builtin_prefetch(next + o);
    }
    for (std::int64_t b = 0; b < L; b += kBlock) {
      const std::int64_t n = std::min(kBlock, L - b);
      double bh, bl, bm2;
      block_moments(x + k * stride + b, n, &bh, &bl, &bm2);
      merger.push(static_cast<double>(n), &bh, &bl, &bm2);
    }
  }
  double m2 = 0;
  if (merger.finish(mean, mean_lo, &m2) == 0) {
    *mean = *mean_lo = *var = std::nan("");
    return;
  }
  *var = m2 / m;
}

/// Per column j of a tile (row r at rows[r], columns contiguous): S1[j] = sum_r (X[r][j] - K[j]),
/// S2[j] = sum_r (X[r][j] - K[j])^2, rows in order. SQ = false: S1 only, and K = 0 (the plain
/// column sums of the two-pass mean). Sixteen columns stay in registers while the rows stream
/// past (each column's additions keep their order, so the bits are those of the scalar loop).
template <bool SQ, class T>
[[gnu::always_inline]] inline void column_shifted_sums(const T* const* rows, std::int64_t nrows, std::int64_t w,
                                                       const double* K, double* s1, double* s2) {
  // Scalar math: S1[j] = sum_r (X[r][j] - K[j]), S2[j] = sum_r (X[r][j] - K[j])^2
  std::int64_t j = 0;
  if constexpr (kVectorizable<T>) {
    for (; j + 16 <= w; j += 16) {
      V4d k[4], a1[4] = {}, a2[4] = {};
      for (int q = 0; q < 4; ++q) k[q] = SQ ? load4(K + j + 4 * q) : splat(0.0);
      for (std::int64_t r = 0; r < nrows; ++r) {
        const T* x = rows[r] + j;
        for (int q = 0; q < 4; ++q) {
          const V4d d = SQ ? load4(x + 4 * q) - k[q] : load4(x + 4 * q);
          a1[q] += d;
          if constexpr (SQ) a2[q] += d * d;
        }
      }
      for (int q = 0; q < 4; ++q) {
        store4(s1 + j + 4 * q, a1[q]);
        if constexpr (SQ) store4(s2 + j + 4 * q, a2[q]);
      }
    }
    for (; j + 4 <= w; j += 4) {
      const V4d k = SQ ? load4(K + j) : splat(0.0);
      V4d a1 = {}, a2 = {};
      for (std::int64_t r = 0; r < nrows; ++r) {
        const V4d d = SQ ? load4(rows[r] + j) - k : load4(rows[r] + j);
        a1 += d;
        if constexpr (SQ) a2 += d * d;
      }
      store4(s1 + j, a1);
      if constexpr (SQ) store4(s2 + j, a2);
    }
  }
  for (; j < w; ++j) {
    const double k = SQ ? K[j] : 0.0;
    double a1 = 0, a2 = 0;
    for (std::int64_t r = 0; r < nrows; ++r) {
      const double d = SQ ? to_double(rows[r][j]) - k : to_double(rows[r][j]);
      a1 += d;
      if constexpr (SQ) a2 += d * d;
    }
    s1[j] = a1;
    if constexpr (SQ) s2[j] = a2;
  }
}

/// One tile of rows x w columns (columns contiguous, row r at rows[r]): per column, one pass
/// shifted by the tile's first row (as block_moments), the corrected two-pass when a shift is an
/// outlier.
template <class T>
__attribute__((target_clones("avx2", "default"))) void tile_moments(const T* const* rows, std::int64_t nrows,
                                                                    std::int64_t w, double* mean, double* lo,
                                                                    double* m2, double* s1) {
  const double n = static_cast<double>(nrows);
  // float64 data have no spare bits in a double accumulator: always the corrected two-pass.
  if constexpr (!std::is_same_v<T, double>) {
    // Scalar math: K[j] = X[0][j]; S1[j] = sum_r (X[r][j] - K[j]), S2[j] = sum_r (X[r][j] - K[j])^2
    for (std::int64_t j = 0; j < w; ++j) mean[j] = to_double(rows[0][j]);
    column_shifted_sums<true>(rows, nrows, w, mean, s1, m2);
    bool outlier = false;
    for (std::int64_t j = 0; j < w; ++j) {
      const double shift = s1[j] * (s1[j] / n);
      lo[j] = s1[j] / n;
      m2[j] = m2[j] - shift;
      outlier |= shift > kMaxShift * m2[j];
      m2[j] = std::isnan(m2[j]) ? m2[j] : std::max(0.0, m2[j]);
    }
    if (!outlier) return;
  }
  // Scalar math: mean0[j] = sum_r X[r][j] / n; then the same sums shifted by mean0
  column_shifted_sums<false>(rows, nrows, w, nullptr, mean, nullptr);
  for (std::int64_t j = 0; j < w; ++j) mean[j] = mean[j] / n;
  column_shifted_sums<true>(rows, nrows, w, mean, s1, m2);
  for (std::int64_t j = 0; j < w; ++j) {
    const double corr = s1[j] * (s1[j] / n);
    lo[j] = s1[j] / n;
    m2[j] = std::isnan(m2[j]) ? m2[j] : std::max(0.0, m2[j] - corr);
  }
}

/// Per-column moments over rows [r0, r1) of a two-level row space (row r = (o, i) with
/// o = r / inner, i = r % inner, at x + o * so + i * si), columns [0, W) contiguous.
/// Writes count-weighted (mean, M2) per column.
template <class T>
void column_moments(const T* x, std::int64_t r0, std::int64_t r1, std::int64_t inner, std::int64_t so,
                    std::int64_t si, std::int64_t W, double* mean, double* mean_lo, double* m2) {
  std::vector<const T*> rows;
  std::vector<double> bm, bl, bm2, bs1;
  for (std::int64_t w0 = 0; w0 < W; w0 += kTileCols) {
    const std::int64_t w = std::min(kTileCols, W - w0);
    const std::int64_t rb = std::max<std::int64_t>(16, kBlock / w);
    rows.resize(static_cast<std::size_t>(rb));
    bm.resize(static_cast<std::size_t>(w));
    bl.resize(static_cast<std::size_t>(w));
    bm2.resize(static_cast<std::size_t>(w));
    bs1.resize(static_cast<std::size_t>(w));
    Merger merger(w);
    for (std::int64_t b = r0; b < r1; b += rb) {
      const std::int64_t nr = std::min(rb, r1 - b);
      for (std::int64_t r = 0; r < nr; ++r) {
        const std::int64_t row = b + r;
        rows[r] = x + (row / inner) * so + (row % inner) * si + w0;
      }
      tile_moments(rows.data(), nr, w, bm.data(), bl.data(), bm2.data(), bs1.data());
      merger.push(static_cast<double>(nr), bm.data(), bl.data(), bm2.data());
    }
    merger.finish(mean + w0, mean_lo + w0, m2 + w0);
  }
}

/// One set whose elements are contiguous runs of x (see sets_are_runs).
template <class T>
void run_set(Op op, const Geometry& g, const Strided3& xs, std::int64_t k, double* mean, double* lo,
             double* var) {
  const T* x = static_cast<const T*>(xs.data);
  const std::int64_t C = g.C, S = g.S;
  switch (op) {
    case Op::kLayerNorm:
    case Op::kRmsNorm:  // set n: C contiguous
      return run_moments(x + k * xs.sn, 1, 0, C, op == Op::kRmsNorm, mean, lo, var);
    case Op::kInstanceNorm:
    case Op::kGroupNorm: {  // set (n, g): Cg * S contiguous
      const std::int64_t G = op == Op::kInstanceNorm ? C : g.G, Cg = C / G;
      return run_moments(x + (k / G) * xs.sn + (k % G) * Cg * xs.sc, 1, 0, Cg * S, false, mean, lo, var);
    }
    case Op::kLayerNorm2d:  // set (n, s): C contiguous
      return run_moments(x + (k / S) * xs.sn + (k % S) * xs.ss, 1, 0, C, false, mean, lo, var);
    case Op::kBatchNorm:  // set c: N runs of S
      return run_moments(x + k * xs.sc, g.N, xs.sn, S, false, mean, lo, var);
  }
}

template <class T>
void set_moments_t(Op op, const Geometry& g, const Strided3& xs, double* mean, double* lo, double* var) {
  const T* x = static_cast<const T*>(xs.data);
  const std::int64_t N = g.N, C = g.C, S = g.S;
  const std::int64_t G = op == Op::kInstanceNorm ? C : g.G,
                     Cg = C / G;  // instance_norm: one group per channel
  const bool rms = op == Op::kRmsNorm;
  const double nan = std::nan("");
  if (g.set_size == 0) {
    std::fill(mean, mean + g.num_sets, nan);
    std::fill(lo, lo + g.num_sets, nan);
    std::fill(var, var + g.num_sets, nan);
    return;
  }
  const bool ncs = is_ncs(xs, g);
  switch (op) {
    case Op::kLayerNorm:
    case Op::kRmsNorm: {  // set n: C contiguous
#pragma omp parallel for schedule(static)
      for (std::int64_t n = 0; n < N; ++n)
        run_moments(x + n * xs.sn, 1, 0, C, rms, &mean[n], &lo[n], &var[n]);
      return;
    }
    case Op::kInstanceNorm:
    case Op::kGroupNorm: {
      if (ncs) {  // set (n, g): Cg * S contiguous
#pragma omp parallel for schedule(static)
        for (std::int64_t k = 0; k < N * G; ++k) {
          const std::int64_t n = k / G, gi = k % G;
          run_moments(x + n * xs.sn + gi * Cg * xs.sc, 1, 0, Cg * S, false, &mean[k], &lo[k], &var[k]);
        }
        return;
      }
      // channels-last: per n, per-channel moments over S rows, then the Cg channels of a group.
#pragma omp parallel for schedule(static)
      for (std::int64_t n = 0; n < N; ++n) {
        std::vector<double> cm(static_cast<std::size_t>(C)), cl(cm.size()), cm2(cm.size());
        column_moments(x + n * xs.sn, 0, S, S, 0, xs.ss, C, cm.data(), cl.data(), cm2.data());
        for (std::int64_t gi = 0; gi < G; ++gi) {
          Merger merger(1);
          for (std::int64_t c = gi * Cg; c < (gi + 1) * Cg; ++c)
            merger.push(static_cast<double>(S), &cm[c], &cl[c], &cm2[c]);
          double m2 = 0;
          merger.finish(&mean[n * G + gi], &lo[n * G + gi], &m2);
          var[n * G + gi] = m2 / static_cast<double>(g.set_size);
        }
      }
      return;
    }
    case Op::kLayerNorm2d: {
      if (g.C <= 1 || xs.sc == 1) {  // channels-last: set (n, s) is C contiguous
#pragma omp parallel for schedule(static)
        for (std::int64_t k = 0; k < N * S; ++k)
          run_moments(x + (k / S) * xs.sn + (k % S) * xs.ss, 1, 0, C, false, &mean[k], &lo[k], &var[k]);
        return;
      }
      // NCHW: per n, rows c, columns s; tiles of columns run in parallel.
      const std::int64_t tiles = (S + kTileCols - 1) / kTileCols;
#pragma omp parallel for schedule(static)
      for (std::int64_t t = 0; t < N * tiles; ++t) {
        const std::int64_t n = t / tiles, s0 = (t % tiles) * kTileCols, w = std::min(kTileCols, S - s0);
        double* mk = mean + n * S + s0;
        double* vk = var + n * S + s0;
        column_moments(x + n * xs.sn + s0, 0, C, C, 0, xs.sc, w, mk, lo + n * S + s0, vk);
        for (std::int64_t j = 0; j < w; ++j) vk[j] = vk[j] / static_cast<double>(C);
      }
      return;
    }
    case Op::kBatchNorm: {
      if (ncs && !(S <= 1 && C > 1)) {  // set c: N runs of S
#pragma omp parallel for schedule(static)
        for (std::int64_t c = 0; c < C; ++c)
          run_moments(x + c * xs.sc, N, xs.sn, S, false, &mean[c], &lo[c], &var[c]);
        return;
      }
      // channels-last: rows (n, s) in a fixed number of parts (by shape only), merged in order.
      const std::int64_t R = N * S;
      const std::int64_t parts = std::clamp<std::int64_t>(R / 4096, 1, 16);
      std::vector<double> pm(static_cast<std::size_t>(parts * C)), pl(pm.size()), pm2(pm.size());
#pragma omp parallel for schedule(static)
      for (std::int64_t q = 0; q < parts; ++q) {
        const std::int64_t r0 = R * q / parts, r1 = R * (q + 1) / parts;
        column_moments(x, r0, r1, S, xs.sn, xs.ss, C, &pm[q * C], &pl[q * C], &pm2[q * C]);
      }
      Merger merger(C);
      for (std::int64_t q = 0; q < parts; ++q) {
        const std::int64_t r0 = R * q / parts, r1 = R * (q + 1) / parts;
        merger.push(static_cast<double>(r1 - r0), &pm[q * C], &pl[q * C], &pm2[q * C]);
      }
      merger.finish(mean, lo, var);
      for (std::int64_t c = 0; c < C; ++c) var[c] = var[c] / static_cast<double>(R);
      return;
    }
  }
}

/// The plain IEEE sum of set k's elements, element by element (used only for sets whose
/// statistics are not finite, to give the mean IEEE arithmetic gives: +inf, -inf or NaN).
template <class T>
double set_sum_t(Op op, const Geometry& g, const Strided3& xs, std::int64_t k) {
  const T* x = static_cast<const T*>(xs.data);
  const std::int64_t N = g.N, C = g.C, S = g.S;
  std::int64_t n0 = 0, n1 = N, c0 = 0, c1 = C, s0 = 0, s1 = S;
  switch (op) {
    case Op::kBatchNorm:
      c0 = k, c1 = k + 1;
      break;
    case Op::kInstanceNorm:
    case Op::kGroupNorm: {
      const std::int64_t G = op == Op::kInstanceNorm ? C : g.G, Cg = C / G;
      n0 = k / G, n1 = n0 + 1, c0 = (k % G) * Cg, c1 = c0 + Cg;
      break;
    }
    case Op::kLayerNorm:
    case Op::kRmsNorm:
      n0 = k, n1 = k + 1;
      break;
    case Op::kLayerNorm2d:
      n0 = k / S, n1 = n0 + 1, s0 = k % S, s1 = s0 + 1;
      break;
  }
  double sum = 0;
  for (std::int64_t n = n0; n < n1; ++n)
    for (std::int64_t c = c0; c < c1; ++c)
      for (std::int64_t s = s0; s < s1; ++s) sum += to_double(x[n * xs.sn + c * xs.sc + s * xs.ss]);
  return sum;
}

}  // namespace

bool is_ncs(const Strided3& x, const Geometry& g) {
  return (g.S <= 1 || x.ss == 1) && (g.C <= 1 || x.sc == (g.S <= 1 ? 1 : g.S));
}
bool is_nsc(const Strided3& x, const Geometry& g) {
  return (g.C <= 1 || x.sc == 1) && (g.S <= 1 || x.ss == g.C);
}

double set_sum(Op op, const Geometry& g, const Strided3& x, std::int64_t k) {
  switch (x.dtype) {
    case DType::kFloat64:
      return set_sum_t<double>(op, g, x, k);
    case DType::kFloat32:
      return set_sum_t<float>(op, g, x, k);
    case DType::kFloat16:
      return set_sum_t<Half>(op, g, x, k);
    case DType::kBFloat16:
      return set_sum_t<BF16>(op, g, x, k);
  }
  return 0;
}

bool sets_are_runs(Op op, const Geometry& g, const Strided3& x) {
  if (g.set_size == 0) return false;
  switch (op) {
    case Op::kLayerNorm:
    case Op::kRmsNorm:
      return true;  // S = 1 and (NCS or NSC) means C contiguous
    case Op::kInstanceNorm:
    case Op::kGroupNorm:
      return is_ncs(x, g);
    case Op::kLayerNorm2d:
      return g.C <= 1 || x.sc == 1;
    case Op::kBatchNorm:
      return is_ncs(x, g) && !(g.S <= 1 && g.C > 1);
  }
  return false;
}

void run_set_moments(Op op, const Geometry& g, const Strided3& x, std::int64_t k, double* mean,
                     double* mean_lo, double* var) {
  switch (x.dtype) {
    case DType::kFloat64:
      return run_set<double>(op, g, x, k, mean, mean_lo, var);
    case DType::kFloat32:
      return run_set<float>(op, g, x, k, mean, mean_lo, var);
    case DType::kFloat16:
      return run_set<Half>(op, g, x, k, mean, mean_lo, var);
    case DType::kBFloat16:
      return run_set<BF16>(op, g, x, k, mean, mean_lo, var);
  }
}

void set_moments(Op op, const Geometry& g, const Strided3& x, double* mean, double* mean_lo, double* var) {
  NC_CHECK(is_ncs(x, g) || is_nsc(x, g), "set_moments needs NCS or NSC data");
  switch (x.dtype) {
    case DType::kFloat64:
      return set_moments_t<double>(op, g, x, mean, mean_lo, var);
    case DType::kFloat32:
      return set_moments_t<float>(op, g, x, mean, mean_lo, var);
    case DType::kFloat16:
      return set_moments_t<Half>(op, g, x, mean, mean_lo, var);
    case DType::kBFloat16:
      return set_moments_t<BF16>(op, g, x, mean, mean_lo, var);
  }
}

}  // namespace normcheck::impls::cpu
