// Draws the answer with Leaflet (bundled): the commune outline, the quartier perimeters around the point
// (the answer's quartier named on the map), the point, a scale, French control labels. On a plain
// background unless the operator configured a tile URL: otherwise no request leaves this server.
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
  var lon = parseFloat(d.lon), lat = parseFloat(d.lat), hasPoint = !(isNaN(lon) || isNaN(lat));
  var map = L.map("carte", { attributionControl: !!d.tile_url, keyboard: true, zoomControl: false });
  L.control.zoom({ zoomInTitle: "Zoom avant", zoomOutTitle: "Zoom arrière" }).addTo(map);
  L.control.scale({ imperial: false, maxWidth: 120 }).addTo(map);
  if (d.tile_url) {
    L.tileLayer(d.tile_url, { maxZoom: 19, attribution: d.tile_attribution || "" }).addTo(map);
  }
  if (hasPoint) map.setView([lat, lon], 16);

  function json(url) {
    return fetch(url).then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); });
  }
  var mine = { color: "#000091", weight: 3, fillOpacity: 0.25 }, other = { color: "#6a6a6a", weight: 1.5, fillOpacity: 0.08 };
  function label(layer, name, code) {
    layer.bindTooltip(name + " (" + code + ")", { permanent: true, direction: "center", className: "etiquette-quartier" });
  }

  if (d.commune) {
    json("/api/communes/" + encodeURIComponent(d.commune) + "/contour").then(function (res) {
      if (!res.ok || !res.body.geometry) return;
      L.geoJSON(res.body.geometry, { interactive: false, style: { color: "#161616", weight: 2, dashArray: "6 5", fill: false } })
        .addTo(map).bringToBack();
    }).catch(function () { /* the outline is context only */ });
  }

  if (d.geometry) {  // a quartier asked by its code: its perimeter, no point
    var layer = L.geoJSON(d.geometry, { style: mine }).addTo(map);
    label(layer, d.quartier_name, d.quartier);
    map.fitBounds(layer.getBounds(), { padding: [20, 20] });
    note.textContent = (d.tile_url ? "" : "Fond de carte neutre. ") + "Périmètre du quartier " + d.quartier_name + ".";
    return;
  }
  if (!hasPoint) { note.textContent = "Pas de point à afficher."; return; }
  var params = new URLSearchParams({ lon: lon, lat: lat, radius_m: 2500 });
  if (d.date) params.set("date", d.date);
  json("/api/perimeters?" + params.toString()).then(function (res) {
    if (!res.ok) { note.textContent = "Périmètres indisponibles : " + res.body.error.message; return; }
    L.geoJSON(res.body, {
      style: function (f) { return f.properties && f.properties.code === d.quartier ? mine : other; },
      onEachFeature: function (f, l) {
        if (!f.properties) return;
        if (f.properties.code === d.quartier) label(l, f.properties.name, f.properties.code);
        else l.bindTooltip(f.properties.name + " (" + f.properties.code + ")");
      }
    }).addTo(map);
    var n = (res.body.features || []).length;
    note.textContent = (d.tile_url ? "" : "Fond de carte neutre. ") +
      (n ? n + " périmètre(s) de quartier prioritaire à moins de 2,5 km." : "Aucun quartier prioritaire à moins de 2,5 km.");
  }).catch(function () { note.textContent = "Périmètres indisponibles."; });
  L.circleMarker([lat, lon], { radius: 7, color: "#ffffff", weight: 2, fillColor: "#ce0500", fillOpacity: 1 })
    .addTo(map).bindTooltip("Lieu demandé");
})();
