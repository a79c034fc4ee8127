#include "report/junit_xml.h"

#include <fmt/format.h>

#include "report/escape.h"

namespace normcheck::report {
namespace {

/// JUnit's timestamp is an xs:dateTime without a zone ("2026-12-01T12:00:00").
std::string junit_timestamp(std::string t) {
  if (!t.empty() && t.back() == 'Z') t.pop_back();
  return t;
}

std::string attr(const std::string& s) { return xml_escape(s); }

std::string property(const std::string& name, const std::string& value) {
  return fmt::format("<property name=\"{}\" value=\"{}\"/>", attr(name), attr(value));
}

struct SuiteTotals {
  int tests = 0, failures = 0, skipped = 0, mistrusted = 0;
  double seconds = 0;
};

/// The row's counts as <properties> (cases, compared, refused), empty for documents without them.
std::string counts(const Row& r) {
  if (r.cases_compared < 0) return "";
  return "      <properties>" + property("cases", std::to_string(r.cases)) +
         property("cases_compared", std::to_string(r.cases_compared)) +
         property("draws_refused", std::to_string(r.draws_refused)) + "</properties>\n";
}

std::string testcase(const Row& r) {
  std::string out = fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3f}\"",
                                attr("normcheck." + r.implementation + "." + r.op), attr(r.property), r.seconds);
  switch (r.outcome) {
    case Outcome::kPassed:
      return r.cases_compared < 0 ? out + "/>\n" : out + ">\n" + counts(r) + "    </testcase>\n";
    case Outcome::kFailed:
    case Outcome::kFlaky: {
      const Failure& f = *r.failure;  // build_model requires it on FAILED and FLAKY rows
      // A FLAKY row's reason says that the failure did not come back on replay.
      const std::string message = f.detail.empty() || r.outcome == Outcome::kFlaky ? one_line(r.reason) : one_line(f.detail);
      out += ">\n      <failure type=\"" + std::string(outcome_name(r.outcome)) + "\" message=\"" + attr(message) + "\">";
      std::string body;
      if (!r.sentence.empty()) body += "property: " + r.sentence + "\n";
      if (f.signature) body += "cause: " + f.signature->title + "\n";  // the output that failed, and how
      body += "minimal problem: " + f.problem + "\n";
      if (!f.detail.empty()) body += "detail: " + f.detail + "\n";
      if (f.shrink_steps > 0) body += fmt::format("shrink steps: {}\n", f.shrink_steps);
      body += "REPRO: " + f.repro + "\n";
      return out + xml_escape(body) + "</failure>\n    </testcase>\n";
    }
    case Outcome::kSkipped:
      return out + ">\n" + counts(r) + "      <skipped message=\"" + attr(r.reason) + "\"/>\n    </testcase>\n";
    case Outcome::kMistrusted:
      return out + ">\n      <properties>" + property("outcome", "MISTRUSTED") + "</properties>\n" +
             "      <skipped message=\"" + attr("MISTRUSTED: " + r.reason) + "\"/>\n    </testcase>\n";
  }
  return out + "/>\n";
}

std::string suite_open(const std::string& name, const SuiteTotals& t, const std::string& timestamp,
                       const std::string& properties) {
  return fmt::format(
      "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{:.3f}\"{}>\n"
      "    <properties>{}{}</properties>\n",
      attr(name), t.tests, t.failures, t.skipped, t.seconds,
      timestamp.empty() ? "" : " timestamp=\"" + attr(timestamp) + "\"", property("mistrusted", std::to_string(t.mistrusted)),
      properties);
}

}  // namespace

std::string render_junit_xml(const Model& m) {
  const std::string timestamp = junit_timestamp(m.meta.created_utc);
  std::string suites;
  SuiteTotals all;
  for (const ImplementationStats& s : m.tested) {
    SuiteTotals t;
    std::string cases;
    for (const Row& r : m.rows) {
      if (r.implementation != s.name) continue;
      ++t.tests;
      t.seconds += r.seconds;
      t.failures += r.outcome == Outcome::kFailed || r.outcome == Outcome::kFlaky;
      t.skipped += r.outcome == Outcome::kSkipped || r.outcome == Outcome::kMistrusted;
      t.mistrusted += r.outcome == Outcome::kMistrusted;
      cases += testcase(r);
    }
    const Implementation* impl = m.implementation(s.name);
    suites += suite_open(s.name, t, timestamp, property("kind", impl->kind)) + cases + "  </testsuite>\n";
    all.tests += t.tests, all.failures += t.failures, all.skipped += t.skipped, all.mistrusted += t.mistrusted;
    all.seconds += t.seconds;
  }
  if (!m.kill.mutants.empty()) {
    SuiteTotals t;
    std::string cases;
    for (const Mutant& mu : m.kill.mutants) {
      ++t.tests;
      cases += fmt::format("    <testcase classname=\"normcheck.mutants\" name=\"{}\" time=\"0\"", attr(mu.name));
      if (mu.killed) {
        cases += "/>\n";
        continue;
      }
      ++t.failures;
      cases += ">\n      <failure type=\"SURVIVED\" message=\"" +
               attr("survived every property: " + (mu.bug.empty() ? std::string("(bug not described)") : mu.bug)) +
               "\">" + xml_escape("No property caught the bug " + mu.bug + "\n") + "</failure>\n    </testcase>\n";
    }
    suites += suite_open("normcheck.mutants", t, timestamp, "") + cases + "  </testsuite>\n";
    all.tests += t.tests, all.failures += t.failures;
  }
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<!-- normcheck conformance report (docs/report-schema.md). MISTRUSTED rows are not passes: they are "
         "<skipped> with message \"MISTRUSTED: ...\" and property outcome=MISTRUSTED, counted in each suite's "
         "\"mistrusted\" property; \"failures\" counts <failure> elements only. -->\n";
  out += fmt::format(
      "<testsuites name=\"normcheck\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{:.3f}\">\n",
      all.tests, all.failures, all.skipped, m.meta.wall_seconds > 0 ? m.meta.wall_seconds : all.seconds);
  return out + suites + "</testsuites>\n";
}

}  // namespace normcheck::report
