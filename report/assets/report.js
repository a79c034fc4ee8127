// index.html's script: inlined into the page by CMake (html_assets.cc.in). The page is complete
// without it (everything is rendered in C++); this only adds copy buttons, the row filter and the
// click from a matrix cell to its rows. #nc-js-status records whether it ran cleanly
// (data-state="ready") or hit an error (data-state="error"): the browser test reads it.
(function () {
  'use strict';
  var status = document.getElementById('nc-js-status');
  var errors = 0;
  window.addEventListener('error', function (event) {
    errors += 1;
    status.setAttribute('data-state', 'error');
    status.setAttribute('data-errors', String(errors));
    status.textContent = 'script error: ' + (event && event.message ? event.message : 'unknown');
    status.hidden = false;
  });

  function copyText(text, done) {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text, done); });
      return;
    }
    fallbackCopy(text, done);
  }
  function fallbackCopy(text, done) {
    var area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.appendChild(area);
    area.select();
    try { document.execCommand('copy'); done(); } catch (e) { /* the text stays selectable by hand */ }
    document.body.removeChild(area);
  }
  Array.prototype.forEach.call(document.querySelectorAll('button.copy'), function (button) {
    button.addEventListener('click', function () {
      copyText(button.getAttribute('data-copy') || '', function () {
        button.textContent = 'Copied';
        button.classList.add('done');
        window.setTimeout(function () { button.textContent = 'Copy'; button.classList.remove('done'); }, 1500);
      });
    });
  });

  var filter = document.getElementById('row-filter');
  var rows = document.querySelectorAll('table.rows tbody tr');
  var counter = document.getElementById('row-count');
  function applyFilter() {
    var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    Array.prototype.forEach.call(rows, function (row) {
      var text = (row.getAttribute('data-search') || '').toLowerCase();
      var match = words.every(function (w) { return text.indexOf(w) >= 0; });
      row.classList.toggle('hidden', !match);
      if (match) shown += 1;
    });
    counter.textContent = shown + ' of ' + rows.length + ' rows';
  }
  if (filter) {
    filter.addEventListener('input', applyFilter);
    applyFilter();
  }

  Array.prototype.forEach.call(document.querySelectorAll('td.cell[data-impl]'), function (cell) {
    cell.addEventListener('click', function () {
      if (!filter) return;
      filter.value = cell.getAttribute('data-impl') + ' ' + cell.getAttribute('data-op');
      applyFilter();
      var details = document.getElementById('rows-details');
      if (details) details.open = true;
      document.getElementById('rows').scrollIntoView({behavior: 'smooth'});
    });
  });

  if (errors === 0) status.setAttribute('data-state', 'ready');
}());
