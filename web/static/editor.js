// Progressive enhancement for the material editor: beside each attached file, a caption box
// and a "Chèn vào bài" button that puts the file's Markdown line into the text where the
// cursor is. Without this script the line is shown for copying by hand.
(function () {
  var body = document.getElementById("body");
  if (!body || body.selectionStart === undefined) return;
  var rows = document.querySelectorAll("[data-md-file]");
  Array.prototype.forEach.call(rows, function (row) {
    var line = row.querySelector(".md-line");
    var caption = row.querySelector(".md-caption");
    var label = row.querySelector("label");
    if (!line) return;
    var image = row.hasAttribute("data-md-image");
    var markdown = function () {
      // Brackets would end the caption early.
      var text = caption ? caption.value.replace(/[\[\]\n]/g, " ").trim() : "";
      text = text || row.getAttribute("data-md-text");
      return (image ? "!" : "") + "[" + text + "](" + row.getAttribute("data-md-file") + ")";
    };
    if (caption) {
      caption.hidden = false;
      if (label) label.hidden = false;
      caption.addEventListener("input", function () { line.textContent = markdown(); });
    }
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = "Chèn vào bài";
    button.addEventListener("click", function () {
      // The text keeps where its cursor was while the button is pressed.
      var start = body.selectionStart, end = body.selectionEnd, v = body.value;
      var before = v.slice(0, start), after = v.slice(end);
      // On a paragraph of its own, so a picture is not glued to the words around it.
      var lead = before === "" || /\n\n$/.test(before) ? "" : /\n$/.test(before) ? "\n" : "\n\n";
      var tail = /^\n\n/.test(after) ? "" : /^\n/.test(after) ? "\n" : "\n\n";
      var text = lead + markdown() + tail;
      body.value = before + text + after;
      var at = before.length + text.length;
      body.focus();
      body.setSelectionRange(at, at);
    });
    line.parentNode.insertBefore(button, line.nextSibling);
  });
})();
