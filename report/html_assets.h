#pragma once
/// index.html's stylesheet and script (assets/report.css, assets/report.js), compiled in by CMake so
/// that the page needs no file beside it and no network.
namespace normcheck::report {

extern const char* const kReportCss;
extern const char* const kReportJs;

}  // namespace normcheck::report
