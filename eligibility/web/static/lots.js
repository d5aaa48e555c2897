// Sends the file, then reads the result stream as it comes: progress = result lines received over
// input lines sent (one output row per input row). At the end: counts per status or decision, a preview
// of the first rows, and the French CSV (« ; », BOM) to download.
(function () {
  "use strict";
  var form = document.getElementById("form-lot");
  var bar = document.getElementById("progres"), text = document.getElementById("progres-texte");
  var link = document.getElementById("telecharger"), box = document.getElementById("suivi");
  var summary = document.getElementById("bilan"), counts = document.getElementById("compteurs");
  var preview = document.getElementById("apercu"), found = document.getElementById("colonnes-lues");
  var PREVIEW_ROWS = 10;
  function countLines(s) { var n = 0; for (var i = 0; i < s.length; i++) if (s.charCodeAt(i) === 10) n++; return n; }
  function fmt(n) { return n.toLocaleString("fr-FR"); }

  // A small CSV reader for our own output (« ; », quotes doubled): enough for counts and a preview. Each row
  // keeps the offset where it starts, so that the end row can be cut off the file offered.
  function parse(csv) {
    var rows = [], row = [], cell = "", quoted = false, start = 0;
    for (var i = 0; i < csv.length; i++) {
      var c = csv[i];
      if (quoted) {
        if (c === '"' && csv[i + 1] === '"') { cell += '"'; i++; }
        else if (c === '"') quoted = false;
        else cell += c;
      } else if (c === '"') quoted = true;
      else if (c === ";") { row.push(cell); cell = ""; }
      else if (c === "\n") { row.push(cell.replace(/\r$/, "")); row.start = start; rows.push(row); row = []; cell = ""; start = i + 1; }
      else cell += c;
    }
    if (cell || row.length) { row.push(cell); row.start = start; rows.push(row); }
    return rows;
  }

  // The service ends every result with an end row (docs/web.md): « fin : résultat complet » with the number
  // of result rows before it, or « fin : résultat incomplet » with the reason. No end row, or another count,
  // means the stream was cut: the page then shows an error and offers no file.
  var COMPLETE = "fin : résultat complet", INCOMPLETE = "fin : résultat incomplet";
  function checked(csv) {
    csv = csv.replace(/^\ufeff/, "");
    var rows = parse(csv), header = rows[0] || [];
    var key = header.indexOf("statut") >= 0 ? header.indexOf("statut") : header.indexOf("decision");
    var end = rows.length > 1 ? rows[rows.length - 1] : null;
    if (!end || (end[key] !== COMPLETE && end[key] !== INCOMPLETE))
      throw new Error("résultat incomplet : la réponse s'est interrompue avant la fin ; aucun fichier n'est proposé, envoyez-le à nouveau");
    if (end[key] === INCOMPLETE) throw new Error(end[header.indexOf("erreur")] || "traitement interrompu");
    var expected = +end[header.indexOf("ligne")], n = rows.length - 2;
    if (expected !== n) throw new Error("résultat incomplet : " + fmt(n) + " ligne(s) reçue(s) sur " + fmt(expected));
    return { header: header, key: key, rows: rows.slice(1, -1), csv: csv.slice(0, end.start) };
  }

  function show(result) {
    var rows = result.rows, header = result.header, key = result.key;
    var tally = {};
    rows.forEach(function (r) { var k = r[key] || "—"; tally[k] = (tally[k] || 0) + 1; });
    counts.textContent = "";
    Object.keys(tally).sort(function (a, b) { return tally[b] - tally[a]; }).forEach(function (k) {
      var li = document.createElement("li");
      var strong = document.createElement("strong");
      strong.textContent = fmt(tally[k]);
      li.appendChild(strong);
      li.appendChild(document.createTextNode(" " + k));
      counts.appendChild(li);
    });
    preview.textContent = "";
    var caption = preview.createCaption();
    caption.textContent = "Les " + Math.min(PREVIEW_ROWS, rows.length) + " premières lignes sur " + fmt(rows.length);
    var head = preview.createTHead().insertRow();
    header.forEach(function (h) { var th = document.createElement("th"); th.scope = "col"; th.textContent = h; head.appendChild(th); });
    var body = preview.createTBody();
    rows.slice(0, PREVIEW_ROWS).forEach(function (r) {
      var tr = body.insertRow();
      r.forEach(function (v) { tr.insertCell().textContent = v; });
    });
    return rows.length;
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var file = document.getElementById("fichier").files[0];
    box.hidden = false; summary.hidden = true; found.hidden = true; bar.value = 0;
    if (!file) { text.textContent = "Choisissez d'abord un fichier."; text.focus(); return; }
    var body = new FormData(form);
    text.textContent = "Envoi du fichier…";
    box.setAttribute("tabindex", "-1"); box.scrollIntoView({ block: "start" });
    file.text().then(function (content) {
      var total = Math.max(countLines(content.replace(/\n+$/, "") + "\n") - 1, 1);
      return fetch(form.action, { method: "POST", body: body }).then(function (r) {
        if (!r.ok) return r.json().then(function (j) { throw new Error(j.error.message); });
        var info = {};
        try { info = JSON.parse(r.headers.get("x-qpv-colonnes") || "{}"); } catch (e) { info = {}; }
        var names = Object.keys(info.recognised || {}).map(function (c) { return "« " + c + " »"; });
        if (names.length) { found.textContent = "Colonnes reconnues : " + names.join(", ") + "."; found.hidden = false; }
        var reader = r.body.getReader(), decoder = new TextDecoder(), parts = [], seen = 0;
        function pump() {
          return reader.read().then(function (chunk) {
            if (chunk.done) return;
            var s = decoder.decode(chunk.value, { stream: true });
            parts.push(s); seen += countLines(s);
            var done = Math.min(Math.max(seen - 1, 0), total);
            bar.value = done / total;
            text.textContent = fmt(done) + " ligne(s) traitée(s) sur " + fmt(total);
            return pump();
          });
        }
        return pump().then(function () {
          parts.push(decoder.decode());
          var result = checked(parts.join(""));
          var n = show(result);
          // Keep the BOM: Excel reads the file as UTF-8 only with it. The end row is not part of the file.
          var blob = new Blob(["\ufeff" + result.csv], { type: "text/csv;charset=utf-8" });
          link.href = URL.createObjectURL(blob);
          var name = /filename="([^"]+)"/.exec(r.headers.get("content-disposition") || "");
          link.download = name ? name[1] : "resultats.csv";
          bar.value = 1;
          text.textContent = "Terminé : " + fmt(n) + " ligne(s) traitée(s).";
          document.getElementById("bilan-texte").textContent = fmt(n) + " ligne(s) traitée(s), une réponse par ligne du fichier.";
          summary.hidden = false;
          box.focus();
        });
      });
    }).catch(function (e) {
      text.textContent = "Erreur : " + e.message;
      box.focus();
    });
  });
})();
