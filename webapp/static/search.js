// Filters without reloading the page: when a filter changes, fetch only the result section.
// Without JavaScript the form submits as usual.
(function () {
  "use strict";
  var form = document.getElementById("search");
  var results = document.getElementById("results");
  if (!form || !results || !window.fetch) { return; }
  var pending = null;

  function refresh() {
    var params = new URLSearchParams(new FormData(form));
    if (!params.get("text")) { return; }
    var url = form.action + "?" + params.toString();
    if (pending) { pending.abort(); }
    pending = new AbortController();
    results.setAttribute("aria-busy", "true");
    params.set("partial", "1");
    fetch(form.action + "?" + params.toString(), {signal: pending.signal})
      .then(function (r) { return r.text(); })
      .then(function (html) {
        results.innerHTML = html;
        results.removeAttribute("aria-busy");
        history.replaceState(null, "", url);
      })
      .catch(function () { results.removeAttribute("aria-busy"); });
  }

  form.addEventListener("change", function (event) {
    if (event.target && event.target.id !== "text") { refresh(); }
  });
}());
