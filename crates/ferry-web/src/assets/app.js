// ferry dashboard: live progress over server-sent events, the mapping
// search, the dependency graph's highlighting and the Plan / Apply / Verify
// buttons. Pages are rendered by the server; this only keeps them current.
"use strict";
(function () {
  const body = document.body;
  const pageName = body.dataset.page;
  const pageRun = body.dataset.run ? Number(body.dataset.run) : null;
  let liveRun = body.dataset.live === "true" ? pageRun : null;
  let initiated = null; // the action this tab started, while it runs

  // The token came in the URL; the server set a cookie, so drop it from
  // the address bar (and from history, bookmarks and screenshots).
  if (new URLSearchParams(location.search).has("token")) {
    const u = new URL(location.href);
    u.searchParams.delete("token");
    history.replaceState(null, "", u.pathname + u.search + u.hash);
  }

  async function post(url) {
    const r = await fetch(url, { method: "POST", headers: { "X-Ferry-Request": "1" }, credentials: "same-origin" });
    let data = {};
    try { data = await r.json(); } catch (e) { /* empty body */ }
    if (!r.ok) throw new Error(data.error || r.status + " " + r.statusText);
    return data;
  }

  async function getJSON(url) {
    const r = await fetch(url, { credentials: "same-origin" });
    if (!r.ok) throw new Error(r.status + " " + r.statusText);
    return r.json();
  }

  // --- the job line and the action buttons -------------------------------
  const jobEl = document.getElementById("job");
  function showJob(j) {
    if (!jobEl || !j || !j.kind) return;
    jobEl.className = "job " + j.state;
    jobEl.textContent = j.kind + ": " + j.state.replace(/_/g, " ") + (j.message ? " — " + j.message : "");
    const busy = j.state === "running" || j.state === "awaiting_confirmation";
    document.querySelectorAll("button[data-action]").forEach(b => { b.disabled = busy; });
  }
  function onJob(j) {
    showJob(j);
    const finished = j.state === "done" || j.state === "failed";
    if (j.kind === "plan" && finished && (initiated === "plan" || pageName === "plan")) go("/plan");
    if (j.kind === "verify" && finished && (initiated === "verify" || pageName === "verify")) go("/verify");
    if (j.kind === "apply" && j.state === "awaiting_confirmation") go("/apply");
    if (j.kind === "apply" && finished && initiated === "apply" && pageName !== "apply") go("/apply");
    if (finished || j.state === "cancelled") initiated = null;
  }
  function go(path) {
    if (location.pathname === path) location.reload(); else location.href = path;
  }
  document.querySelectorAll("button[data-action]").forEach(b => {
    b.addEventListener("click", async () => {
      const action = b.dataset.action;
      if (action === "apply" && !confirm("Plan afresh and show the plan for confirmation? Nothing changes until you confirm it on the Apply page.")) return;
      try {
        initiated = action;
        await post("/api/" + action + (b.dataset.skipConflicts ? "?skip_conflicts=true" : ""));
      } catch (e) {
        initiated = null;
        alert(action + ": " + e.message);
      }
    });
  });
  getJSON("/api/job").then(showJob).catch(() => {});

  // --- the confirmation of an apply --------------------------------------
  const confirmBtn = document.getElementById("confirm-apply");
  const cancelBtn = document.getElementById("cancel-apply");
  if (confirmBtn) confirmBtn.addEventListener("click", async () => {
    confirmBtn.disabled = true;
    try {
      await post("/api/apply/confirm?id=" + encodeURIComponent(confirmBtn.dataset.confirm));
      document.getElementById("confirm").remove();
      setRunState("running");
    } catch (e) { alert("apply: " + e.message); confirmBtn.disabled = false; }
  });
  if (cancelBtn) cancelBtn.addEventListener("click", async () => {
    try { await post("/api/apply/cancel?id=" + encodeURIComponent(cancelBtn.dataset.confirm)); }
    catch (e) { alert("cancel: " + e.message); }
    location.reload();
  });

  // --- live progress -------------------------------------------------------
  const dataEl = document.getElementById("progress-data");
  const progress = dataEl ? JSON.parse(dataEl.textContent) : null;
  const itemOf = {};
  if (progress) for (const [item, nodes] of Object.entries(progress.items)) for (const n of nodes) itemOf[n] = item;

  function itemStatus(item) {
    const ss = (progress.items[item] || []).map(n => progress.nodes[n]);
    if (!ss.length) return "skipped";
    if (ss.includes("failed")) return "failed";
    if (ss.includes("stranded")) return "stranded";
    if (ss.every(s => s === "done")) return "done";
    if (ss.every(s => s === "queued")) return "queued";
    return "running";
  }
  function setClass(el, status) {
    el.className = el.className.replace(/\bst-[a-z_]+/g, "").trim() + " st-" + status;
  }
  function refreshItem(item) {
    const st = itemStatus(item);
    const row = document.querySelector('tr.item[data-key="' + CSS.escape(item) + '"]');
    if (row) {
      setClass(row, st);
      row.querySelector("td.status").textContent = st;
      refreshSection(row.closest("section.service"));
    }
    const g = document.querySelector('#graph g.node[data-key="' + CSS.escape(item) + '"]');
    if (g) g.setAttribute("class", "node st-" + st);
  }
  function refreshSection(sec) {
    if (!sec) return;
    const c = { queued: 0, running: 0, done: 0, failed: 0, stranded: 0 };
    let work = 0;
    sec.querySelectorAll('tr.item[data-work="true"]').forEach(r => {
      work++;
      const s = r.querySelector("td.status").textContent;
      c[s] = (c[s] || 0) + 1;
    });
    let st;
    if (work === 0) st = "skipped";
    else if (c.done === work) st = "done";
    else if (c.queued === work) st = "queued";
    else if (c.failed + c.stranded > 0 && c.running === 0) st = "failed";
    else st = "running";
    setClass(sec, st);
    sec.dataset.status = st;
    const badge = sec.querySelector("h3 .badge");
    setClass(badge, st);
    badge.textContent = st;
    if (work > 0) {
      let t = c.done + "/" + work + " done · " + c.running + " running · " + c.queued + " queued";
      if (c.failed + c.stranded > 0) t += " · " + (c.failed + c.stranded) + " failed";
      sec.querySelector("h3 .counts").textContent = t;
      const pct = n => (100 * n / work).toFixed(1) + "%";
      sec.querySelector(".seg.st-done").style.width = pct(c.done);
      sec.querySelector(".seg.st-running").style.width = pct(c.running);
      sec.querySelector(".seg.st-failed").style.width = pct(c.failed + c.stranded);
    }
  }
  function setNode(node, status) {
    if (!progress || !(node in progress.nodes)) return;
    progress.nodes[node] = status;
    refreshItem(itemOf[node]);
  }
  function setAll(nodes) {
    if (!progress || !nodes) return;
    for (const [n, s] of Object.entries(nodes)) if (n in progress.nodes) progress.nodes[n] = s;
    for (const item of Object.keys(progress.items)) refreshItem(item);
  }
  function setRunState(state, summary) {
    const el = document.getElementById("run-state");
    if (el) { setClass(el, state); el.textContent = state; }
    body.dataset.runState = state;
    if (summary) {
      const s = document.getElementById("summary");
      const n = k => summary[k] || 0;
      let t = n("created") + " created, " + n("adopted") + " adopted, " + n("converged") + " reconciled";
      if (n("failed")) t += ", " + n("failed") + " failed";
      if (n("stranded")) t += ", " + n("stranded") + " not run";
      if (s) s.textContent = t;
    }
  }
  // Whether an event is about what this page shows.
  function mine(ev) {
    if (pageName === "apply") return !ev.polled;
    if (pageName === "run") return ev.polled ? ev.run === pageRun : liveRun === pageRun;
    return false;
  }
  async function resync() {
    try {
      if (pageName === "apply") {
        const l = await getJSON("/api/live");
        if (l) { setAll(l.nodes); if (l.run) liveRun = l.run; }
      } else if (pageName === "run") {
        const r = await getJSON("/api/runs/" + pageRun);
        setAll(r.nodes);
        if (r.live) liveRun = pageRun;
        setRunState(r.state, r.summary);
      }
    } catch (e) { /* the next event or reconnect tries again */ }
  }

  const url = "/events" + (pageName === "run" ? "?run=" + pageRun : "");
  const es = new EventSource(url);
  es.addEventListener("open", resync);
  es.addEventListener("resync", resync);
  es.addEventListener("job", m => onJob(JSON.parse(m.data)));
  for (const name of ["started", "finished", "failed", "stranded", "queued"]) {
    es.addEventListener(name, m => {
      const ev = JSON.parse(m.data);
      const status = { started: "running", finished: "done", failed: "failed", stranded: "stranded", queued: "queued" }[name];
      if (mine(ev)) setNode(ev.node, status);
    });
  }
  es.addEventListener("run_started", m => {
    const ev = JSON.parse(m.data);
    if (pageName === "apply") {
      liveRun = ev.run;
      const el = document.getElementById("live-run");
      if (el) el.innerHTML = '<a href="/runs/' + ev.run + '">run ' + ev.run + "</a>";
      setRunState("running");
    } else if (pageName === "run" && ev.run === pageRun) {
      liveRun = pageRun;
      setRunState("running");
    }
    if (pageName === "runs") refreshRuns();
  });
  es.addEventListener("run_ended", m => {
    const ev = JSON.parse(m.data);
    if (pageName === "apply" || (pageName === "run" && ev.run === pageRun)) setRunState(ev.state, ev.summary);
    if (pageName === "runs") refreshRuns();
  });
  es.addEventListener("run_state", m => {
    const ev = JSON.parse(m.data);
    if (pageName === "run" && ev.run === pageRun) setRunState(ev.state, ev.summary);
  });

  // --- the runs list -------------------------------------------------------
  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }
  async function refreshRuns() {
    const tbody = document.querySelector("#runs tbody");
    if (!tbody) { if (pageName === "runs") { const r = await getJSON("/api/runs"); if (r.length) location.reload(); } return; }
    const runs = await getJSON("/api/runs");
    tbody.innerHTML = runs.map(r =>
      '<tr data-run="' + r.id + '"><td><a href="/runs/' + r.id + '">run ' + r.id + "</a></td>" +
      '<td><span class="badge st-' + esc(r.state) + '">' + esc(r.state) + "</span></td>" +
      "<td>" + esc(r.started_at) + "</td><td>" + esc(r.ended_at) + "</td><td>" + esc(r.duration) + "</td>" +
      "<td>" + esc(r.work) + "</td><td>" + esc(r.counts) + "</td></tr>").join("");
  }
  if (pageName === "runs") setInterval(() => refreshRuns().catch(() => {}), 3000);

  // --- the mapping search ----------------------------------------------------
  const search = document.getElementById("mapping-search");
  if (search) {
    const count = document.getElementById("mapping-count");
    const filter = () => {
      const q = search.value.trim().toLowerCase();
      let shown = 0, total = 0;
      document.querySelectorAll("#mapping tbody").forEach(tb => {
        let any = false;
        tb.querySelectorAll("tr.entry").forEach(tr => {
          total++;
          const hit = !q || tr.textContent.toLowerCase().includes(q);
          tr.classList.toggle("hidden", !hit);
          if (hit) { shown++; any = true; }
        });
        tb.classList.toggle("hidden", !any);
      });
      if (count) count.textContent = shown + " of " + total + " entries";
      const u = new URL(location.href);
      if (q) u.searchParams.set("q", search.value); else u.searchParams.delete("q");
      history.replaceState(null, "", u.pathname + u.search);
    };
    search.addEventListener("input", filter);
    search.form.addEventListener("submit", e => { e.preventDefault(); filter(); });
  }

  // --- the dependency graph: click a box to see what it waits on -----------
  const graph = document.getElementById("graph");
  if (graph) graph.addEventListener("click", e => {
    const g = e.target.closest("g.node[data-key]");
    graph.querySelectorAll(".hl").forEach(x => x.classList.remove("hl"));
    if (!g) return;
    const key = g.dataset.key;
    g.classList.add("hl");
    graph.querySelectorAll("path.edge").forEach(p => {
      if (p.dataset.from === key || p.dataset.to === key) p.classList.add("hl");
    });
  });
})();
