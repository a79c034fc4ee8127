#!/usr/bin/env bash
# index.html in a real browser (the CTest test report_html_in_chromium):
#   check_html.sh NORMCHECK_BIN RESULTS.json OUT_DIR
# renders RESULTS.json with `normcheck report` into OUT_DIR/report, opens index.html in headless
# Chromium and checks that the conformance matrix rendered, that the page's script ran to the end
# (#nc-js-status data-state="ready"), that the browser logged no console message at all (no
# uncaught error, no Content-Security-Policy violation, i.e. no attempt to load anything), and
# that nothing injected through a name ran (body never gets data-pwned). Saves a screenshot,
# OUT_DIR/index.png, and prints its path. Installs chromium with apt-get when it is missing; when it
# cannot be installed or started the check FAILS and says why (it never skips).
set -euo pipefail

fail() {
  echo "check_html: FAILED: $*" >&2
  exit 1
}
[ $# -eq 3 ] || fail "usage: check_html.sh NORMCHECK_BIN RESULTS.json OUT_DIR"
bin=$1 results=$2 out=$3

find_browser() {
  local b
  for b in chromium chromium-browser; do
    if command -v "$b" >/dev/null 2>&1; then
      command -v "$b"
      return 0
    fi
  done
  return 1
}

browser=$(find_browser) || {
  echo "check_html: chromium is missing; installing it (Debian package chromium)" >&2
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  if [ -n "$sudo" ] && ! command -v sudo >/dev/null 2>&1; then
    fail "chromium is not installed and this user cannot install it (not root, no sudo): run ci/install-deps.sh as root"
  fi
  export DEBIAN_FRONTEND=noninteractive
  { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends chromium; } >"$out.apt.log" 2>&1 ||
    fail "apt-get install chromium failed: $(tail -n 3 "$out.apt.log" | tr '\n' ' ')"
  browser=$(find_browser) || fail "chromium was installed but is not on PATH"
}

rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
"$bin" report "$results" --out "$out/report" >"$out/report.log" 2>&1 ||
  fail "normcheck report failed: $(cat "$out/report.log")"
page="file://$out/report/index.html"

profile=$(mktemp -d "${TMPDIR:-/tmp}/nc-chromium-XXXXXX")
trap 'rm -rf "$profile"' EXIT
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
       --disable-component-update --disable-sync "--user-data-dir=$profile" --enable-logging=stderr --v=0
       --virtual-time-budget=3000 --hide-scrollbars)

status=0
timeout 120 "$browser" "${flags[@]}" --dump-dom "$page" >"$out/dom.html" 2>"$out/chromium-dom.log" || status=$?
[ "$status" = 0 ] || fail "chromium could not start or load the page (exit $status): $(grep -v dbus "$out/chromium-dom.log" | tail -n 3 | tr '\n' ' ')"
[ -s "$out/dom.html" ] || fail "chromium dumped no DOM (log: $out/chromium-dom.log)"

cells=$(grep -o '<td class="cell [a-z]*"' "$out/dom.html" | wc -l)
[ "$cells" -ge 1 ] || fail "the conformance matrix did not render (no matrix cells in $out/dom.html)"
grep -q 'id="verdict"' "$out/dom.html" || fail "no verdict in the rendered page"
grep -Eq 'id="nc-js-status"[^>]*data-state="ready"' "$out/dom.html" ||
  fail "the page's script did not finish cleanly: $(grep -o '<div id="nc-js-status"[^<]*' "$out/dom.html")"
if grep -Eq '<body[^>]*data-pwned' "$out/dom.html"; then
  fail "a string from the results document ran as script (body has data-pwned)"
fi
if grep -q 'CONSOLE' "$out/chromium-dom.log"; then
  fail "the page logged to the console (an error, or a blocked load): $(grep 'CONSOLE' "$out/chromium-dom.log" | head -n 3 | tr '\n' ' ')"
fi

status=0
timeout 120 "$browser" "${flags[@]}" --window-size=1400,3000 "--screenshot=$out/index.png" "$page" \
  >"$out/chromium-shot.log" 2>&1 || status=$?
[ "$status" = 0 ] && [ -s "$out/index.png" ] ||
  fail "chromium took no screenshot (exit $status): $(grep -v dbus "$out/chromium-shot.log" | tail -n 3 | tr '\n' ' ')"

echo "check_html: ok: $cells matrix cells, script ready, no console messages, nothing injected ran"
echo "check_html: screenshot: $out/index.png"
