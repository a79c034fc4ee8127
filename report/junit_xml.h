#pragma once
/// junit.xml: what CI systems display. One <testsuite> per implementation under test, one
/// <testcase> per (op, property) row (classname "normcheck.<implementation>.<op>", name the property,
/// time its seconds); FAILED rows carry <failure message="detail"> with the minimal problem and the
/// repro line, SKIPPED and MISTRUSTED rows <skipped message="...">. MISTRUSTED is not a pass: its
/// <skipped> message starts with "MISTRUSTED:", the testcase has the property outcome=MISTRUSTED and
/// every suite the property "mistrusted" with its count; the failures attribute
/// counts <failure> elements only, so that CI tools that recount agree with it. The mutants, when the
/// run has any, are one more suite, "normcheck.mutants": a testcase per mutant, a <failure> for each
/// survivor (a bug no property caught).
#include <string>

#include "report/model.h"

namespace normcheck::report {

std::string render_junit_xml(const Model& m);

}  // namespace normcheck::report
