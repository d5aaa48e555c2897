// Sends the CSV, then reads the result stream as it comes: progress = result lines received over
// input lines sent (one output row per input row). The finished file is offered for download.
(function () {
  "use strict";
  var form = document.getElementById("form-lot");
  var bar = document.getElementById("progres"), text = document.getElementById("progres-texte");
  var link = document.getElementById("telecharger"), box = document.getElementById("suivi");
  function countLines(s) { var n = 0; for (var i = 0; i < s.length; i++) if (s.charCodeAt(i) === 10) n++; return n; }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var file = document.getElementById("fichier").files[0];
    if (!file) { text.textContent = "Choisissez un fichier."; return; }
    var url = document.getElementById("traitement").value;
    var body = new FormData();
    body.append("file", file);
    var date = document.getElementById("date-lot").value;
    if (date) body.append("date", date);
    box.hidden = false; link.hidden = true; bar.value = 0;
    text.textContent = "Envoi du fichier…";
    file.text().then(function (content) {
      var total = Math.max(countLines(content.replace(/\n+$/, "") + "\n") - 1, 1);
      return fetch(url, { method: "POST", body: body }).then(function (r) {
        if (!r.ok) return r.json().then(function (j) { throw new Error(j.error.message + (j.error.field ? " (champ « " + j.error.field + " »)" : "")); });
        var reader = r.body.getReader(), decoder = new TextDecoder(), parts = [], seen = 0;
        function pump() {
          return reader.read().then(function (chunk) {
            if (chunk.done) return;
            var s = decoder.decode(chunk.value, { stream: true });
            parts.push(s); seen += countLines(s);
            var done = Math.min(Math.max(seen - 1, 0), total);
            bar.value = done / total;
            text.textContent = done + " ligne(s) traitée(s) sur " + total;
            return pump();
          });
        }
        return pump().then(function () {
          parts.push(decoder.decode());
          var blob = new Blob(parts, { type: "text/csv" });
          link.href = URL.createObjectURL(blob);
          var name = /filename="([^"]+)"/.exec(r.headers.get("content-disposition") || "");
          link.download = name ? name[1] : "resultats.csv";
          link.hidden = false; bar.value = 1;
          text.textContent = "Terminé : " + total + " ligne(s) traitée(s).";
          link.focus();
        });
      });
    }).catch(function (e) { text.textContent = "Erreur : " + e.message; });
  });
})();
