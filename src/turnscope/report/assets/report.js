// turnscope HTML report: draws the data block of this file with Chart.js.
// Every word from a call is put into the page with textContent, never parsed as markup.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("turnscope-data").textContent);

  const PARTS = {
    endpointing: ["endpointing", "#4e79a7"],
    previous_turn_wait: ["previous turn wait", "#edc948"],
    turn_callback: ["turn callback", "#a0cbe8"],
    tool_steps: ["tool steps", "#f28e2b"],
    llm_first_token: ["LLM first token", "#e15759"],
    sentence_aggregation: ["sentence aggregation", "#ff9d9a"],
    tts_first_byte: ["TTS first byte", "#59a14f"],
    tts_retry: ["TTS retry", "#b07aa1"],
    queue_wait: ["queue wait", "#b6992d"],
    playback: ["playback", "#76b7b2"],
    preemptive_overlap: ["preemptive overlap", "#9c755f"],
    other: ["other", "#bab0ac"],
  };
  const STATE_COLORS = {
    speaking: "#e15759", listening: "#4e79a7", thinking: "#f28e2b",
    initializing: "#bab0ac", away: "#9c755f",
  };
  const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948",
    "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

  Chart.defaults.animation = false;
  Chart.defaults.font.size = 11;
  Chart.defaults.maintainAspectRatio = false;
  // Numbers on the axes as in the page's text and the terminal (0.001, not a reader's 0,001).
  Chart.defaults.locale = "en-US";

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function add(parent, tag, className, text) {
    return parent.appendChild(el(tag, className, text));
  }
  // Whole numbers as the terminal report rounds them (Python's format: the nearest, a tie
  // to the even one), from the same unrounded value: both sides show the same digits.
  function whole(value) {
    const nearest = Math.round(value);
    const rounded = Math.abs(value % 1) === 0.5 && nearest % 2 !== 0 ? nearest - 1 : nearest;
    return rounded === 0 ? 0 : rounded; // never "-0"
  }
  function ms(seconds) {
    return seconds === null || seconds === undefined ? "–" : whole(seconds * 1000) + " ms";
  }
  function usd(amount) {
    if (amount === null || amount === undefined) return "–";
    return "$" + amount.toFixed(amount >= 0.01 ? 4 : 5);
  }
  function msValue(value) {
    const size = Math.abs(value);
    return size < 1 ? value.toFixed(2) : size < 10 ? value.toFixed(1) : String(Math.round(value));
  }
  // Local time as the terminal writes it: 2026-12-07 09:20 (and :28 where it shows seconds).
  function localTime(seconds, withSeconds) {
    if (seconds === null || seconds === undefined) return "–";
    const at = new Date(seconds * 1000);
    const two = (n) => String(n).padStart(2, "0");
    const text = at.getFullYear() + "-" + two(at.getMonth() + 1) + "-" + two(at.getDate()) +
      " " + two(at.getHours()) + ":" + two(at.getMinutes());
    return withSeconds ? text + ":" + two(at.getSeconds()) : text;
  }
  function secs(value) {
    return value === null || value === undefined ? "–" : value.toFixed(1) + " s";
  }
  function chartBox(parent, className) {
    const box = add(parent, "div", className);
    return add(box, "canvas");
  }
  function table(parent, headers, rows, numeric) {
    const t = add(parent, "table");
    const head = add(add(t, "thead"), "tr");
    headers.forEach((h, i) => add(head, "th", numeric[i] ? "num" : "", h));
    const body = add(t, "tbody");
    rows.forEach((row) => {
      const tr = add(body, "tr");
      row.forEach((cell, i) => add(tr, "td", numeric[i] ? "num" : "text", cell));
    });
    return t;
  }
  function e2eCell(turn) {
    // a suspect e2e: the raw value LiveKit reported, marked; never in a chart or percentile
    const raw = (turn.suspect || []).find((s) => s.field === "e2e");
    return turn.e2e === null && raw ? ms(raw.value) + " !" : ms(turn.e2e);
  }
  function costCell(turn) {
    if (turn.cost === null && turn.unknown && turn.unknown.cost_usd) return turn.unknown.cost_usd;
    return usd(turn.cost) + (turn.unpriced ? "*" : "");
  }
  function qualityOf(section, call) {
    const lines = [];
    call.turns.forEach((t) => {
      (t.suspect || []).forEach((s) => lines.push("turn " + t.turn + ": " + s.field + " " +
        s.value + " ! " + s.reason + " (shown raw, kept out of percentiles, budgets and scores)"));
      Object.entries(t.unknown || {}).forEach(([field, reason]) =>
        lines.push("turn " + t.turn + ": " + field + " unknown (" + reason + ")"));
    });
    (call.suspect || []).forEach((s) => lines.push("call: " + s.field + " " + s.value + " ! " + s.reason));
    if (call.stt_repeated_reports) {
      lines.push("call: " + call.stt_repeated_reports + " STT usage report(s) repeated audio already counted: counted once");
    }
    if (!lines.length) return;
    add(section, "h3", "", "data quality");
    const list = add(section, "ul", "quality");
    lines.forEach((line) => add(list, "li", "", line));
  }
  function flags(turn) {
    const found = [];
    if (turn.interrupted) found.push("interrupted");
    // a failed tool is one of the turn's errors: flagged once, on tools×
    const failed = turn.tools_failed || 0;
    if (turn.errors > failed) found.push("errors×" + (turn.errors - failed));
    if (turn.tools) found.push("tools×" + turn.tools + (failed ? " (" + failed + " failed)" : ""));
    if (turn.preemptive) found.push("preemptive");
    if (turn.discarded) found.push("discarded×" + turn.discarded);
    return found;
  }

  // --- overview --------------------------------------------------------------------------
  const turnCount = data.calls.reduce((n, c) => n + c.turns.length, 0);
  document.getElementById("overview").textContent =
    data.calls.length + " call(s), " + turnCount + " turn(s) · total cost " +
    usd(data.cost.total) + " · generated " + localTime(data.generated_at, true);
  document.getElementById("note").textContent = data.note;
  const main = document.getElementById("report");
  // A breakdown part has its colour everywhere, and only it: e2e and the other metrics are
  // drawn in slate greys that no part uses.
  const E2E_COLOR = "#1d2330";
  const METRIC_COLORS = { e2e: "#5b6579" };
  function partColor(metric) {
    return PARTS[metric] ? PARTS[metric][1] : METRIC_COLORS[metric] || "#8591a6";
  }
  // A round top for an axis (4,713 ms → 5,000), so its last label is a round number too.
  function niceCeil(value) {
    const power = Math.pow(10, Math.floor(Math.log10(value)));
    const step = [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].find((m) => m * power >= value);
    return step * power;
  }
  // The smallest step of 1, 2, 2.5 or 5 times a power of ten that is at least `rough`.
  function niceStep(rough) {
    const power = Math.pow(10, Math.floor(Math.log10(rough)));
    return [1, 2, 2.5, 5, 10].find((m) => m * power >= rough * (1 - 1e-9)) * power;
  }
  function decimalsOf(step) {
    let digits = 0;
    while (digits < 12 && Math.abs(step * 10 ** digits - Math.round(step * 10 ** digits)) > 1e-6) {
      digits++;
    }
    return digits;
  }
  // Ticks at whole multiples of `step` from min to max, each labelled with the decimals the
  // step needs, so no two labels are alike however close the values.
  function stepTicks(min, max, step) {
    const digits = decimalsOf(step);
    const values = [];
    for (let k = Math.ceil(min / step - 1e-9); k * step <= max + step * 1e-9; k++) {
      values.push(Number((k * step).toFixed(digits)));
    }
    return { values: values, label: (value) => Number(value).toFixed(digits) };
  }
  // Ticks fixed by us, not by Chart.js (which adds the bounds as ticks and picks its step
  // from each chart's own range).
  function fixedTicks(marks) {
    return {
      afterBuildTicks: (axis) => { axis.ticks = marks.values.map((value) => ({ value: value })); },
      ticks: { callback: marks.label, autoSkip: false },
    };
  }
  // One y-scale for every call's timeline — the same bounds and the same ticks — so calls
  // compare at a glance: from the deepest stack below zero (a preemptive overlap) to the
  // highest bar or e2e marker, the top a round number and the bottom a whole step below 0.
  const shared = (function () {
    let top = 1;
    let bottom = 0;
    data.calls.forEach((c) => c.turns.forEach((t) => {
      const sum = (pick) => data.parts.reduce((total, p) => total + pick(0, t[p] || 0), 0);
      top = Math.max(top, sum(Math.max) * 1000, t.e2e === null ? 0 : t.e2e * 1000);
      bottom = Math.min(bottom, sum(Math.min) * 1000);
    }));
    const max = niceCeil(top);
    let step = niceStep(max / 10);
    for (let tries = 0; tries < 20 && Math.abs(max / step - Math.round(max / step)) > 1e-9; tries++) {
      step = niceStep(step * 1.001);
    }
    const min = bottom < 0 ? -Math.ceil(-bottom / step - 1e-9) * step : 0;
    return { min: min, max: max, marks: stepTicks(min, max, step) };
  })();

  // --- overview table of the calls (sortable) -------------------------------------------
  function overview() {
    if (data.calls.length < 2) return;
    const section = add(main, "section", "overview");
    add(section, "h2", "", "calls (click a heading to sort)");
    const columns = [
      ["call", (c) => c.call_id.slice(0, 12), false],
      ["started", (c) => c.started_at, true, (v) => localTime(v)],
      ["user", (c) => c.user_id || "", false],
      ["session", (c) => c.session_id, false],
      ["room", (c) => c.room || "", false],
      ["turns", (c) => c.turns.length, true],
      ["e2e p50", (c) => c.e2e_p50, true, ms],
      ["e2e p95", (c) => c.e2e_p95, true, ms],
      ["worst", (c) => c.e2e_max, true, ms],
      ["cost", (c) => c.cost_usd, true, usd],
      ["errors", (c) => c.errors, true],
      ["interrupted", (c) => c.interruptions, true],
    ];
    if (data.calls.some((c) => c.speed !== null)) {  // only beside a call not at real time
      columns.splice(2, 0, ["speed", (c) => c.speed === null ? 1 : c.speed, true,
        (v) => v === 1 ? "real time" : v + "x"]);
    }
    const t = add(section, "table", "calls-overview");
    const head = add(add(t, "thead"), "tr");
    const body = add(t, "tbody");
    let order = { column: 1, descending: true };
    function draw() {
      const [, key, numeric] = columns[order.column];
      const rows = data.calls.slice().sort((a, b) => {
        const x = key(a), y = key(b);
        if (x === y) return 0;
        if (x === null || x === undefined) return 1;
        if (y === null || y === undefined) return -1;
        const less = numeric ? x < y : String(x).localeCompare(String(y)) < 0;
        return (less ? -1 : 1) * (order.descending ? -1 : 1);
      });
      body.replaceChildren();
      rows.forEach((call) => {
        const tr = add(body, "tr");
        columns.forEach(([, get, isNumber, show]) => {
          const value = get(call);
          add(tr, "td", isNumber ? "num" : "text", show ? show(value) : value);
        });
      });
      head.querySelectorAll("th").forEach((th, i) => {
        th.dataset.sorted = i === order.column ? (order.descending ? "descending" : "ascending") : "";
      });
    }
    columns.forEach(([name], i) => {
      const th = add(head, "th", columns[i][2] ? "num sortable" : "sortable", name);
      th.addEventListener("click", () => {
        order = { column: i, descending: order.column === i ? !order.descending : true };
        draw();
      });
    });
    draw();
  }
  overview();

  // --- per call ----------------------------------------------------------------------------
  const tooltip = add(document.body, "div", "tooltip");
  tooltip.id = "turn-tooltip";

  function showTurn(turns, context) {
    const tip = context.tooltip;
    if (tip.opacity === 0 || !tip.dataPoints || !tip.dataPoints.length) {
      tooltip.classList.remove("shown");
      return;
    }
    const turn = turns[tip.dataPoints[0].dataIndex];
    tooltip.replaceChildren();
    add(tooltip, "div", "head", "turn " + turn.turn + " · " + turn.outcome + " · e2e " +
      ms(turn.e2e) + " · at " + secs(turn.at) + (turn.cost !== null ? " · " + usd(turn.cost) : ""));
    const marks = flags(turn);
    if (marks.length) add(tooltip, "div", "flag", marks.join(" "));
    add(tooltip, "div", "who", "user");
    add(tooltip, "div", "said user-text", turn.user === null ? "—" : turn.user);
    add(tooltip, "div", "who", "agent");
    add(tooltip, "div", "said agent-text", turn.agent === null ? "—" : turn.agent);
    const parts = data.parts.filter((p) => turn[p] !== null && turn[p] !== 0)
      .map((p) => PARTS[p][0] + " " + ms(turn[p]));
    if (parts.length) add(tooltip, "div", "parts", parts.join(" · "));
    const rect = context.chart.canvas.getBoundingClientRect();
    const left = Math.min(rect.left + tip.caretX + 14, window.innerWidth - 440);
    tooltip.style.left = Math.max(4, left) + "px";
    tooltip.style.top = Math.max(4, rect.top + 12) + "px";
    tooltip.classList.add("shown");
  }

  function timeline(section, call) {
    add(section, "h3", "", "timeline: each turn's response latency, stacked by part (ms)");
    if (!call.turns.length) {
      add(section, "p", "empty", "no turns recorded");
      return;
    }
    const scroll = add(section, "div", "scroll");
    const box = add(scroll, "div", "timeline-box");
    box.style.width = Math.max(call.turns.length * 16, 600) + "px";
    const canvas = add(box, "canvas", "timeline");
    const turns = call.turns;
    const datasets = data.parts.map((part) => ({
      label: PARTS[part][0],
      data: turns.map((t) => (t[part] === null ? null : t[part] * 1000)),
      backgroundColor: PARTS[part][1],
      stack: "e2e",
      order: 1,
    }));
    datasets.push({
      type: "line",
      label: "e2e",
      data: turns.map((t) => (t.e2e === null ? null : t.e2e * 1000)),
      showLine: false,
      pointStyle: "line",
      pointRadius: 7,
      pointBorderWidth: 2,
      borderColor: E2E_COLOR,
      backgroundColor: E2E_COLOR,
      stack: "marker",
      order: 0,
    });
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: turns.map((t) => (t.interrupted ? "#" + t.turn + "✂" : t.errors ? "#" + t.turn + "!" : "#" + t.turn)),
        datasets: datasets,
      },
      options: {
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { stacked: true, ticks: { autoSkip: true, maxRotation: 0 } },
          y: Object.assign({ stacked: true, min: shared.min, max: shared.max,
            title: { display: true, text: "ms" } }, fixedTicks(shared.marks)),
        },
        layout: { padding: { right: 8 } },
        plugins: {
          legend: { position: "top", align: "start", labels: { boxWidth: 12 } },
          tooltip: { enabled: false, external: (context) => showTurn(turns, context) },
        },
      },
    });
    box.addEventListener("mouseleave", () => tooltip.classList.remove("shown"));
  }

  function summaryOf(section, call) {
    const s = call.summary;
    add(section, "h3", "", "interruptions, errors and time in state");
    if (!s) {
      add(section, "p", "empty", "no call summary (the call has not closed)");
      return;
    }
    const errors = Object.entries(s.errors_by_component).map(([k, v]) => k + " " + v).join(", ");
    add(section, "p", "meta call-summary",
      "interruptions " + s.interruptions +
      (s.interruption_rate === null ? "" : " (" + Math.round(s.interruption_rate * 100) + "% of replies)") +
      " · false interruptions " + s.false_interruptions + " (" + s.false_interruptions_resumed + " resumed)" +
      " · errors: " + (errors || "none") + " (" + s.unrecoverable_errors + " unrecoverable)" +
      (s.time_to_first_greeting === null ? "" : " · first greeting after " + ms(s.time_to_first_greeting)) +
      (s.away_episodes.length ? " · away " + s.away_episodes.length + "×" : ""));
    const names = [];
    [s.user_time_in_state, s.agent_time_in_state].forEach((spent) =>
      Object.keys(spent).forEach((k) => { if (!names.includes(k)) names.push(k); }));
    const canvas = chartBox(section, "states-box");
    canvas.className = "states";
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: ["user", "agent"],
        datasets: names.map((name, i) => ({
          label: name,
          data: [s.user_time_in_state[name] || 0, s.agent_time_in_state[name] || 0],
          backgroundColor: STATE_COLORS[name] || PALETTE[i % PALETTE.length],
        })),
      },
      options: {
        indexAxis: "y",
        scales: { x: { stacked: true, title: { display: true, text: "seconds" } }, y: { stacked: true } },
        plugins: { legend: { position: "right", labels: { boxWidth: 12 } } },
      },
    });
    const interrupted = call.turns.filter((t) => t.interrupted);
    if (interrupted.length) {
      add(section, "h3", "", "interrupted replies");
      table(section, ["turn", "at", "heard", "agent said"],
        interrupted.map((t) => ["#" + t.turn, secs(t.at), secs(t.heard),
          t.agent ? (t.agent_is ? t.agent_is + ": " : "") + t.agent : "—"]),
        [true, true, true, false]).className = "interrupted";
    }
    if (call.events.length) {
      add(section, "h3", "", "errors and false interruptions");
      table(section, ["at", "turn", "kind", "component", "detail", "recoverable", "message"],
        call.events.map((e) => [secs(e.at), e.turn === null ? "call" : "#" + e.turn, e.kind,
          e.component || "", e.detail || "", e.recoverable === null ? "" : e.recoverable ? "yes" : "no",
          e.message || ""]),
        [true, true, false, false, false, false, false]).className = "events";
    }
  }

  function turnTable(section, call) {
    if (!call.turns.length) return;
    const details = add(section, "details");
    add(details, "summary", "", "all " + call.turns.length + " turns: what was said, latency and cost");
    table(details, ["#", "at", "user said", "agent said", "outcome, flags", "e2e", "cost"],
      call.turns.map((t) => ["" + t.turn, secs(t.at), t.user || "", t.agent || "",
        [t.outcome].concat(flags(t)).join(" "), e2eCell(t), costCell(t)]),
      [true, true, false, false, false, true, true]).className = "turns";
  }

  data.calls.forEach((call) => {
    const section = add(main, "section", "call");
    const title = add(section, "h2");
    title.append("call ");
    add(title, "span", "mono", call.call_id.slice(0, 12));
    if (call.started_at !== null) {
      title.append(" ");
      add(title, "span", "when", localTime(call.started_at, true));
    }
    const meta = add(section, "p", "meta",
      "session " + call.session_id + (call.room ? " · room " + call.room : "") +
      (call.user_id ? " · user " + call.user_id : "") +
      " · " + call.turns.length + " turns · " + (call.duration === null ? "in progress" : secs(call.duration)) +
      (call.close_reason ? " · closed: " + call.close_reason : "") +
      " · cost " + (call.cost_usd === null && call.unpriced.length ? "unpriced" : usd(call.cost_usd)) +
      (call.unpriced.length ? " (unpriced: " + call.unpriced.join(", ") + ")" : ""));
    if (call.speed !== null) {
      meta.append(" · ");
      add(meta, "span", "flag speed", "played at " + call.speed + "x speed, not real time");
    }
    timeline(section, call);
    summaryOf(section, call);
    qualityOf(section, call);
    turnTable(section, call);
  });

  // --- over every chosen call ---------------------------------------------------------------
  const aggregate = add(main, "section", "aggregate");
  add(aggregate, "h2", "", "latency distributions over " + data.calls.length + " call(s)");
  add(aggregate, "p", "meta", "histograms in ms; solid line p50, dashed line p95");
  if (data.speed_note) add(aggregate, "p", "flag speed-note", data.speed_note);

  function percentileMarks(dist) {
    return {
      id: "percentileMarks",
      afterDatasetsDraw(chart) {
        const x = chart.scales.x;
        const area = chart.chartArea;
        const ctx = chart.ctx;
        [["p50", dist.p50, []], ["p95", dist.p95, [4, 3]]].forEach(([name, value, dash], i) => {
          const px = x.getPixelForValue(value);
          ctx.save();
          ctx.strokeStyle = "#1d2330";
          ctx.lineWidth = 1.5;
          ctx.setLineDash(dash);
          ctx.beginPath();
          ctx.moveTo(px, area.top);
          ctx.lineTo(px, area.bottom);
          ctx.stroke();
          ctx.fillStyle = "#1d2330";
          ctx.textAlign = px > (area.left + area.right) / 2 ? "right" : "left";
          ctx.fillText(" " + name + " " + msValue(value) + " ", px, area.top + 10 + i * 12);
          ctx.restore();
        });
      },
    };
  }

  const grid = add(aggregate, "div", "grid");
  data.distributions.forEach((dist) => {
    const panel = add(grid, "div", "panel");
    add(panel, "h4", "", dist.label + " · n=" + dist.count);
    const canvas = chartBox(panel, "chart-box");
    canvas.className = "distribution";
    canvas.dataset.metric = dist.metric;
    const centers = dist.counts.map((_, k) => (dist.edges[k] + dist.edges[k + 1]) / 2);
    const low = dist.edges[0];
    const high = dist.edges[dist.edges.length - 1];
    new Chart(canvas, {
      type: "bar",
      data: {
        datasets: [{
          label: dist.label,
          data: dist.counts.map((count, k) => ({ x: centers[k], y: count })),
          backgroundColor: partColor(dist.metric),
          barPercentage: 1,
          categoryPercentage: 1,
        }],
      },
      options: {
        scales: {
          x: Object.assign({ type: "linear", min: low, max: high },
            fixedTicks(stepTicks(low, high, niceStep((high - low) / 5)))),
          y: { beginAtZero: true, grace: "25%", ticks: { precision: 0 } },
        },
        layout: { padding: { top: 4, right: 12, left: 4 } },
        plugins: { legend: { display: false } },
      },
      plugins: [percentileMarks(dist)],
    });
  });
  add(aggregate, "h3", "", "percentiles (ms)");
  table(aggregate, ["metric", "n", "p50", "p90", "p95", "p99", "max"],
    data.distributions.map((d) => [d.label, d.count].concat(
      [d.p50, d.p90, d.p95, d.p99, d.max].map(whole))),
    [false, true, true, true, true, true, true]).className = "percentiles";

  function trendChart() {
    const periods = data.trend.periods;
    add(aggregate, "h2", "", "trend per " + data.trend.by + " (local time)");
    if (periods.length < 2) {
      add(aggregate, "p", "empty", "the chosen calls fall in one " + data.trend.by);
    }
    const canvas = chartBox(aggregate, "trend-box");
    canvas.className = "trend";
    new Chart(canvas, {
      type: "line",
      data: {
        labels: periods.map((p) => p.period),
        datasets: [
          { label: "e2e p50 (ms)", data: periods.map((p) => p.e2e_p50 === null ? null : p.e2e_p50 * 1000),
            borderColor: PALETTE[0], backgroundColor: PALETTE[0], yAxisID: "ms" },
          { label: "e2e p95 (ms)", data: periods.map((p) => p.e2e_p95 === null ? null : p.e2e_p95 * 1000),
            borderColor: PALETTE[3], backgroundColor: PALETTE[3], yAxisID: "ms" },
          { label: "errors (% of turns)", data: periods.map((p) => p.error_rate === null ? null : p.error_rate * 100),
            borderColor: PALETTE[1], backgroundColor: PALETTE[1], yAxisID: "pct", borderDash: [4, 3] },
          { label: "interrupted (% of replies)", data: periods.map((p) => p.interruption_rate === null ? null : p.interruption_rate * 100),
            borderColor: PALETTE[4], backgroundColor: PALETTE[4], yAxisID: "pct", borderDash: [4, 3] },
        ],
      },
      options: {
        scales: {
          ms: { position: "left", beginAtZero: true, title: { display: true, text: "ms" } },
          pct: { position: "right", beginAtZero: true, suggestedMax: 10, grid: { drawOnChartArea: false },
            title: { display: true, text: "%" } },
          x: { ticks: { autoSkip: true, maxRotation: 0 } },
        },
        layout: { padding: { right: 8 } },
        plugins: { legend: { position: "top", align: "start", labels: { boxWidth: 12 } } },
      },
    });
    table(aggregate, ["period", "calls", "turns", "e2e p50", "e2e p95", "cost", "errors", "interrupted"],
      periods.map((p) => [p.period, p.calls, p.turns, ms(p.e2e_p50), ms(p.e2e_p95), usd(p.cost_usd),
        p.error_rate === null ? "–" : (p.error_rate * 100).toFixed(1) + "%",
        p.interruption_rate === null ? "–" : (p.interruption_rate * 100).toFixed(1) + "%"]),
      [false, true, true, true, true, true, true, true]).className = "trend-table";
  }
  trendChart();

  add(aggregate, "h2", "", "cost over " + data.calls.length + " call(s): " + usd(data.cost.total));
  const costGrid = add(aggregate, "div", "grid");
  [["by component", data.cost.by_component], ["by model", data.cost.by_model]].forEach(([name, spent], i) => {
    const panel = add(costGrid, "div", "panel");
    add(panel, "h4", "", name + " (USD)");
    const entries = Object.entries(spent);
    if (!entries.length) {
      add(panel, "p", "empty", "nothing priced");
      return;
    }
    const canvas = chartBox(panel, "cost-box");
    canvas.className = "cost";
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: entries.map(([k]) => k),
        datasets: [{ label: "USD", data: entries.map(([, v]) => v), backgroundColor: PALETTE[i + 2] }],
      },
      options: {
        indexAxis: "y",
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: (item) => usd(item.parsed.x) } },
        },
      },
    });
    table(panel, ["", "USD"], entries.map(([k, v]) => [k, usd(v)]), [false, true]);
  });
  if (data.cost.unpriced.length) {
    add(aggregate, "p", "flag", "unpriced (not counted): " + data.cost.unpriced.join(", ") +
      " — add them with a TURNSCOPE_PRICES file");
  }
})();
