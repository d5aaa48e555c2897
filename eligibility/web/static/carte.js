// Draws the point and the quartier perimeters around it with Leaflet (bundled), on a plain
// background unless the operator configured a tile URL. No request leaves this server otherwise.
(function () {
  "use strict";
  var modes = document.querySelectorAll("input[name=mode]");
  function showMode() {
    var mode = document.querySelector("input[name=mode]:checked");
    document.querySelectorAll("[data-mode]").forEach(function (el) {
      var on = mode && el.getAttribute("data-mode") === mode.value;
      el.hidden = !on;
      el.querySelectorAll("input").forEach(function (i) { i.disabled = !on; });
    });
  }
  modes.forEach(function (m) { m.addEventListener("change", showMode); });
  if (modes.length) showMode();

  var dataEl = document.getElementById("carte-donnees");
  if (!dataEl || !window.L) return;
  var d = JSON.parse(dataEl.textContent);
  var note = document.getElementById("carte-note");
  var lon = parseFloat(d.lon), lat = parseFloat(d.lat);
  if (isNaN(lon) || isNaN(lat)) { note.textContent = "Pas de point à afficher."; return; }
  var map = L.map("carte", { attributionControl: !!d.tile_url, keyboard: true }).setView([lat, lon], 15);
  if (d.tile_url) {
    L.tileLayer(d.tile_url, { maxZoom: 19, attribution: d.tile_attribution || "" }).addTo(map);
  }
  var params = new URLSearchParams({ lon: lon, lat: lat, radius_m: 2500 });
  if (d.date) params.set("date", d.date);
  fetch("/api/perimeters?" + params.toString())
    .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); })
    .then(function (res) {
      if (!res.ok) { note.textContent = "Périmètres indisponibles : " + res.body.error.message; return; }
      var layer = L.geoJSON(res.body, {
        style: function (f) {
          var mine = f.properties && f.properties.code === d.quartier;
          return { color: mine ? "#000091" : "#6a6a6a", weight: mine ? 3 : 1.5, fillOpacity: mine ? 0.25 : 0.08 };
        },
        onEachFeature: function (f, l) { if (f.properties) l.bindTooltip(f.properties.name + " (" + f.properties.code + ")"); }
      }).addTo(map);
      var n = (res.body.features || []).length;
      note.textContent = (d.tile_url ? "" : "Fond de carte neutre. ") + n + " périmètre(s) de quartier prioritaire à moins de 2,5 km.";
      if (n) map.fitBounds(layer.getBounds().extend([lat, lon]), { maxZoom: 16, padding: [10, 10] });
    })
    .catch(function () { note.textContent = "Périmètres indisponibles."; });
  L.circleMarker([lat, lon], { radius: 7, color: "#ce0500", weight: 3, fillOpacity: 0.9 }).addTo(map).bindTooltip("Point demandé");
})();
