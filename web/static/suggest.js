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

// The box may have no clock of its own: phones tell it the time (at most every 10 minutes).
(function () {
  if (!navigator.sendBeacon) return;
  try {
    var last = +localStorage.getItem("hl-clock") || 0, now = Date.now();
    if (now - last < 600000 && now >= last) return;
    localStorage.setItem("hl-clock", String(now));
  } catch (e) { /* private mode: report anyway */ }
  navigator.sendBeacon("/api/clock", "t=" + Date.now());
})();
