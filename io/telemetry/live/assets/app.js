// spikeloop's live page: an MQTT client over WebSocket that decodes the
// daemon's msgpack telemetry (io/telemetry/payloads.go) and draws it.
// Everything it shows and does goes through the broker with the user
// logged in here; commands are offered only when the broker grants that
// user the command replies (its ACL), and each is refused by the broker
// for anyone else. window.spikeloop holds the page's state (read by the
// browser test).
"use strict";

(function () {
  const WINDOW_SAMPLES = 300; // rates and loop charts: last 300 samples
  const RASTER_MS = 10000; // raster: last 10 s of network time
  const COLORS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#9a6324"];
  const VEHICLE = "#1f5fff";
  // Drawing is the page's main cost (canvas and charts, in software on a
  // board's browser): data is kept as it arrives, drawn at most every
  // DRAW_MS, so that several pages on the daemon's own machine cost it
  // little CPU.
  const DRAW_MS = 500;

  const $ = (id) => document.getElementById(id);
  const state = (window.spikeloop = {
    config: null,
    client: null,
    user: "",
    connected: false,
    canCommand: false,
    samples: 0, // telemetry samples received since the page loaded
    last: null, // the last sample, decoded
    spikes: 0, // spikes received
    rasterPoints: 0, // spikes in the raster window
    vehicle: null, // {seq, x, y, heading, cx, cy}: the last pose drawn, and where
    transform: null, // {scale, ox, oy}: canvas px = ox + x*scale, oy - y*scale
    replies: [],
    publishErrors: [],
    errors: [],
  });

  // Rolling series: x is network time in s.
  const series = { t: [], rates: {}, pops: [], p50: [], p99: [], p999: [] };
  const raster = { t: [], row: [], pop: [], popIndex: {}, sizes: [], names: [] };
  const path = [];
  let ratesPlot = null;
  let loopPlot = null;
  let cmdID = 0;

  function topic(s) {
    return state.config.prefix + s;
  }

  function setConn(text, on) {
    const el = $("conn");
    el.textContent = text;
    el.className = "state " + (on ? "on" : "off");
  }

  function connect(user, password) {
    if (state.client) {
      state.client.end(true);
    }
    const c = state.config;
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.hostname + ":" + c.websocket_port + c.websocket_path;
    const opts = {
      protocolVersion: 5,
      clean: true,
      clientId: "live-" + Math.random().toString(16).slice(2, 10),
      reconnectPeriod: 2000,
      connectTimeout: 5000,
    };
    if (user) {
      opts.username = user;
      opts.password = password;
    }
    state.user = user || "";
    state.canCommand = false;
    showControls();
    const client = mqtt.connect(url, opts);
    state.client = client;
    setConn("connecting…", false);
    client.on("connect", () => {
      state.connected = true;
      setConn("connected" + (user ? " as " + user : " (anonymous)"), true);
      client.subscribe([topic("status"), topic("telemetry"), topic("spikes")], { qos: 0 }, (err) => {
        if (err) state.errors.push(String(err));
      });
      // The broker grants the replies only to users who may command:
      // that grant, not the page, decides whether controls appear.
      client.subscribe(topic("cmd/+/reply"), { qos: 1 }, (err) => {
        state.canCommand = !err;
        showControls();
      });
    });
    client.on("close", () => {
      state.connected = false;
      setConn("disconnected", false);
    });
    client.on("error", (err) => {
      state.errors.push(String(err));
      setConn("error: " + err.message, false);
    });
    client.on("message", onMessage);
  }

  function onMessage(t, payload) {
    let msg;
    try {
      msg = MessagePack.decode(payload);
    } catch (e) {
      state.errors.push("decode " + t + ": " + e);
      return;
    }
    const p = state.config.prefix;
    if (t === p + "telemetry") onTelemetry(msg);
    else if (t === p + "spikes") onSpikes(msg);
    else if (t === p + "status") $("run").textContent = msg.state + " · run " + msg.run + " · " + msg.software;
    else if (t.startsWith(p + "cmd/") && t.endsWith("/reply")) onReply(msg);
  }

  function onTelemetry(s) {
    state.samples++;
    state.last = s;
    $("samples").textContent = state.samples + " samples (seq " + s.seq + ")";
    $("dropped").textContent = "dropped by the daemon's queue: " + s.dropped;
    const x = s.time_ms / 1000;
    series.t.push(x);
    for (const name of Object.keys(s.rates || {}).sort()) {
      if (!(name in series.rates)) {
        series.rates[name] = series.t.slice(0, -1).map(() => null);
        series.pops.push(name);
        ratesPlot = null; // a new series: rebuild the chart
      }
    }
    for (const name of series.pops) series.rates[name].push(s.rates && name in s.rates ? s.rates[name] : null);
    const l = s.loop || {};
    series.p50.push(l.lateness_p50_us);
    series.p99.push(l.lateness_p99_us);
    series.p999.push(l.lateness_p999_us);
    if (series.t.length > WINDOW_SAMPLES) {
      for (const a of [series.t, series.p50, series.p99, series.p999, ...Object.values(series.rates)]) a.shift();
    }
    $("loop-text").textContent =
      "lateness p50 " + fmt(l.lateness_p50_us) + " µs, p99 " + fmt(l.lateness_p99_us) + " µs, p99.9 " + fmt(l.lateness_p999_us) +
      " µs · overruns " + l.overruns + " · stale inputs " + l.stale_inputs +
      (s.link ? " · APU link " + s.link.frames + " frames, " + s.link.crc_errors + " CRC errors, " + s.link.retries +
        " retries, " + s.link.timeouts + " timeouts, " + s.link.reloads + " reloads, " + fmt(s.link.transfer_us) + " µs/tick" : "");
    if (s.plant && "x" in s.plant) {
      path.push([s.plant.x, s.plant.y]);
      if (path.length > 5000) path.shift();
    }
    requestDraw();
  }

  let drawPending = false;
  function requestDraw() {
    if (drawPending || document.hidden) return; // a hidden tab draws when shown again
    drawPending = true;
    setTimeout(() => {
      drawPending = false;
      drawCharts();
      drawRaster();
      const s = state.last;
      if (s && s.plant && "x" in s.plant) drawPlant(s);
    }, DRAW_MS);
  }

  function fmt(v) {
    return v === undefined || v === null ? "–" : Number(v).toFixed(1);
  }

  function chartOpts(box, names, unit) {
    const w = Math.max(300, $(box).clientWidth - 20);
    return {
      width: w,
      height: 180,
      scales: { x: { time: false } },
      series: [{ label: "network time (s)" }, ...names.map((n, i) => ({ label: n, stroke: COLORS[i % COLORS.length], width: 1.5 }))],
      axes: [{ label: "network time (s)" }, { label: unit }],
      legend: { live: false },
    };
  }

  function drawCharts() {
    const rdata = [series.t, ...series.pops.map((n) => series.rates[n])];
    if (!ratesPlot) {
      $("rates").textContent = "";
      ratesPlot = new uPlot(chartOpts("rates-box", series.pops, "Hz"), rdata, $("rates"));
    } else ratesPlot.setData(rdata);
    const ldata = [series.t, series.p50, series.p99, series.p999];
    if (!loopPlot) loopPlot = new uPlot(chartOpts("loop-box", ["p50", "p99", "p99.9"], "lateness (µs)"), ldata, $("loop"));
    else loopPlot.setData(ldata);
  }

  function onSpikes(b) {
    for (const tr of b.trains || []) {
      let pi = raster.popIndex[tr.population];
      if (pi === undefined) {
        pi = raster.names.length;
        raster.popIndex[tr.population] = pi;
        raster.names.push(tr.population);
        raster.sizes.push(0);
      }
      const n = tr.neuron || [];
      const st = tr.stamp_ms || [];
      for (let i = 0; i < n.length; i++) {
        raster.t.push(st[i]);
        raster.row.push(n[i]);
        raster.pop.push(pi);
        if (n[i] + 1 > raster.sizes[pi]) raster.sizes[pi] = n[i] + 1;
      }
      state.spikes += n.length;
    }
    if (raster.t.length > 200000) trimRaster(); // a hidden tab draws nothing: bound what it keeps
    requestDraw();
  }

  // trimRaster drops spikes older than the window; returns its start.
  function trimRaster() {
    let tmax = 0;
    for (const t of raster.t) if (t > tmax) tmax = t;
    const tmin = tmax - RASTER_MS;
    let drop = 0;
    while (drop < raster.t.length && raster.t[drop] < tmin) drop++;
    if (drop > 0) {
      raster.t.splice(0, drop);
      raster.row.splice(0, drop);
      raster.pop.splice(0, drop);
    }
    return tmin;
  }

  function drawRaster() {
    const cv = $("raster");
    const g = cv.getContext("2d");
    const W = cv.width, H = cv.height, left = 80;
    const tmin = trimRaster();
    const tmax = tmin + RASTER_MS;
    state.rasterPoints = raster.t.length;
    g.fillStyle = "#fff";
    g.fillRect(0, 0, W, H);
    const rows = raster.sizes.reduce((a, b) => a + b, 0) || 1;
    const offs = [];
    let acc = 0;
    for (const s of raster.sizes) {
      offs.push(acc);
      acc += s;
    }
    const rowH = (H - 20) / rows;
    g.font = "12px sans-serif";
    g.textBaseline = "middle";
    raster.names.forEach((name, i) => {
      g.fillStyle = COLORS[i % COLORS.length];
      g.fillText(name, 4, Math.min(H - 28, Math.max(8, H - 20 - (offs[i] + raster.sizes[i] / 2) * rowH)));
    });
    // One 2-pixel column per cell of time x neuron that holds a spike,
    // one path per population: a busy raster costs as much as a quiet
    // one (at most cols x rows rectangles, not one per spike).
    const cols = Math.floor((W - left - 4) / 2);
    const cell = new Uint8Array(cols * rows);
    for (let i = 0; i < raster.t.length; i++) {
      const c = Math.min(cols - 1, Math.floor(((raster.t[i] - tmin) / RASTER_MS) * cols));
      cell[(offs[raster.pop[i]] + raster.row[i]) * cols + c] = 1;
    }
    raster.names.forEach((_, p) => {
      g.fillStyle = COLORS[p % COLORS.length];
      g.beginPath();
      for (let r = offs[p]; r < offs[p] + raster.sizes[p]; r++) {
        const y = H - 20 - (r + 1) * rowH;
        for (let c = 0; c < cols; c++) if (cell[r * cols + c]) g.rect(left + 2 * c, y, 2, Math.max(1, rowH - 1));
      }
      g.fill();
    });
    g.fillStyle = "#777";
    g.fillText((tmin / 1000).toFixed(1) + " s", left, H - 8);
    g.textAlign = "right";
    g.fillText((tmax / 1000).toFixed(1) + " s", W - 4, H - 8);
    g.textAlign = "left";
  }

  // The plant to scale: one scale for x and y, the arena (or what was
  // seen) filling the canvas.
  function drawPlant(s) {
    const v = state.config.vehicle;
    const cv = $("plant");
    const g = cv.getContext("2d");
    const W = cv.width, H = cv.height;
    const x = s.plant.x, y = s.plant.y, hd = s.plant.heading;
    let ext = v && v.arena > 0 ? v.arena : 0;
    if (!ext) {
      ext = 1;
      const pts = v ? [v.light, v.start, ...path] : path;
      for (const [px, py] of pts) ext = Math.max(ext, Math.abs(px) * 1.2, Math.abs(py) * 1.2);
    }
    const scale = Math.min(W, H) / (2 * ext);
    const ox = W / 2, oy = H / 2;
    const X = (wx) => ox + wx * scale, Y = (wy) => oy - wy * scale;
    state.transform = { scale, ox, oy };
    g.fillStyle = "#fff";
    g.fillRect(0, 0, W, H);
    g.strokeStyle = "#eee";
    g.beginPath();
    g.moveTo(X(-ext), Y(0));
    g.lineTo(X(ext), Y(0));
    g.moveTo(X(0), Y(-ext));
    g.lineTo(X(0), Y(ext));
    g.stroke();
    if (v) {
      g.fillStyle = "#ffd400";
      g.strokeStyle = "#a08000";
      g.beginPath();
      g.arc(X(v.light[0]), Y(v.light[1]), 8, 0, 2 * Math.PI);
      g.fill();
      g.stroke();
    }
    g.strokeStyle = "#999";
    g.beginPath();
    path.forEach(([px, py], i) => (i ? g.lineTo(X(px), Y(py)) : g.moveTo(X(px), Y(py))));
    g.stroke();
    const cx = X(x), cy = Y(y);
    const r = Math.max(5, ((v && v.wheel_base) || 0.1) * scale * 0.5);
    g.strokeStyle = "#000";
    g.lineWidth = 2;
    g.beginPath();
    g.moveTo(cx, cy);
    g.lineTo(cx + Math.cos(hd) * r * 2, cy - Math.sin(hd) * r * 2);
    g.stroke();
    g.lineWidth = 1;
    g.fillStyle = VEHICLE;
    g.beginPath();
    g.arc(cx, cy, r, 0, 2 * Math.PI);
    g.fill();
    g.fillStyle = "#555";
    g.fillText("1 m", 8, H - 8);
    g.fillRect(8, H - 20, scale, 3);
    state.vehicle = { seq: s.seq, x, y, heading: hd, cx, cy };
    $("plant-text").textContent =
      "x " + x.toFixed(3) + " m, y " + y.toFixed(3) + " m, " + (s.plant.distance !== undefined ? "light at " + s.plant.distance.toFixed(3) + " m" : "");
  }

  function showControls() {
    const box = $("controls-box");
    const div = $("controls");
    div.textContent = "";
    const cmds = (state.config && state.config.commands) || [];
    box.hidden = !(state.canCommand && cmds.length > 0);
    if (box.hidden) return;
    $("cmd-user").textContent = state.user;
    for (const c of cmds) {
      const row = document.createElement("div");
      const label = document.createElement("label");
      label.textContent = c.name + " (" + c.kind + (c.target ? " of " + c.target : "") + ") ";
      row.appendChild(label);
      const takesValue = ["dc_amplitude", "poisson_rate", "bernoulli_prob"].includes(c.kind);
      let input = null;
      if (takesValue) {
        input = document.createElement("input");
        input.type = "number";
        input.id = "cmd-" + c.name;
        input.step = "any";
        if (c.min !== undefined) input.min = c.min;
        if (c.max !== undefined) input.max = c.max;
        row.appendChild(input);
      }
      const btn = document.createElement("button");
      btn.id = "cmd-" + c.name + "-send";
      btn.textContent = takesValue ? "set" : c.name;
      btn.onclick = () => publishCommand(c.name, takesValue ? Number(input.value) : null);
      row.appendChild(btn);
      div.appendChild(row);
    }
  }

  // publishCommand sends a Command payload; the broker's ACL decides
  // whether it reaches the daemon, the daemon's allow-list whether it
  // is carried out (the reply says).
  function publishCommand(name, value) {
    const id = "live-" + ++cmdID;
    const payload = MessagePack.encode({ version: 1, id, name, target: "", value });
    state.client.publish(topic("cmd/" + name), payload, { qos: 1 }, (err) => {
      if (err) {
        state.publishErrors.push({ id, name, error: err.message });
        showReply(name + ": " + err.message, true);
      }
    });
    return id;
  }
  state.publishCommand = publishCommand;

  function onReply(r) {
    state.replies.push(r);
    showReply(r.name + " (" + r.id + "): " + (r.ok ? "ok" : r.error), !r.ok);
  }

  function showReply(text, bad) {
    const el = $("reply");
    el.textContent = text;
    el.className = bad ? "err" : "";
  }

  document.addEventListener("visibilitychange", requestDraw);

  $("login").addEventListener("submit", (e) => {
    e.preventDefault();
    connect($("user").value, $("password").value);
  });

  fetch("config.json")
    .then((r) => r.json())
    .then((cfg) => {
      state.config = cfg;
      // The raster's rows: the spike populations at their sizes, in the
      // network's order (others, if any, are added as they come).
      for (const p of cfg.spikes || []) {
        raster.popIndex[p.name] = raster.names.length;
        raster.names.push(p.name);
        raster.sizes.push(p.size);
      }
      $("board").textContent = cfg.board;
      connect("", "");
    })
    .catch((e) => {
      state.errors.push("config: " + e);
      setConn("no config: " + e, false);
    });
})();
