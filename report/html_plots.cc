#include "report/html_plots.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "report/escape.h"

namespace normcheck::report {
namespace {

/// Low error to high: green, yellow, orange, red, by the bin's position.
std::string bin_color(std::size_t i, std::size_t n) {
  static const char* kRamp[] = {"#1f883d", "#4fa94a", "#8fb339", "#c9a227", "#d9822b", "#d4602a", "#c93c37", "#a40e26"};
  const std::size_t steps = std::size(kRamp) - 1;
  const std::size_t k = n <= 1 ? 0 : (i * steps + (n - 1) / 2) / (n - 1);
  return kRamp[std::min(k, steps)];
}

std::string edge_label(double e) {
  if (std::isinf(e)) return "inf";
  if (e >= 1024 && std::fmod(e, 1024) == 0) return fmt::format("{}k", static_cast<long long>(e / 1024));
  return format_number(e);
}

}  // namespace

std::string compact_count(std::int64_t n) {
  if (n < 1000) return std::to_string(n);
  if (n < 1000000) return fmt::format("{:.3g}k", n / 1e3);
  if (n < 1000000000) return fmt::format("{:.3g}M", n / 1e6);
  return fmt::format("{:.3g}G", n / 1e9);
}

std::string ulp_histogram_svg(const Histogram& h) {
  if (h.empty() || h.total() == 0) return "<p class=\"empty\">No compared elements.</p>";
  const std::size_t n = h.counts.size();
  const double width = 400, height = 190, left = 8, right = 8, top = 18, bottom = 34;
  const double plot_w = width - left - right, plot_h = height - top - bottom, slot = plot_w / static_cast<double>(n);
  const std::int64_t peak = *std::max_element(h.counts.begin(), h.counts.end());
  const double log_peak = std::log10(static_cast<double>(peak) + 1);
  std::string svg = fmt::format(
      "<svg viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"error histogram in ULP, log-scaled counts\">", width,
      height);
  const double base = top + plot_h;
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t c = h.counts[i];
    const double x = left + slot * static_cast<double>(i);
    const double bar_h = c == 0 ? 0 : std::max(2.0, plot_h * std::log10(static_cast<double>(c) + 1) / log_peak);
    const std::string range = fmt::format("[{}, {}) ULP: {} elements", edge_label(h.edges[i]),
                                          edge_label(h.edges[i + 1]), c);
    svg += fmt::format("<g><title>{}</title>", html_escape(range));
    svg += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" rx=\"3\" fill=\"{}\"/>",
                       x + 3, base - bar_h, slot - 6, bar_h, bin_color(i, n));
    svg += fmt::format("<text class=\"count{}\" x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11\" text-anchor=\"middle\">{}</text></g>",
                       c == 0 ? " zero" : "", x + slot / 2, base - bar_h - 4, compact_count(c));
  }
  svg += fmt::format("<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"#8c959f\"/>", left, base,
                     width - right, base);
  for (std::size_t i = 0; i <= n; ++i) {
    const double x = left + slot * static_cast<double>(i);
    svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#8c959f\"/>", x,
                       base, base + 4);
    const char* anchor = i == 0 ? "start" : i == n ? "end" : "middle";
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"10\" text-anchor=\"{}\">{}</text>", x,
                       base + 15, anchor, html_escape(edge_label(h.edges[i])));
  }
  svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"10\" text-anchor=\"middle\">error in ULP of the "
                     "output dtype (bins [a, b); counts on a log scale)</text>",
                     width / 2, height - 3);
  return svg + "</svg>";
}

}  // namespace normcheck::report
