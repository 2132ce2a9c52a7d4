// mockgateway console: a little vanilla JS over the admin API (/console/api/admin/... = /admin/...).
// No library, no build step. Every state change sends the session's CSRF token.
"use strict";

const W = JSON.parse(document.getElementById("words").textContent);
const CSRF = document.querySelector('meta[name="csrf-token"]').content;
const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
  return node;
}

// replaceChildren, leaving out the null of a `cond ? node : null` (replaceChildren would print "null").
function fill(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
}

async function api(method, path, body) {
  const opts = { method, headers: { "X-CSRF-Token": CSRF }, credentials: "same-origin" };
  if (body !== undefined) {
    opts.body = typeof body === "string" ? body : JSON.stringify(body);
    opts.headers["Content-Type"] = typeof body === "string" ? "application/yaml" : "application/json";
  }
  const res = await fetch("/console/api" + path, opts);
  let doc = null;
  try { doc = await res.json(); } catch (e) { doc = { error: res.statusText }; }
  if (res.status === 401) { location.href = "/console/login"; }
  if (!res.ok) throw new Error(doc && doc.error ? doc.error : "HTTP " + res.status);
  return doc;
}

function say(text, bad = false) {
  const box = $("#msg");
  if (!box) return;
  box.textContent = text;
  box.className = "msg show" + (bad ? " bad" : "");
  clearTimeout(say.t);
  say.t = setTimeout(() => { box.className = "msg"; }, 4000);
}

async function act(fn) {
  try { await fn(); } catch (e) { say(W.failed + ": " + e.message, true); }
}

const fmt = (s) => s && s.length >= 14 ? `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)} ${s.slice(8, 10)}:${s.slice(10, 12)}:${s.slice(12, 14)}` : (s || "");
const fmtDate = (s) => s && s.length >= 8 ? `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}` : (s || "");
// One element per line, indented: for reading only (the journal keeps the bytes as they were sent).
function prettyXml(text) {
  if (!text || !text.trimStart().startsWith("<") || text.split("\n").length > 3) return text || "";
  let depth = 0;
  return text.replace(/>\s*</g, ">\n<").split("\n").map((line) => {
    if (/^<\/[^>]+>$/.test(line)) depth = Math.max(0, depth - 1);
    const out = "  ".repeat(depth) + line;
    if (/^<[^!?/][^>]*[^/]>$/.test(line) || /^<[^!?/>]>$/.test(line)) depth += 1;
    return out;
  }).join("\n");
}

function setNow(stamp) { const n = $("#now"); if (n) n.textContent = fmt(stamp); }

// -- the face-auth reader ---------------------------------------------------------------------------

function readerPage() {
  const screen = $("#screen");
  const st = { person: null, preview: null, mode: null, pin: "", consents: [], screens: [], step: 0, tries: null };

  function show(cls, ...nodes) {
    screen.className = "screen" + (cls ? " " + cls : "");
    fill(screen, ...nodes);
  }

  function idle() {
    st.mode = null; st.pin = ""; st.consents = []; st.step = 0;
    show("", el("div", { class: "prompt" }, W["reader.idle"]),
      el("div", { class: "cardslot" }, st.person ? `${st.person.name}` : W["reader.card"]),
      st.person ? el("button", { id: "place", class: "", onclick: place }, W["reader.place"]) : null);
  }

  async function choose(id, refresh = false) {
    $$(".people button").forEach((b) => b.classList.toggle("on", b.dataset.id === id));
    st.preview = await api("GET", "/preview?id=" + encodeURIComponent(id));
    st.person = st.preview;
    setNow(st.preview.now);
    renderCard();
    if (!refresh) idle();
  }

  function renderCard() {
    const p = st.preview;
    const c = p.card;
    const rows = [
      el("div", {}, el("b", {}, p.name), " ", p.kana, " (", p.age, W["reader.age"], ") ", el("code", {}, p.id)),
      c ? el("div", {}, `${W["reader.card"]}: ${c.serial} · ${W["reader.status"]} ${W["s." + c.status] || c.status} · ` +
        `${fmtDate(c.cert_expires)} · PIN ${W["reader.tries_left"].replace("{n}", c.pin_tries)}`)
        : el("div", { class: "err" }, W["reader.nocard"] + (p.card_problem ? ": " + p.card_problem : "")),
    ];
    $("#cardinfo").replaceChildren(...rows);
  }

  function place() {
    const c = st.preview.card;
    // A card the reader rejects on reading: no method screen, straight to the reader's answer.
    if (!c || ["expired", "revoked", "not_yet_valid"].includes(c.status) || c.registered === false) {
      st.mode = "face";
      return submit();
    }
    show("", el("div", { class: "prompt" }, W["reader.method"]),
      el("div", { class: "choice" },
        el("button", { id: "m-face", onclick: () => { st.mode = "face"; consentsOrSubmit(); } }, W["reader.m.face"]),
        el("button", { id: "m-pin", onclick: () => { st.mode = "pin"; keypad(); } }, W["reader.m.pin"]),
        el("button", { id: "m-visual", onclick: () => { st.mode = "visual"; consentsOrSubmit(); } }, W["reader.m.visual"])));
  }

  function keypad(note) {
    st.pin = "";
    const dots = el("div", { class: "pin-dots", id: "dots" }, "");
    const redraw = () => { dots.textContent = "●".repeat(st.pin.length) + "○".repeat(4 - st.pin.length); };
    const key = (d) => el("button", { "data-key": d, onclick: () => { if (st.pin.length < 4) { st.pin += d; redraw(); } } }, d);
    const pad = el("div", { class: "keypad" },
      ["1", "2", "3", "4", "5", "6", "7", "8", "9"].map(key),
      el("button", { class: "clr", id: "clr", onclick: () => { st.pin = ""; redraw(); } }, W["reader.clear"]),
      key("0"),
      el("button", { class: "ok", id: "pinok", onclick: () => { if (st.pin.length === 4) consentsOrSubmit(); } }, W["reader.ok"]));
    redraw();
    show("", el("div", { class: "prompt" }, W["reader.pin"]),
      note ? el("div", { class: "err", id: "pinnote" }, note) : null, dots, pad);
  }

  function consentsOrSubmit() {
    st.screens = st.preview.screens || [];
    st.consents = [];
    st.step = 0;
    nextConsent();
  }

  function nextConsent() {
    if (st.step >= st.screens.length) return submit();
    const kind = st.screens[st.step];
    const answer = (yes) => { if (yes) st.consents.push(kind); st.step += 1; nextConsent(); };
    show("", el("div", { class: "sub" }, `${st.step + 1} / ${st.screens.length}`),
      el("div", { class: "prompt" }, W["reader.c." + kind] || kind),
      el("div", { class: "yesno" },
        el("button", { class: "yes", "data-consent": kind, onclick: () => answer(true) }, W["reader.agree"]),
        el("button", { class: "no", onclick: () => answer(false) }, W["reader.disagree"])));
  }

  async function submit() {
    const body = {
      person_id: st.person.id, mode: st.mode, consents: st.consents,
      face: $("#facematch").value, medical_institution: $("#mic").value || undefined,
    };
    if (st.mode === "pin") body.pins = [st.pin];
    show("", el("div", { class: "prompt", id: "busy" }, W["reader.busy"]), el("div", { class: "sub" }, "…"));
    let r;
    try { r = await api("POST", "/admin/reader/place", body); } catch (e) {
      show("error", el("div", { class: "prompt", id: "outcome" }, W["reader.error"]), el("div", { id: "errmsg" }, e.message),
        el("button", { onclick: idle }, W["reader.remove"]));
      return;
    }
    outcome(r);
    await choose(st.person.id, true); // the card's counters and status after this placement
  }

  function outcome(r) {
    const nodes = [];
    let cls = "screen";
    if (r.outcome === "confirmed") {
      nodes.push(el("div", { class: "prompt", id: "outcome" }, W["reader.done"]));
      if (r.grace_period) nodes.push(el("div", { class: "err", id: "grace" }, W["reader.grace"]));
      else if (r.certificate && r.certificate.status === "expiring") nodes.push(el("div", { class: "sub" }, W["reader.expiring"]));
      if (r.consents_shown.length) nodes.push(el("div", { class: "sub" }, r.consents_shown.map((k) => (r.consents_given.includes(k) ? "✔ " : "✖ ") + (W["k." + k] || k)).join("　")));
    } else {
      cls = "screen error";
      const e = r.error || {};
      nodes.push(el("div", { class: "prompt", id: "outcome" }, `${W["reader.error"]} ${e.id || ""}`));
      nodes.push(el("div", { id: "errmsg" }, e.message || ""));
      if (r.pin_tries_left !== null && r.pin_tries_left !== undefined && e.name === "pin_wrong") {
        nodes.push(el("div", { class: "err", id: "tries" }, W["reader.tries_left"].replace("{n}", r.pin_tries_left)));
        nodes.push(el("button", { id: "again", onclick: () => keypad(W["reader.tries_left"].replace("{n}", r.pin_tries_left)) }, W["reader.again"]));
      }
      if (e.detail) nodes.push(el("div", { class: "code" }, e.detail));
    }
    nodes.push(el("div", { class: "code" }, [r.medical_institution, r.method, r.elapsed_ms + " ms", "journal #" + r.journal_id].filter(Boolean).join(" · ")));
    nodes.push(el("button", { id: "remove", onclick: idle }, W["reader.remove"]));
    screen.className = cls;
    fill(screen, ...nodes);
    const file = $("#facefile");
    if (r.face_file) {
      file.replaceChildren(el("div", {}, el("code", { id: "facename" }, "face/" + r.face_file)),
        el("pre", { id: "facexml" }, prettyXml(r.face_xml || "")));
    } else {
      file.replaceChildren(el("p", { class: "hint", id: "nofile" }, W["reader.no_file"]),
        el("pre", {}, (r.steps || []).join("\n")));
    }
  }

  $("#people").addEventListener("click", (ev) => {
    const b = ev.target.closest("button.person");
    if (b) act(() => choose(b.dataset.id));
  });
  let timer = null;
  $("#q").addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => act(async () => {
      const doc = await api("GET", "/people?q=" + encodeURIComponent($("#q").value));
      $("#people").replaceChildren(...doc.people.map((p) => el("li", {},
        el("button", { class: "person", "data-id": p.id }, el("b", {}, p.name), " ",
          el("span", { class: "kana" }, p.kana), " ", el("span", { class: "age" }, p.age + W["reader.age"]),
          el("br"), el("code", {}, p.id), " ", el("span", { class: "num" }, p.numbers.slice(0, 2).join(" / "))))));
    }), 200);
  });
  idle();
}

// -- the journal --------------------------------------------------------------------------------------

const MAX_ROWS = 500; // the DOM keeps this many rows; older ones are a click on "older" away

function journalPage() {
  const rows = $("#rows");
  let source = null;
  let oldest = null;
  let selected = null;

  const filters = () => {
    const f = new FormData($("#filters"));
    const q = new URLSearchParams();
    for (const [k, v] of f.entries()) if (v) q.set(k, v);
    return q;
  };

  function tr(r, fresh) {
    const row = el("tr", { "data-id": r.id, class: fresh ? "new" : "" },
      el("td", {}, r.id), el("td", {}, fmt(r.at)), el("td", {}, r.transport), el("td", {}, r.api_id),
      el("td", {}, r.mic || ""), el("td", {}, el("span", { class: "badge " + r.outcome }, W["o." + r.outcome] || r.outcome)),
      el("td", {}, r.fault ? `[${r.fault}] ` : "", r.reason || ""));
    if (r.id === selected) row.classList.add("on");
    return row;
  }

  async function load() {
    const q = filters();
    q.set("limit", "100");
    const page = await api("GET", "/journal?" + q);
    rows.replaceChildren(...page.rows.map((r) => tr(r, false)));
    oldest = page.rows.length ? page.rows[page.rows.length - 1].id : null;
    $("#older").disabled = !page.more;
    listen(page.last_id);
  }

  function listen(since) {
    if (source) source.close();
    const q = filters();
    q.set("since", since);
    source = new EventSource("/console/events?" + q);
    source.onopen = () => $("#live").classList.add("on");
    source.onerror = () => $("#live").classList.remove("on");
    source.onmessage = (ev) => {
      const r = JSON.parse(ev.data);
      rows.prepend(tr(r, true));
      while (rows.children.length > MAX_ROWS) rows.lastElementChild.remove();
      oldest = Number(rows.lastElementChild.dataset.id);
      $("#older").disabled = false;
    };
    source.addEventListener("clock", (ev) => setNow(ev.data));
  }

  async function older() {
    const q = filters();
    q.set("limit", "100");
    if (oldest) q.set("before", oldest);
    const page = await api("GET", "/journal?" + q);
    for (const r of page.rows) rows.append(tr(r, false));
    // Bounded DOM: drop the newest beyond the bound (they come back on reload).
    while (rows.children.length > MAX_ROWS) rows.firstElementChild.remove();
    if (page.rows.length) oldest = page.rows[page.rows.length - 1].id;
    $("#older").disabled = !page.more;
  }

  async function detail(id) {
    selected = id;
    $$("#rows tr").forEach((r) => r.classList.toggle("on", Number(r.dataset.id) === id));
    const e = await api("GET", "/journal/" + id);
    fill($("#detail"),
      el("h2", {}, `#${e.id} ${e.api_id} · ${e.transport} · ${fmt(e.at)}`),
      el("div", {}, el("span", { class: "badge " + e.outcome }, W["o." + e.outcome] || e.outcome),
        ` SegmentOfResult ${e.segment || "-"} · 資格有効性 ${e.validity || "-"} · ${e.duration_ms.toFixed(1)} ms`,
        e.fault ? ` · fault ${e.fault}` : "", e.name ? el("div", { class: "code" }, e.name) : null),
      e.reason ? el("div", { class: "reason", id: "nearmiss" },
        el("b", {}, (["notfound", "invalid"].includes(e.outcome) ? W["journal.nearmiss"] : W["journal.reason"]) + ": "), e.reason) : null,
      el("div", { class: "pair" },
        el("div", {}, el("h3", {}, W["journal.request"]), el("pre", { id: "req" }, prettyXml(e.request))),
        el("div", {}, el("h3", {}, W["journal.response"]), el("pre", { id: "res" }, prettyXml(e.response)))));
  }

  rows.addEventListener("click", (ev) => {
    const row = ev.target.closest("tr");
    if (row) act(() => detail(Number(row.dataset.id)));
  });
  $("#filters").addEventListener("change", () => act(load));
  $("#filters").addEventListener("submit", (ev) => { ev.preventDefault(); act(load); });
  $("#older").addEventListener("click", () => act(older));
  $("#clearj").addEventListener("click", () => act(async () => { await api("DELETE", "/admin/journal"); await load(); }));
  act(load);
}

// -- controls ------------------------------------------------------------------------------------------

function controlsPage() {
  async function clock(doc) {
    const c = doc || await api("GET", "/admin/clock");
    $("#clocknow").textContent = fmt(c.now);
    $("#clockstate").textContent = c.running ? W["c.running"] : W["c.frozen"];
    setNow(c.now);
    const n = c.now;
    $("#clockset").value = `${n.slice(0, 4)}-${n.slice(4, 6)}-${n.slice(6, 8)}T${n.slice(8, 10)}:${n.slice(10, 12)}:${n.slice(12, 14)}`;
  }
  $("#clockgo").addEventListener("click", () => act(async () => {
    const v = $("#clockset").value.replace(/[-T:]/g, "");
    await clock(await api("POST", "/admin/clock", { now: v.padEnd(14, "0") }));
    say(W.ok);
  }));
  $$("[data-adv]").forEach((b) => b.addEventListener("click", () => act(async () => {
    const [unit, n] = b.dataset.adv.split(":");
    await clock(await api("POST", "/admin/clock/advance", { [unit]: Number(n) }));
  })));
  $("#freeze").addEventListener("click", () => act(async () => clock(await api("POST", "/admin/clock", { running: false }))));
  $("#run").addEventListener("click", () => act(async () => clock(await api("POST", "/admin/clock", { running: true }))));
  $("#realtime").addEventListener("click", () => act(async () => clock(await api("POST", "/admin/clock", { now: "real", running: true }))));

  // faults
  const kind = $("#faultkind");
  const showKind = () => $$("#faultform label[class^='k-']").forEach((l) => { l.hidden = l.className !== "k-" + kind.value; });
  kind.addEventListener("change", showKind);
  showKind();
  async function faults() {
    const doc = await api("GET", "/admin/faults");
    $("#faults").replaceChildren(...doc.faults.map((f) => el("tr", { "data-fault": f.id },
      el("td", {}, "#" + f.id), el("td", {}, el("b", {}, f.kind)),
      el("td", {}, Object.entries(f).filter(([k, v]) => !["id", "kind"].includes(k) && v !== null).map(([k, v]) => `${k}=${v}`).join(" ")),
      el("td", {}, el("button", { class: "danger", onclick: () => act(async () => { await api("DELETE", "/admin/faults/" + f.id); await faults(); }) }, W["c.remove"])))));
  }
  $("#faultform").addEventListener("submit", (ev) => {
    ev.preventDefault();
    act(async () => {
      const f = new FormData($("#faultform"));
      const doc = { kind: f.get("kind") };
      if (f.get("api_id")) doc.api_id = f.get("api_id");
      if (f.get("times")) doc.times = Number(f.get("times"));
      if (doc.kind === "latency") doc.latency_ms = Number(f.get("latency_ms"));
      if (doc.kind === "error") doc.error_code = f.get("error_code");
      if (doc.kind === "maintenance") { doc.start = f.get("start"); doc.end = f.get("end"); }
      await api("POST", "/admin/faults", doc);
      await faults();
      say(W.ok);
    });
  });
  $("#faultclear").addEventListener("click", () => act(async () => { await api("DELETE", "/admin/faults"); await faults(); }));

  // disasters
  async function disasters() {
    let doc;
    try { doc = await api("GET", "/admin/disasters"); } catch (e) { $("#disasterpanel").hidden = true; return; }
    $("#disasters").replaceChildren(...doc.declarations.map((d) => {
      const end = el("input", { size: 10, placeholder: "YYYYMMDD" });
      return el("tr", { "data-disaster": d.id },
        el("td", {}, el("b", {}, d.name || d.id), el("div", { class: "code" }, [].concat(d.areas || d.prefectures || []).map((a) => typeof a === "string" ? a : JSON.stringify(a)).join("、"))),
        el("td", {}, `${fmt(d.start)} → ${fmt(d.end)}`, d.closed ? " ✔" : ""),
        el("td", {}, end, el("button", { onclick: () => act(async () => { await api("POST", "/admin/disasters/extend", { id: d.id, end: end.value }); await disasters(); }) }, W["c.extend"]),
          el("button", { class: "danger", onclick: () => act(async () => { await api("POST", "/admin/disasters/close", { id: d.id }); await disasters(); }) }, W["c.close"])));
    }));
  }
  $("#disasterform").addEventListener("submit", (ev) => {
    ev.preventDefault();
    act(async () => {
      const f = new FormData($("#disasterform"));
      await api("POST", "/admin/disasters", {
        name: f.get("name"), prefectures: String(f.get("prefectures")).split(",").map((s) => s.trim()).filter(Boolean), end: f.get("end"),
      });
      await disasters();
      say(W.ok);
    });
  });

  // bulk jobs (progress refreshes every 2 s)
  async function bulk() {
    const doc = await api("GET", "/bulk");
    const state = (j) => (j.expired ? "expired" : j.downloads ? "downloaded" : j.done ? "done" : "…");
    fill($("#bulk"), doc.jobs.length ? doc.jobs.map((j) => el("tr", {},
      el("td", {}, el("code", {}, j.reception_number), el("div", { class: "code" }, `${j.family} · ${j.mic} · ${fmt(j.accepted_at)}`)),
      el("td", {}, el("progress", { max: j.total, value: j.processed }),
        el("div", {}, `${j.processed}/${j.total}`, j.errors ? ` (${j.errors} err)` : "", ` · ${state(j)}`)))) : el("tr", {}, el("td", {}, W["c.none"])));
  }
  setInterval(() => act(bulk), 2000);

  // fixtures
  $("#loadyaml").addEventListener("click", () => act(async () => {
    const doc = await api("POST", "/admin/fixtures?replace=" + ($("#replace").checked ? "true" : "false"), $("#yaml").value);
    say(`${W.ok}: ${doc.loaded.length} / ${doc.people}`);
  }));
  $("#reset").addEventListener("click", () => act(async () => { await api("POST", "/admin/reset"); await refresh(); say(W.ok); }));

  // one person as of the clock
  $("#pshow").addEventListener("click", () => act(async () => {
    const p = await api("GET", "/person?id=" + encodeURIComponent($("#pid").value));
    const c = p.card;
    fill($("#person"),
      el("div", {}, el("b", {}, p.name), ` ${p.kana} · ${fmtDate(p.birthdate)} (${p.age}) · as of ${fmtDate(p.as_of)}`),
      el("table", { class: "grid" }, el("tbody", {}, p.qualifications.map((q) => el("tr", {},
        el("td", {}, q.insurer_name), el("td", {}, el("code", {}, `${q.insurer} ${q.symbol}・${q.number}${q.branch ? "・" + q.branch : ""}`)),
        el("td", {}, `${fmtDate(q.from)} → ${q.until ? fmtDate(q.until) : ""}`),
        el("td", {}, el("span", { class: "badge " + (q.in_force ? "ok" : "invalid") }, q.in_force ? W["c.in_force"] : W["c.lapsed"])))))),
      c ? el("p", {}, `${W["reader.card"]} ${c.serial}: ${W["reader.status"]} ${W["s." + c.status] || c.status}, ${fmtDate(c.cert_issued)} → ${fmtDate(c.cert_expires)}` +
        ` (grace ${fmtDate(c.grace_until)}), registered ${c.registered}, PIN ${W["reader.tries_left"].replace("{n}", c.pin_tries)}`) : el("p", { class: "hint" }, W["reader.nocard"]));
  }));

  async function refresh() { await Promise.all([clock(), faults(), disasters(), bulk()]); }
  act(refresh);
}

// -- certification runs ---------------------------------------------------------------------------------

function runsPage() {
  let next = 0;
  let timer = null;
  const results = $("#runresults");
  function render(run) {
    $("#runstate").textContent = run.running ? `${run.name} …` : `${run.name}: exit ${run.exit_code}` + (run.problem ? " " + run.problem : "");
    $("#runcounts").replaceChildren(...Object.entries(run.counts).map(([k, v]) => el("span", { class: "badge " + k }, `${k} ${v}`)), " ");
    results.replaceChildren(...run.results.filter((r) => r.status !== "skip").map((r) => el("tr", {},
      el("td", {}, el("span", { class: "badge " + r.status }, r.status)), el("td", {}, r.node.split("::").pop().replace(/^test_/, "")))));
    const log = $("#runlog");
    log.textContent = (log.textContent + run.lines.map((l) => l + "\n").join("")).slice(-20000);
    next = run.next;
    if (!run.running) {
      clearInterval(timer);
      timer = null;
      if (run.exit_code !== null) results.append(el("tr", {}, el("td", { colspan: 2 },
        el("a", { href: `/console/reports/${run.name}/report.html`, target: "_blank", id: "runreport" }, W["r.open"]))));
    }
  }
  async function poll() { render(await api("GET", "/admin/runs/current?since=" + next)); }
  $("#runform").addEventListener("submit", (ev) => {
    ev.preventDefault();
    act(async () => {
      next = 0;
      $("#runlog").textContent = "";
      render(await api("POST", "/admin/runs", { capability: $("#capability").value }));
      if (!timer) timer = setInterval(() => act(poll), 1000);
    });
  });
  api("GET", "/admin/runs/current").then((run) => {
    render(run);
    if (run.running && !timer) timer = setInterval(() => act(poll), 1000);
  }).catch(() => {});
}

const page = document.body.dataset.page;
if (page === "reader") readerPage();
else if (page === "journal") journalPage();
else if (page === "controls") controlsPage();
else if (page === "runs") runsPage();
