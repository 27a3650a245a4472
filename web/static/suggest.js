// Progressive enhancement: fills the search boxes' <datalist> with matching titles.
// Pages work fully without it.
(function () {
  var list = document.getElementById("goi-y");
  if (!list || !window.fetch) return;
  var timer, last = "";
  document.addEventListener("input", function (e) {
    var box = e.target;
    if (!box || box.getAttribute("list") !== "goi-y") return;
    clearTimeout(timer);
    timer = setTimeout(function () {
      var q = box.value.trim();
      if (q.length < 2 || q === last) return;
      last = q;
      fetch("/api/suggest?q=" + encodeURIComponent(q))
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (items) {
          list.textContent = "";
          items.forEach(function (s) {
            var o = document.createElement("option");
            o.value = s.title;
            list.appendChild(o);
          });
        })
        .catch(function () {});
    }, 150);
  });
})();
