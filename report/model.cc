#include "report/model.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>

#include "report/escape.h"

namespace normcheck::report {
namespace {

/// NaN sorts above everything (an unknown error is not a small one).
double key(const std::optional<double>& v) {
  if (!v) return -1;
  return std::isnan(*v) ? HUGE_VAL : *v;
}

bool larger(const std::optional<double>& a, const std::optional<double>& b) { return key(a) > key(b); }

nlohmann::json signature_json(const Signature& s) {
  return {{"op", s.op}, {"output", s.output}, {"kind", s.kind}, {"dtype", s.dtype}, {"layout", s.layout},
          {"title", s.title}};
}

/// The FAILED rows of the tested implementations grouped by (implementation, signature); a row
/// without a signature is a cause of its own. Most rows first, then in document order; the
/// representative is the row whose minimal case has the fewest elements (the first on a tie).
std::vector<Cause> group_causes(const Model& m, const std::vector<std::size_t>& failed) {
  std::vector<Cause> causes;
  for (const std::size_t i : failed) {
    const Row& row = m.rows[i];
    const std::optional<Signature>& sig = row.failure->signature;
    auto same = [&](const Cause& c) { return sig && c.signature == sig && c.implementation == row.implementation; };
    auto it = std::find_if(causes.begin(), causes.end(), same);
    if (it == causes.end()) {
      causes.push_back(Cause{row.implementation, sig, {}, i});
      it = std::prev(causes.end());
    }
    it->rows.push_back(i);
    const auto size = [&](std::size_t r) { return m.rows[r].failure->elements.value_or(INT64_MAX); };
    if (size(i) < size(it->representative)) it->representative = i;
  }
  std::stable_sort(causes.begin(), causes.end(), [](const Cause& a, const Cause& b) { return a.rows.size() > b.rows.size(); });
  return causes;
}

}  // namespace

std::string Cause::title(const std::vector<Row>& all) const {
  if (signature) return signature->title;
  const Row& r = all[representative];
  return r.op + " " + r.property;
}

std::string follows_text(const Fingerprint& f) {
  std::string s;
  for (const auto& [profile, outcome] : f.profiles)
    if (outcome == Outcome::kPassed) s += (s.empty() ? "" : ", ") + profile;
  return s.empty() ? "no profile's" : s;
}

std::string accuracy_text(const Fingerprint& f) {
  if (!f.accuracy_failed_rows) return "-";
  const auto rows = [](std::int64_t n) { return n == 0 ? std::string("no") : std::to_string(n); };
  std::string s = rows(*f.accuracy_failed_rows) + (*f.accuracy_failed_rows == 1 ? " failed row" : " failed rows");
  if (f.other_failed_rows.value_or(0) > 0)
    s += ", " + std::to_string(*f.other_failed_rows) + " other failed " + (*f.other_failed_rows == 1 ? "row" : "rows") +
         " (crash, timeout, a relation)";
  return s;
}

std::string fingerprint_line(const Fingerprint& f) {
  std::string s = f.implementation + " follows " + follows_text(f) + " conventions";
  if (f.accuracy_failed_rows) s += "; accuracy: " + accuracy_text(f);
  return s;
}

std::vector<std::string> fingerprint_profiles(const Model& m) {
  std::vector<std::string> profiles;
  for (const Fingerprint& f : m.fingerprints)
    for (const auto& [p, o] : f.profiles)
      if (std::find(profiles.begin(), profiles.end(), p) == profiles.end()) profiles.push_back(p);
  return profiles;
}

nlohmann::json causes_json(const Model& m) {
  nlohmann::json out = nlohmann::json::array();
  for (const Cause& c : m.causes) {
    nlohmann::json rows = nlohmann::json::array();
    for (const std::size_t i : c.rows)
      rows.push_back({{"implementation", m.rows[i].implementation}, {"op", m.rows[i].op}, {"property", m.rows[i].property}});
    const Failure& f = *m.rows[c.representative].failure;
    out.push_back({{"implementation", c.implementation},
                   {"signature", c.signature ? signature_json(*c.signature) : nlohmann::json(nullptr)},
                   {"rows", rows},
                   {"problem", f.problem},
                   {"repro", f.repro}});
  }
  return out;
}

std::int64_t Histogram::total() const {
  std::int64_t t = 0;
  for (std::int64_t c : counts) t += c;
  return t;
}

void Counts::add(Outcome o) {
  switch (o) {
    case Outcome::kPassed: ++passed; break;
    case Outcome::kFailed: ++failed; break;
    case Outcome::kSkipped: ++skipped; break;
    case Outcome::kMistrusted: ++mistrusted; break;
    case Outcome::kFlaky: ++flaky; break;
  }
}

int KillMatrix::killed() const {
  return static_cast<int>(std::count_if(mutants.begin(), mutants.end(), [](const Mutant& m) { return m.killed; }));
}

const Cell* Model::cell(const std::string& impl, const std::string& op) const {
  auto it = cells.find({impl, op});
  return it == cells.end() ? nullptr : &it->second;
}

const Implementation* Model::implementation(const std::string& name) const {
  for (const Implementation& i : implementations) {
    if (i.name == name) return &i;
  }
  return nullptr;
}

std::vector<const Row*> Model::rows_with(Outcome o) const {
  std::vector<const Row*> out;
  for (const Row& r : rows) {
    const Implementation* impl = implementation(r.implementation);
    if (r.outcome == o && impl != nullptr && !impl->is_mutant()) out.push_back(&r);
  }
  return out;
}

std::vector<const Row*> Model::failures() const {
  std::vector<const Row*> out = rows_with(Outcome::kFailed);
  std::stable_sort(out.begin(), out.end(), [](const Row* a, const Row* b) {
    if (key(a->max_bound_fraction) != key(b->max_bound_fraction))
      return larger(a->max_bound_fraction, b->max_bound_fraction);
    return larger(a->max_ulp, b->max_ulp);
  });
  return out;
}

std::vector<const Row*> Model::worst_rows(std::size_t limit) const {
  std::vector<const Row*> out;
  for (const Row& r : rows) {
    const Implementation* impl = implementation(r.implementation);
    if (impl == nullptr || impl->is_mutant() || r.outcome == Outcome::kSkipped) continue;
    const bool no_error = key(r.max_ulp) <= 0 && key(r.max_bound_fraction) <= 0;  // absent or exactly 0
    if (r.outcome == Outcome::kPassed && no_error) continue;
    out.push_back(&r);
  }
  std::stable_sort(out.begin(), out.end(), [](const Row* a, const Row* b) {
    const bool bad_a = a->outcome != Outcome::kPassed, bad_b = b->outcome != Outcome::kPassed;
    if (bad_a != bad_b) return bad_a;
    if (key(a->max_bound_fraction) != key(b->max_bound_fraction))
      return larger(a->max_bound_fraction, b->max_bound_fraction);
    return larger(a->max_ulp, b->max_ulp);
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

nlohmann::json summary_json(const Counts& c, bool conforming) {
  return {{"conforming", conforming},
          {"passed", c.passed},
          {"failed", c.failed},
          {"skipped", c.skipped},
          {"mistrusted", c.mistrusted},
          {"flaky", c.flaky}};
}

namespace detail {

void compute_aggregates(Model& m) {
  std::vector<std::size_t> failed;  // the tested implementations' FAILED rows
  for (const Implementation& impl : m.implementations) {
    if (!impl.is_mutant()) m.tested.push_back(ImplementationStats{impl.name, {}, {}, {}, {}, {}});
  }
  for (std::size_t i = 0; i < m.rows.size(); ++i) {
    const Row& row = m.rows[i];
    if (std::find(m.ops.begin(), m.ops.end(), row.op) == m.ops.end()) m.ops.push_back(row.op);
    auto stats = std::find_if(m.tested.begin(), m.tested.end(),
                              [&](const ImplementationStats& s) { return s.name == row.implementation; });
    if (stats == m.tested.end()) continue;  // a mutant: its rows are the kill matrix's business
    m.counts.add(row.outcome);
    stats->counts.add(row.outcome);
    Cell& cell = m.cells[{row.implementation, row.op}];
    if (cell.rows == 0 || severity(row.outcome) > severity(cell.worst)) {
      cell.worst = row.outcome;
      cell.worst_count = 0;
    }
    if (row.outcome == cell.worst) ++cell.worst_count;
    ++cell.rows;
    cell.row_indices.push_back(i);
    if (row.outcome == Outcome::kFailed) failed.push_back(i);
    if (row.outcome == Outcome::kSkipped) continue;  // compared nothing, whatever its numbers say
    if (row.max_ulp && (!stats->max_ulp || larger(row.max_ulp, stats->max_ulp)))
      stats->max_ulp = row.max_ulp, stats->worst_row = i;
    if (row.max_bound_fraction && (!stats->max_bound_fraction || larger(row.max_bound_fraction, stats->max_bound_fraction)))
      stats->max_bound_fraction = row.max_bound_fraction;
    if (!row.histogram.empty()) {
      Histogram& h = stats->histogram;
      if (h.empty()) h = Histogram{row.histogram.edges, std::vector<std::int64_t>(row.histogram.counts.size())};
      for (std::size_t b = 0; b < h.counts.size(); ++b) h.counts[b] += row.histogram.counts[b];  // same edges
    }
  }
  m.causes = group_causes(m, failed);
}

}  // namespace detail
}  // namespace normcheck::report
