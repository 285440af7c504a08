/* The gap map page (planner.maps): reads the JSON block #planner-data and draws it with
 * Leaflet. Every text in the data was escaped in Python; popup rows are joined as is.
 * Exposes window.plannerMap, window.plannerLayers (id -> layer) and
 * window.plannerSetMode("status" | "shortfall") for the browser tests. */
(function () {
    "use strict";
    var DATA = JSON.parse(document.getElementById("planner-data").textContent);
    var C = DATA.colours;
    var mode = "status";
    var small = window.innerWidth < 1500 || window.innerHeight < 900;

    var map = L.map("planner-map", {zoomControl: false});
    L.control.zoom({position: "bottomright"}).addTo(map);
    L.control.scale({position: "bottomright", imperial: false}).addTo(map);

    function pane(name, z, passive, container) {
        var p = map.createPane(name, container);
        p.style.zIndex = String(z);
        if (passive) { p.style.pointerEvents = "none"; }
        return p;
    }
    pane("plannerBase", 250, true);
    pane("plannerCircles", 350, true);
    pane("plannerFacilities", 450, false);
    // Popups live outside the map pane, above the panels (Leaflet's controls are a
    // separate stacking layer above the whole map pane); kept in step with the map pane.
    var popupPane = pane("plannerPopups", 1100, false, map.getContainer());
    function syncPopups() {
        L.DomUtil.setPosition(popupPane, L.DomUtil.getPosition(map.getPane("mapPane")));
    }
    map.on("move zoom viewreset zoomend moveend resize", syncPopups);

    /* ------------------------------------------------------------ decoding */
    function decodeLine(text, closed) {
        var out = [], i = 0, lat = 0, lng = 0;
        function next() {
            var result = 0, shift = 0, b;
            do {
                b = text.charCodeAt(i++) - 63;
                result |= (b & 31) << shift;
                shift += 5;
            } while (b >= 32);
            return (result & 1) ? ~(result >> 1) : (result >> 1);
        }
        while (i < text.length) {
            lat += next();
            lng += next();
            out.push([lng / 1e5, lat / 1e5]);
        }
        if (closed && out.length) { out.push(out[0]); }
        return out;
    }
    function decode(data) {
        data.features.forEach(function (f) {
            var g = f.geometry;
            if (!g) { return; }
            if (g.polyline !== undefined) {
                g.coordinates = decodeLine(g.polyline, false);
                delete g.polyline;
            } else if (g.polylines !== undefined && g.type === "MultiLineString") {
                g.coordinates = g.polylines.map(function (t) { return decodeLine(t, false); });
                delete g.polylines;
            } else if (g.polylines !== undefined) {
                var polygon = function (rings) {
                    return rings.map(function (r) { return decodeLine(r, true); });
                };
                g.coordinates = g.type === "MultiPolygon" ? g.polylines.map(polygon)
                                                          : polygon(g.polylines);
                delete g.polylines;
            }
        });
        return data;
    }

    /* ------------------------------------------------------------ styles */
    function kindColour(k) { return C.kind[k] || C.otherKind; }
    var styles = {
        community: function (f) {
            var p = f.properties;
            if (mode === "shortfall") {
                return {color: "#666666", weight: 1, opacity: 0.8, fill: true,
                        fillColor: C.shortfall[p._sq], fillOpacity: 0.85};
            }
            var c = C.status[p._st];
            return {color: c, weight: 1.5, opacity: 0.9, fill: true, fillColor: c,
                    fillOpacity: p._op};
        },
        facility: function (f) {
            var p = f.properties, c = kindColour(p._k), s;
            if (p._pl) {
                s = {color: c, weight: 2.5, dashArray: "4 3", fillColor: "#ffffff",
                     fillOpacity: 0.9};
            } else {
                s = {color: "#ffffff", weight: 1.5, fillColor: c, fillOpacity: 0.95};
            }
            if (p._us) { s.color = C.undersize; s.weight = 3; }
            s.radius = p._r; s.opacity = 1; s.fill = true;
            return s;
        },
        circle: function (f) {
            var c = kindColour(f.properties._k);
            return {color: c, weight: 1, opacity: 0.8, fillColor: c, fillOpacity: 0.08};
        },
        change: function () {
            var spec = this;
            return {color: spec.better ? "#1a7f37" : "#c62828", weight: 3.5, opacity: 1,
                    fill: true, fillOpacity: 0, dashArray: spec.better ? null : "6 3"};
        },
        styled: function (f) {
            var p = f.properties;
            return {color: p._c, weight: p._w === undefined ? 2 : p._w, opacity: 0.95,
                    fill: !!p._f, fillColor: p._f || p._c,
                    fillOpacity: p._fo === undefined ? 0.6 : p._fo,
                    dashArray: p._d || null, radius: p._r || 6};
        },
        street: function () { return {color: C.street, weight: 1, opacity: 0.75}; },
        water: function (f) {
            var line = f.geometry && /LineString$/.test(f.geometry.type);
            return {color: C.water, weight: line ? 3 : 0.5, opacity: 1, fill: !line,
                    fillColor: C.water, fillOpacity: 0.85};
        },
        boundary: function () {
            return {color: C.boundary, weight: 2, opacity: 0.8, dashArray: "8 5", fill: false};
        }
    };

    /* ------------------------------------------------------------ layers */
    var baseRenderer = L.canvas({pane: "plannerBase", padding: 0.3});
    function popupHtml(spec, p) {
        return "<table>" + spec.popup.map(function (row) {
            return "<tr><th>" + row[1] + "</th><td>" + p[row[0]] + "</td></tr>";
        }).join("") + "</table>";
    }
    function makeLayer(spec) {
        var style = styles[spec.kind].bind(spec);
        var cls = {community: "planner-community planner-status-" + spec.status,
                   change: "planner-change planner-" + spec.id,
                   facility: "planner-facility planner-kind-" + spec.facilityKind,
                   circle: "planner-circle",
                   styled: "planner-styled planner-" + spec.id}[spec.kind] || "";
        var options = {style: style, className: cls};
        if (spec.group === "base") {
            options.renderer = baseRenderer;
            options.interactive = false;
        } else if (spec.kind === "circle") {
            options.pane = "plannerCircles";
            options.interactive = false;
        } else if (spec.kind === "facility") {
            options.pane = "plannerFacilities";
        }
        if (spec.kind === "facility" || spec.kind === "community" || spec.kind === "change" ||
                spec.kind === "styled") {
            options.pointToLayer = function (f, latlng) {
                var s = Object.assign({className: cls, pane: options.pane || "overlayPane",
                                       radius: 7}, style(f));
                return L.circleMarker(latlng, s);
            };
        }
        var layer;
        if (spec.popup.length) {
            options.onEachFeature = function (f, path) {
                path.on({
                    mouseover: function (e) { e.target.setStyle({weight: 3.5}); },
                    mouseout: function (e) { layer.resetStyle(e.target); }
                });
            };
        }
        layer = L.geoJSON(decode(spec.data), options);
        if (spec.popup.length) {
            layer.bindPopup(function (path) { return popupHtml(spec, path.feature.properties); },
                            {className: "planner-popup", maxWidth: 380, pane: "plannerPopups",
                             autoPanPadding: [20, 20]});
        }
        if (spec.tooltip) {
            layer.bindTooltip(function (path) { return path.feature.properties[spec.tooltip]; },
                              {sticky: true});
        }
        return layer;
    }

    var layers = {}, overlays = {};
    DATA.layers.forEach(function (spec) {
        var layer = makeLayer(spec);
        layers[spec.id] = layer;
        overlays[spec.label] = layer;
        if (spec.show) { layer.addTo(map); }
    });
    var bases = {};
    if (DATA.tiles.length) {
        bases["离线 offline (无在线底图 no tiles)"] = L.layerGroup().addTo(map);
        DATA.tiles.forEach(function (t) {
            bases[t.label] = L.layerGroup(t.urls.map(function (u) {
                return L.tileLayer(u, Object.assign({attribution: t.attribution}, t.options));
            }));
        });
    }
    L.control.layers(bases, overlays, {position: "topright", collapsed: small}).addTo(map);

    /* ------------------------------------------------------------ status / shortfall switch */
    function setMode(next) {
        mode = next === "shortfall" ? "shortfall" : "status";
        DATA.layers.forEach(function (spec) {
            if (spec.kind === "community") { layers[spec.id].setStyle(styles.community); }
        });
        document.body.classList.toggle("planner-mode-shortfall", mode === "shortfall");
        var input = document.querySelector("input[name=planner-mode][value=" + mode + "]");
        if (input) { input.checked = true; }
    }
    var switcher = L.control({position: "topright"});
    switcher.onAdd = function () {
        var div = L.DomUtil.create("div", "planner-panel planner-switch");
        div.innerHTML = "<b>小区着色 colour by</b><br>" +
            "<label><input type='radio' name='planner-mode' value='status' checked> " +
            "服务状态 service status</label><br>" +
            "<label><input type='radio' name='planner-mode' value='shortfall'> " +
            "面积缺口 shortfall m²</label>";
        L.DomEvent.disableClickPropagation(div);
        div.addEventListener("change", function (e) { setMode(e.target.value); });
        return div;
    };
    switcher.addTo(map);

    /* ------------------------------------------------------------ panels */
    function panel(id, position) {
        var el = document.getElementById(id);
        if (!el) { return; }
        var control = L.control({position: position});
        control.onAdd = function () {
            L.DomEvent.disableClickPropagation(el);
            L.DomEvent.disableScrollPropagation(el);
            return el;
        };
        control.addTo(map);
    }
    panel("planner-headline", "topleft");
    panel("planner-legend", "bottomleft");
    if (small) {
        var legend = document.querySelector("#planner-legend > details");
        if (legend) { legend.open = false; }
    }
    document.body.classList.toggle("planner-small", small);

    /* ------------------------------------------------------------ view */
    function widest(corner) {
        var boxes = map.getContainer().querySelectorAll(corner + " .leaflet-control");
        return Array.prototype.reduce.call(boxes, function (w, el) {
            return Math.max(w, el.offsetWidth);
        }, 0);
    }
    if (DATA.bounds) {
        var size = map.getSize();
        var left = Math.max(widest(".leaflet-top.leaflet-left"),
                            widest(".leaflet-bottom.leaflet-left"));
        var right = Math.max(widest(".leaflet-top.leaflet-right"),
                             widest(".leaflet-bottom.leaflet-right"));
        var options = {maxZoom: DATA.maxFitZoom, padding: [30, 30]};
        if (left + right + 300 < size.x) {
            options = {maxZoom: DATA.maxFitZoom, paddingTopLeft: [left + 15, 30],
                       paddingBottomRight: [right + 15, 30]};
        }
        map.fitBounds(DATA.bounds, options);
    } else {
        map.setView([35, 105], 4);
    }
    syncPopups();

    window.plannerMap = map;
    window.plannerLayers = layers;
    window.plannerSetMode = setMode;
    window.plannerReady = true;
})();
