#include "report/summary_md.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

#include "report/escape.h"

namespace normcheck::report {
namespace {

std::string row_title(const Row& r) {
  return md_text(r.implementation) + " / " + md_text(r.op) + " / " + md_text(r.property);
}

std::string cell_text(const Cell* c) {
  if (c == nullptr) return "-";
  const std::string marker(outcome_marker(c->worst));
  const bool loud = c->worst != Outcome::kPassed && c->worst != Outcome::kSkipped;
  return fmt::format("{}{}{} {}/{}", loud ? "**" : "", marker, loud ? "**" : "", c->worst_count, c->rows);
}

/// A code block inside a numbered list item (indented 3), so the numbering goes on.
std::string list_item_code_block(const std::string& text) {
  std::string block = md_code_block(text);
  for (std::size_t at = 0; at < block.size(); at = block.find('\n', at) + 1) block.insert(at, "   ");
  return block + "\n";
}

std::string optional_number(const std::optional<double>& v) { return v ? format_number(*v) : "-"; }

void header(std::string& out, const Model& m) {
  out += "### normcheck: " + md_text(verdict_text(m)) + "\n\n";
  const Meta& meta = m.meta;
  std::vector<std::string> facts;
  facts.push_back("tier " + md_code_span(meta.tier));
  if (!meta.seed.empty()) facts.push_back("seed " + meta.seed);
  facts.push_back(meta.shard_count == 1 && meta.shard_index == 0
                      ? std::string("1 shard")
                      : fmt::format("shard {} of {}", meta.shard_index, meta.shard_count));
  facts.push_back(fmt::format("{:.1f} s", meta.wall_seconds));
  if (!meta.host_cpu.empty())
    facts.push_back(fmt::format("on {} ({} threads)", md_text(meta.host_cpu), meta.host_threads));
  if (!meta.normcheck_version.empty()) facts.push_back("normcheck " + md_text(meta.normcheck_version));
  if (!meta.created_utc.empty()) facts.push_back(md_text(meta.created_utc));
  out += fmt::format("{}\n\n", fmt::join(facts, ", "));
}

void matrix(std::string& out, const Model& m) {
  out += "#### Conformance matrix\n\n| implementation |";
  for (const std::string& op : m.ops) out += " " + md_text(op) + " |";
  out += " max ULP | max error/bound |\n|---|";
  for (std::size_t i = 0; i < m.ops.size(); ++i) out += "---|";
  out += "---:|---:|\n";
  for (const ImplementationStats& s : m.tested) {
    out += "| " + md_text(s.name) + " |";
    for (const std::string& op : m.ops) out += " " + cell_text(m.cell(s.name, op)) + " |";
    out += " " + optional_number(s.max_ulp) + " | " + optional_number(s.max_bound_fraction) + " |\n";
  }
  out +=
      "\nA cell is the worst outcome of its rows (properties) and how many of them have it. pass: passed; "
      "**FAIL**: a property failed; **FLAKY**: a failure that did not come back on replay (not a pass); "
      "**MISTRUSTED**: the reference could not certify a result (not a pass); "
      "skip: no property ran (unsupported); k/n: k of the cell's n rows have that outcome (the rest passed or "
      "were skipped); -: no rows.\n\n";
}

/// Once, above the first repro lines (the causes', else the failures').
void export_hint(std::string& out) {
  out += "Add `--save DIR` to a repro line to export its case: inputs, the reference's outputs and bounds and the "
         "implementation's outputs as .npy, with case.json (docs/gate.md, \"Export a case\").\n\n";
}

/// The distinct problems first: each cause with its rows and the repro of its smallest case.
void causes(std::string& out, const Model& m) {
  if (m.causes.empty()) return;
  out += fmt::format("#### Causes ({} in {} failed rows)\n\n", m.causes.size(), m.counts.failed);
  export_hint(out);
  const std::size_t shown = std::min(m.causes.size(), kMaxCausesListed);
  for (std::size_t i = 0; i < shown; ++i) {
    const Cause& c = m.causes[i];
    std::vector<std::string> props;
    for (const std::size_t r : c.rows) props.push_back(md_text(m.rows[r].op + " " + m.rows[r].property));
    out += fmt::format("{}. **{}**: {}, {} {}: {}\n", i + 1, md_text(c.title(m.rows)), md_text(c.implementation),
                       c.rows.size(), c.rows.size() == 1 ? "row" : "rows", fmt::join(props, ", "));
    const Failure& f = *m.rows[c.representative].failure;
    out += "   smallest case: " + md_code_span(f.problem) + "\n";
    out += list_item_code_block(f.repro);
  }
  if (m.causes.size() > shown)
    out += fmt::format("... and {} more causes (all of them are in results.json and index.html).\n\n",
                       m.causes.size() - shown);
}

void failures(std::string& out, const Model& m) {
  const std::vector<const Row*> failed = m.failures();
  if (failed.empty()) return;
  out += fmt::format("#### Failures ({})\n\n", failed.size());
  if (m.causes.empty()) export_hint(out);
  const std::size_t shown = std::min(failed.size(), kMaxFailuresListed);
  for (std::size_t i = 0; i < shown; ++i) {
    const Row& r = *failed[i];
    const Failure& f = *r.failure;  // build_model requires it on FAILED rows
    out += fmt::format("{}. **{}**", i + 1, row_title(r));
    // The output that failed the property, and how: a property's name does not say it.
    if (f.signature) out += " (" + md_text(f.signature->title) + ")";
    if (!f.detail.empty()) out += ": " + md_text(one_line(f.detail));
    out += "  \n   minimal problem: " + md_code_span(f.problem);
    if (f.shrink_steps > 0) out += fmt::format(" ({} shrink steps)", f.shrink_steps);
    out += "\n";
    out += list_item_code_block(f.repro);
  }
  if (failed.size() > shown)
    out += fmt::format("... and {} more failures (all of them are in junit.xml and index.html).\n\n",
                       failed.size() - shown);
}

/// A list of rows with one outcome and their reasons, inside <details> unless loud.
void reason_list(std::string& out, const Model& m, Outcome o, const std::string& title, bool folded) {
  std::vector<const Row*> rows = m.rows_with(o);
  // A PASSED row has a reason only for a note (a refusal worded without the profile's key phrase).
  if (o == Outcome::kPassed) std::erase_if(rows, [](const Row* r) { return r->reason.empty(); });
  if (rows.empty()) return;
  if (folded)
    out += fmt::format("<details><summary>{} ({})</summary>\n\n", title, rows.size());
  else
    out += fmt::format("#### {} ({})\n\n", title, rows.size());
  const std::size_t shown = std::min(rows.size(), kMaxOtherRowsListed);
  for (std::size_t i = 0; i < shown; ++i) {
    out += "- " + row_title(*rows[i]);
    if (!rows[i]->reason.empty()) out += ": " + md_text(rows[i]->reason);
    if (rows[i]->cases_compared >= 0)
      out += fmt::format(" ({} of {} cases compared, {} draws refused)", rows[i]->cases_compared, rows[i]->cases,
                         rows[i]->draws_refused);
    out += "\n";
  }
  if (rows.size() > shown) out += fmt::format("- ... and {} more\n", rows.size() - shown);
  out += folded ? "\n</details>\n\n" : "\n";
}

void fingerprint(std::string& out, const Model& m) {
  if (m.fingerprints.empty()) return;
  const std::vector<std::string> profiles = fingerprint_profiles(m);
  out += "#### Profile fingerprint\n\nConventions (refusals, NaN answers, running statistics) apart from accuracy.\n\n"
         "| implementation | follows |";
  for (const std::string& p : profiles) out += " " + md_text(p) + " conventions |";
  out += " accuracy |\n|---|---|";
  for (std::size_t i = 0; i < profiles.size(); ++i) out += "---|";
  out += "---|\n";
  for (const Fingerprint& f : m.fingerprints) {
    out += "| " + md_text(f.implementation) + " | " + md_text(follows_text(f)) + " |";
    for (const std::string& p : profiles) {
      auto it = std::find_if(f.profiles.begin(), f.profiles.end(), [&](const auto& e) { return e.first == p; });
      out += " " + (it == f.profiles.end() ? std::string("-") : std::string(outcome_marker(it->second))) + " |";
    }
    out += " " + md_text(accuracy_text(f)) + " |\n";
  }
  out += "\n";
}

void kill_matrix(std::string& out, const Model& m) {
  const KillMatrix& k = m.kill;
  if (k.mutants.empty()) return;  // a run without mutants (every gate) has no mutant section
  out += fmt::format("#### Mutants: killed {} of {}\n\n", k.killed(), k.mutants.size());
  std::vector<const Mutant*> survivors;
  for (const Mutant& mu : k.mutants) {
    if (!mu.killed) survivors.push_back(&mu);
  }
  if (survivors.empty()) {
    out += "Every mutant was killed.\n\n";
  } else {
    out += "Survivors (bugs no property caught):\n\n";
    for (const Mutant* mu : survivors)
      out += "- " + md_code_span(mu->name) + (mu->bug.empty() ? "" : ": " + md_text(mu->bug)) + "\n";
    out += "\n";
  }
  out += "<details><summary>Killed by</summary>\n\n";
  for (const Mutant& mu : k.mutants) {
    if (!mu.killed) continue;
    std::vector<std::string> by;
    std::transform(mu.killed_by.begin(), mu.killed_by.end(), std::back_inserter(by), md_text);
    out += "- " + md_code_span(mu.name) + ": " + (by.empty() ? std::string("-") : fmt::format("{}", fmt::join(by, ", "))) + "\n";
  }
  out += "\n</details>\n\n";
}

}  // namespace

std::string causes_count_text(const Model& m) {
  return fmt::format("{} {} in {} failed {}", m.causes.size(), m.causes.size() == 1 ? "cause" : "causes",
                     m.counts.failed, m.counts.failed == 1 ? "row" : "rows");
}

std::string verdict_text(const Model& m) {
  const Counts& c = m.counts;
  std::string verdict = m.conforming ? "CONFORMING" : "NOT CONFORMING";
  if (!m.meta.policy.empty()) verdict += " under policy " + m.meta.policy;
  if (!m.causes.empty()) verdict += ": " + causes_count_text(m);
  const std::string flaky = c.flaky > 0 ? fmt::format("{} flaky, ", c.flaky) : "";
  return fmt::format("{} ({} failed, {}{} mistrusted, {} passed, {} skipped)", verdict, c.failed, flaky, c.mistrusted,
                     c.passed, c.skipped);
}

std::string render_summary_md(const Model& m) {
  std::string out;
  header(out, m);
  causes(out, m);
  matrix(out, m);
  failures(out, m);
  reason_list(out, m, Outcome::kFlaky, "Flaky (failed, then passed when replayed; not a pass)", false);
  reason_list(out, m, Outcome::kMistrusted, "Not certified (MISTRUSTED, not a pass)", false);
  reason_list(out, m, Outcome::kSkipped, "Skipped", true);
  reason_list(out, m, Outcome::kPassed, "Passed with a note", true);
  fingerprint(out, m);
  kill_matrix(out, m);
  out += "Full report: index.html and junit.xml beside this file.\n";
  return out;
}

}  // namespace normcheck::report
