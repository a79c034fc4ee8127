#include "report/index_html.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "report/escape.h"
#include "report/html_assets.h"
#include "report/html_plots.h"
#include "report/summary_md.h"

namespace normcheck::report {
namespace {

std::string e(const std::string& s) { return html_escape(s); }

std::string pill(Outcome o) {
  return fmt::format("<span class=\"pill {}\">{}</span>", outcome_class(o), outcome_name(o));
}

std::string number_or_dash(const std::optional<double>& v) { return v ? e(format_number(*v)) : "&ndash;"; }

/// The error as a fraction of the bound, with a bar (full at 1 bound; red past it).
std::string bound_bar(const std::optional<double>& f) {
  if (!f) return "&ndash;";
  const double width = std::isnan(*f) ? 100 : std::clamp(*f, 0.0, 1.0) * 100;
  const bool over = std::isnan(*f) || *f > 1;
  return fmt::format("{}<span class=\"bar{}\"><span style=\"width:{:.1f}%\"></span></span>", e(format_number(*f)),
                     over ? " over" : "", width);
}

std::string repro_block(const std::string& repro) {
  return fmt::format("<div class=\"repro\"><code>{0}</code><button class=\"copy\" type=\"button\" data-copy=\"{0}\" "
                     "title=\"Copy the repro line\">Copy</button></div>"
                     "<div class=\"detail\">add <code>--save DIR</code> to export the case (.npy and case.json)</div>",
                     e(repro));
}

void head(std::string& out, const Model& m) {
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
         "script-src 'unsafe-inline'; img-src data:\">\n"
         "<link rel=\"icon\" href=\"data:,\">\n";
  out += fmt::format("<title>normcheck: {}</title>\n<style>\n{}</style>\n</head>\n",
                     m.conforming ? "CONFORMING" : "NOT CONFORMING", kReportCss);
}

void banner(std::string& out, const Model& m) {
  const Counts& c = m.counts;
  out += fmt::format("<header class=\"top {}\">\n<div class=\"brand\">normcheck conformance report</div>\n",
                     m.conforming ? "pass" : "fail");
  out += fmt::format("<div class=\"headline\"><div class=\"verdict\" id=\"verdict\">{}</div>{}<div class=\"chips\">",
                     m.conforming ? "CONFORMING" : "NOT CONFORMING",
                     m.causes.empty() ? "" : "<div class=\"causes-count\">" + e(causes_count_text(m)) + "</div>");
  const std::pair<const char*, int> chips[] = {
      {"fail", c.failed}, {"flaky", c.flaky}, {"mistrusted", c.mistrusted}, {"pass", c.passed}, {"skip", c.skipped}};
  const char* words[] = {"failed", "flaky", "mistrusted", "passed", "skipped"};
  for (std::size_t i = 0; i < std::size(chips); ++i)
    out += fmt::format("<span class=\"chip {}\"><b>{}</b> {}</span>", chips[i].first, chips[i].second, words[i]);
  out += "</div></div>\n<div class=\"meta\">";
  const Meta& meta = m.meta;
  out += "<span>tier " + e(meta.tier) + "</span>";
  if (!meta.seed.empty()) out += "<span>seed " + e(meta.seed) + "</span>";
  out += meta.shard_count == 1 && meta.shard_index == 0
             ? std::string("<span>1 shard</span>")
             : fmt::format("<span>shard {} of {}</span>", meta.shard_index, meta.shard_count);
  out += fmt::format("<span>{:.1f} s</span>", meta.wall_seconds);
  if (!meta.host_cpu.empty()) out += fmt::format("<span>{} ({} threads)</span>", e(meta.host_cpu), meta.host_threads);
  if (!meta.policy.empty()) out += "<span>policy " + e(meta.policy) + "</span>";
  if (!meta.normcheck_version.empty()) out += "<span>normcheck " + e(meta.normcheck_version) + "</span>";
  if (!meta.created_utc.empty()) out += "<span>" + e(meta.created_utc) + "</span>";
  out += "</div>\n</header>\n";
  out += "<nav class=\"toc\">";
  if (!m.causes.empty()) out += "<a href=\"#causes\">Causes</a>";
  out += "<a href=\"#matrix\">Conformance matrix</a><a href=\"#worst\">Worst cases</a>"
         "<a href=\"#errors\">Error histograms</a><a href=\"#profiles\">Profile fingerprint</a>";
  if (!m.kill.mutants.empty()) out += "<a href=\"#mutants\">Kill matrix</a>";
  out += "<a href=\"#rows\">All rows</a></nav>\n";
}

std::string cell_tooltip(const Model& m, const Cell& c) {
  std::string t;
  for (std::size_t i : c.row_indices) {
    const Row& r = m.rows[i];
    t += (t.empty() ? "" : "\n") + r.property + ": " + std::string(outcome_name(r.outcome));
    if (!r.reason.empty()) t += " (" + r.reason + ")";
  }
  return t;
}

void matrix(std::string& out, const Model& m) {
  out += "<section class=\"card\" id=\"matrix\"><h2>Conformance matrix</h2>\n<p class=\"lede\">Each cell is the worst "
         "outcome of the properties checked for one implementation and op, and how many of them have it. Hover for "
         "the properties; click to see the rows.</p>\n";
  out += "<table class=\"matrix\"><thead><tr><th>implementation</th>";
  for (const std::string& op : m.ops) out += "<th>" + e(op) + "</th>";
  out += "<th class=\"num\">max ULP</th><th class=\"num\">max error / bound</th></tr></thead>\n<tbody>\n";
  for (const ImplementationStats& s : m.tested) {
    const Implementation* impl = m.implementation(s.name);
    out += "<tr><th class=\"name\">" + e(s.name) + "<span class=\"sub\">" + e(impl->kind) + "</span></th>";
    for (const std::string& op : m.ops) {
      const Cell* c = m.cell(s.name, op);
      if (c == nullptr) {
        out += "<td class=\"cell none\" title=\"no rows\"><span class=\"mk\">&ndash;</span></td>";
        continue;
      }
      out += fmt::format(
          "<td class=\"cell {}\" data-impl=\"{}\" data-op=\"{}\" title=\"{}\"><span class=\"mk\">{}</span>"
          "<span class=\"ct\">{} of {}</span></td>",
          outcome_class(c->worst), e(s.name), e(op), e(cell_tooltip(m, *c)), outcome_marker(c->worst),
          c->worst_count, c->rows);
    }
    out += "<td class=\"num\">" + number_or_dash(s.max_ulp) + "</td><td class=\"num\">" +
           number_or_dash(s.max_bound_fraction) + "</td></tr>\n";
  }
  out += "</tbody></table>\n<div class=\"legend\"><span><i class=\"pass\"></i>pass: every property that ran "
         "passed</span><span><i class=\"fail\"></i>FAIL: a property failed</span><span><i class=\"flaky\"></i>FLAKY: a failure that did "
         "not come back on replay (not a pass)</span><span><i class=\"mistrusted\"></i>"
         "MISTRUSTED: the reference could not certify a result (not a pass)</span><span><i class=\"skip\"></i>skip: "
         "no property ran (unsupported)</span><span>k of n: the cell's rows with that outcome (the others passed or "
         "were skipped)</span></div>\n</section>\n";
}

void worst_cases(std::string& out, const Model& m) {
  const std::vector<const Row*> rows = m.worst_rows(kWorstCasesShown);
  out += "<section class=\"card\" id=\"worst\"><h2>Worst cases</h2>\n<p class=\"lede\">The failures first, then "
         "the rows closest to their error bound. The row's figures are its worst over all its cases; a failure's "
         "minimal case (shrunk) has its own worst element, problem and repro line.</p>\n";
  if (rows.empty()) {
    out += "<p>No compared results.</p></section>\n";
    return;
  }
  out += "<table class=\"worst\"><thead><tr><th>implementation</th><th>op / property</th><th>outcome</th>"
         "<th class=\"num\">row: max ULP</th><th>row: max error / bound</th><th>minimal case: worst element, problem and "
         "repro</th></tr></thead><tbody>\n";
  for (const Row* r : rows) {
    out += "<tr><td class=\"name\">" + e(r->implementation) + "</td><td>" + e(r->op) + "<span class=\"sub\">" +
           e(r->property) + "</span></td><td>" + pill(r->outcome) + "</td><td class=\"num\">" +
           number_or_dash(r->max_ulp) + "</td><td>" + bound_bar(r->max_bound_fraction) + "</td><td>";
    if (r->failure) {
      // The repro line holds the minimal problem; the descriptor is shown on its own when it does not.
      if (r->failure->repro.find(r->failure->problem) == std::string::npos)
        out += "<code>" + e(r->failure->problem) + "</code>";
      if (r->failure->signature) out += "<div><b>" + e(r->failure->signature->title) + "</b></div>";
      if (!r->failure->detail.empty()) out += "<div class=\"detail\">minimal case: " + e(r->failure->detail) + "</div>";
      out += repro_block(r->failure->repro);
    } else if (!r->reason.empty()) {
      out += "<div class=\"detail\">" + e(r->reason) + "</div>";
    } else {
      out += "<div class=\"detail\">" + e(r->sentence) + "</div>";
    }
    out += "</td></tr>\n";
  }
  out += "</tbody></table></section>\n";
}

void histograms(std::string& out, const Model& m) {
  out += "<section class=\"card\" id=\"errors\"><h2>Error histograms</h2>\n<p class=\"lede\">Every compared output "
         "element of each implementation, by its error in ULP of the output's own dtype (all rows added up); "
         "elements without a ULP distance (NaN against a number, a sign change across zero) are judged by "
         "their bound and left out.</p>\n"
         "<div class=\"grid2\">\n";
  for (const ImplementationStats& s : m.tested) {
    out += "<div class=\"hist\"><h3>" + e(s.name) + "</h3><span class=\"sub\">" +
           fmt::format("{} elements, max {} ULP", compact_count(s.histogram.total()), number_or_dash(s.max_ulp));
    if (s.worst_row) out += " in " + e(m.rows[*s.worst_row].op) + " / " + e(m.rows[*s.worst_row].property);
    out += "</span>" + ulp_histogram_svg(s.histogram) + "</div>\n";
  }
  out += "</div></section>\n";
}

void fingerprint(std::string& out, const Model& m) {
  out += "<section class=\"card\" id=\"profiles\"><h2>Profile fingerprint</h2>\n<p class=\"lede\">Which framework "
         "conventions (refusals, NaN answers, the running-statistics update) each implementation follows: a "
         "profile passes when no case of it failed on a convention. Accuracy failures are counted apart.</p>\n";
  if (m.fingerprints.empty()) {
    out += "<p>No profile fingerprint in this run.</p></section>\n";
    return;
  }
  const std::vector<std::string> profiles = fingerprint_profiles(m);
  out += "<table><thead><tr><th>implementation</th><th>follows</th>";
  for (const std::string& p : profiles) out += "<th>" + e(p) + " conventions</th>";
  out += "<th>accuracy</th></tr></thead><tbody>\n";
  for (const Fingerprint& f : m.fingerprints) {
    out += "<tr><th class=\"name\">" + e(f.implementation) + "</th><td>" + e(follows_text(f)) + "</td>";
    for (const std::string& p : profiles) {
      auto it = std::find_if(f.profiles.begin(), f.profiles.end(), [&](const auto& x) { return x.first == p; });
      out += "<td>" + (it == f.profiles.end() ? std::string("&ndash;") : pill(it->second)) + "</td>";
    }
    out += "<td>" + e(accuracy_text(f)) + "</td></tr>\n";
  }
  out += "</tbody></table></section>\n";
}

/// The distinct problems among the failures, first: each cause, its rows, its smallest case.
void causes(std::string& out, const Model& m) {
  if (m.causes.empty()) return;
  out += fmt::format("<section class=\"card\" id=\"causes\"><h2>Causes: {}</h2>\n<p class=\"lede\">Failing rows "
                     "whose minimal cases share a signature (op, the output that failed, the kind of failure, dtype, "
                     "layout) are one cause; the repro line is its smallest case.</p>\n<ol class=\"causes\">\n",
                     e(causes_count_text(m)));
  for (const Cause& c : m.causes) {
    std::string rows;
    for (const std::size_t r : c.rows) rows += (rows.empty() ? "" : ", ") + m.rows[r].op + " " + m.rows[r].property;
    out += fmt::format("<li><b>{}</b> <span class=\"sub\">{}, {} {}: {}</span>", e(c.title(m.rows)),
                       e(c.implementation), c.rows.size(), c.rows.size() == 1 ? "row" : "rows", e(rows));
    const Failure& f = *m.rows[c.representative].failure;
    if (f.repro.find(f.problem) == std::string::npos) out += "<code>" + e(f.problem) + "</code>";
    out += repro_block(f.repro) + "</li>\n";
  }
  out += "</ol></section>\n";
}

void kill_matrix(std::string& out, const Model& m) {
  const KillMatrix& k = m.kill;
  if (k.mutants.empty()) return;  // a run without mutants (every gate) has no mutant section
  out += "<section class=\"card\" id=\"mutants\"><h2>Mutant kill matrix</h2>\n";
  const double share = 100.0 * k.killed() / static_cast<double>(k.mutants.size());
  out += fmt::format("<p class=\"lede\">Deliberately wrong implementations, one bug each: a property kills a mutant "
                     "when it fails on it. Killed <b>{} of {}</b>.</p><div class=\"progress\"><span "
                     "style=\"width:{:.1f}%\"></span></div>\n",
                     k.killed(), k.mutants.size(), share);
  out += "<table class=\"kill\"><thead><tr><th>mutant</th><th></th>";
  for (const std::string& p : k.properties) out += "<th class=\"prop\"><span>" + e(p) + "</span></th>";
  out += "</tr></thead><tbody>\n";
  for (const Mutant& mu : k.mutants) {
    out += fmt::format("<tr{}><th class=\"name\">{}<span class=\"sub\">{}</span></th><td>{}</td>",
                       mu.killed ? "" : " class=\"survivor\"", e(mu.name), e(mu.bug),
                       mu.killed ? "<span class=\"pill killed\">KILLED</span>"
                                 : "<span class=\"pill survived\">SURVIVED</span>");
    for (const std::string& p : k.properties) {
      const bool hit = std::find(mu.killed_by.begin(), mu.killed_by.end(), p) != mu.killed_by.end();
      out += fmt::format("<td class=\"k{}\" title=\"{}\"><span></span></td>", hit ? " hit" : "",
                         e(p + (hit ? " kills " : " does not kill ") + mu.name));
    }
    out += "</tr>\n";
  }
  out += "</tbody></table></section>\n";
}

/// A count the document may lack (-1: written before normcheck counted it).
std::string count_or_dash(std::int64_t n) { return n < 0 ? "-" : std::to_string(n); }

void all_rows(std::string& out, const Model& m) {
  out += fmt::format("<section class=\"card\" id=\"rows\"><details id=\"rows-details\"><summary>All {} rows"
                     "</summary>\n<input class=\"filter\" id=\"row-filter\" type=\"search\" placeholder=\"filter: "
                     "implementation, op, property, outcome...\" aria-label=\"filter rows\"> <span class=\"sub\" "
                     "id=\"row-count\"></span>\n",
                     m.rows.size());
  out += "<table class=\"rows\"><thead><tr><th>implementation</th><th>op</th><th>property</th><th>outcome</th>"
         "<th class=\"num\">cases</th><th class=\"num\">compared</th><th class=\"num\">refused</th><th class=\"num\">seconds</th>"
         "<th class=\"num\">max ULP</th><th class=\"num\">error / bound</th><th>reason</th></tr></thead><tbody>\n";
  for (const Row& r : m.rows) {
    const Implementation* impl = m.implementation(r.implementation);
    const bool mutant = impl != nullptr && impl->is_mutant();
    const std::string search =
        r.implementation + " " + r.op + " " + r.property + " " + std::string(outcome_name(r.outcome)) + " " + r.reason;
    out += fmt::format(
        "<tr data-search=\"{}\"><td class=\"name\">{}{}</td><td>{}</td><td title=\"{}\">{}</td><td>{}</td>"
        "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{:.2f}</td><td class=\"num\">{}</td>"
        "<td class=\"num\">{}</td><td class=\"detail\">{}</td></tr>\n",
        e(search), e(r.implementation), mutant ? "<span class=\"sub\">mutant (a kill, not a failure)</span>" : "", e(r.op), e(r.sentence), e(r.property), pill(r.outcome), r.cases,
        count_or_dash(r.cases_compared), count_or_dash(r.draws_refused >= 0 ? r.draws_refused : r.cases_skipped), r.seconds, number_or_dash(r.max_ulp), number_or_dash(r.max_bound_fraction), e(r.reason));
  }
  out += "</tbody></table></details></section>\n";
}

}  // namespace

std::string render_index_html(const Model& m) {
  std::string out;
  head(out, m);
  out += "<body>\n";
  banner(out, m);
  out += "<main>\n";
  causes(out, m);
  matrix(out, m);
  worst_cases(out, m);
  histograms(out, m);
  fingerprint(out, m);
  kill_matrix(out, m);
  all_rows(out, m);
  out += "</main>\n<footer>" + e("normcheck " + m.meta.normcheck_version + ": " + verdict_text(m)) +
         ". Rendered from results.json (schema normcheck-report, version " + std::to_string(m.meta.schema_version) +
         ").</footer>\n";
  out += "<div id=\"nc-js-status\" data-state=\"loading\" hidden></div>\n";
  out += fmt::format("<script>\n{}</script>\n</body>\n</html>\n", kReportJs);
  return out;
}

}  // namespace normcheck::report
