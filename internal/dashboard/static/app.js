// gslbd dashboard: reads the NITRO API with the session cookie of a
// NITRO login. Every value is written with textContent: nothing the API
// returns is parsed as HTML.
"use strict";

const api = "/nitro/v1/";
const $ = (id) => document.getElementById(id);
let last = {};        // service name -> {hits, at}: for answer rates
let domainLast = {};  // domain -> {hits, at}
let stream = null;
let refreshTimer = null;
let pollTimer = null;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
  return e;
}

// bar is a share as a bar (its width set through the CSSOM: the page's
// Content-Security-Policy allows no inline style attribute).
function bar(percent) {
  const b = el("span", { class: "bar" });
  b.style.width = percent + "px";
  return b;
}

function stateSpan(s) {
  return el("span", { class: "state " + String(s || "UNKNOWN").replace(/ /g, "_") }, s || "UNKNOWN");
}

async function call(method, path, body) {
  const opts = { method, credentials: "same-origin", headers: { "Accept": "application/json" } };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const r = await fetch(api + path, opts);
  let j = {};
  try { j = await r.json(); } catch (e) { /* no body */ }
  if (r.status === 401) throw Object.assign(new Error(j.message || "not logged in"), { auth: true });
  if (!r.ok) throw new Error(j.message || ("HTTP " + r.status));
  return j;
}

function show(loggedIn) {
  $("login-view").hidden = loggedIn;
  $("main-view").hidden = !loggedIn;
  $("logout").hidden = !loggedIn;
}

async function login(ev) {
  ev.preventDefault();
  $("login-error").textContent = "";
  try {
    await call("POST", "config/login", { login: { username: $("username").value, password: $("password").value } });
    $("password").value = "";
    $("who").textContent = $("username").value;
    start();
  } catch (e) {
    $("login-error").textContent = e.message;
  }
}

async function logout() {
  try { await call("POST", "config/logout", { logout: {} }); } catch (e) { /* gone already */ }
  stop();
  show(false);
}

function stop() {
  if (stream) stream.close();
  stream = null;
  clearInterval(pollTimer);
  $("live").textContent = "offline";
  $("live").className = "badge";
}

function start() {
  show(true);
  refresh();
  clearInterval(pollTimer);
  pollTimer = setInterval(refresh, 2000);
  openStream();
}

// soon refreshes shortly after an event (several events, one refresh).
function soon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, 50);
}

async function refresh() {
  let sites, vservers, services, bindings, domains;
  try {
    [sites, vservers, services, bindings, domains] = await Promise.all([
      call("GET", "config/gslbsite"), call("GET", "config/gslbvserver"), call("GET", "config/gslbservice"),
      call("GET", "config/gslbvserver_binding"), call("GET", "stat/gslbdomain")]);
  } catch (e) {
    if (e.auth) { stop(); show(false); return; }
    $("status").textContent = "refresh failed: " + e.message;
    return;
  }
  $("status").textContent = "updated " + new Date().toLocaleTimeString();
  renderSites(sites.gslbsite || []);
  renderVServers(vservers.gslbvserver || [], services.gslbservice || [], bindings.gslbvserver_binding || [], domains.gslbdomain || []);
}

function renderSites(list) {
  const body = $("sites").tBodies[0];
  body.replaceChildren(...list.map((s) => el("tr", { "data-site": s.sitename },
    el("td", {}, s.sitename),
    el("td", {}, s.sitetype || "LOCAL"),
    el("td", {}, s.siteipaddress || ""),
    el("td", { class: "link" }, stateSpan(s.mepstate || s.status)),
    el("td", {}, s.meprttusec ? (Number(s.meprttusec) / 1000).toFixed(2) + " ms" : ""),
    el("td", {}, s.meplastheard ? new Date(s.meplastheard).toLocaleTimeString() : ""),
    el("td", { class: "reason" }, [s.mepreason, s.mepsince ? "since " + new Date(s.mepsince).toLocaleTimeString() : ""].filter(Boolean).join(" · ")))));
}

function rate(store, key, hits, now) {
  const prev = store[key];
  store[key] = { hits, at: now };
  if (!prev || now <= prev.at) return null;
  return Math.max(0, (hits - prev.hits) / ((now - prev.at) / 1000));
}

function renderVServers(vservers, services, bindings, domains) {
  const now = Date.now();
  const svc = Object.fromEntries(services.map((s) => [s.servicename.toLowerCase(), s]));
  const byVs = Object.fromEntries(bindings.map((b) => [b.name.toLowerCase(), b]));
  const dom = Object.fromEntries(domains.map((d) => [d.name.toLowerCase(), d]));
  const rates = {};
  for (const s of services) rates[s.servicename.toLowerCase()] = rate(last, s.servicename.toLowerCase(), Number(s.vsvrservicehits || 0), now);
  const cards = vservers.map((v) => {
    const b = byVs[v.name.toLowerCase()] || {};
    const bound = (b.gslbvserver_gslbservice_binding || []).map((x) => x.servicename);
    const total = bound.reduce((n, s) => n + (rates[s.toLowerCase()] || 0), 0);
    const rows = bound.map((name) => {
      const s = svc[name.toLowerCase()] || { servicename: name };
      const r = rates[name.toLowerCase()];
      const share = total > 0 ? Math.round(100 * (r || 0) / total) : 0;
      return el("tr", { "data-service": name },
        el("td", {}, name),
        el("td", {}, s.sitename || ""),
        el("td", {}, (s.ipaddress || s.ip || "") + (s.port ? ":" + s.port : "")),
        el("td", { class: "svc-state" }, stateSpan(s.svrstate || s.state)),
        el("td", { class: "reason" }, s.statereason || s.healthsource || ""),
        el("td", { class: "share" }, bar(share), r === null ? "…" : share + "% (" + r.toFixed(1) + "/s)"));
    });
    const doms = (b.gslbvserver_domain_binding || []).map((d) => {
      const st = dom[d.domainname.toLowerCase()];
      const r = st ? rate(domainLast, d.domainname.toLowerCase(), Number(st.dnstotalqueries || 0), now) : null;
      return el("li", {}, d.domainname, el("span", { class: "reason" }, r === null ? "" : " " + r.toFixed(1) + " queries/s"));
    });
    const meta = [v.lbmethod, v.answeringfrom && v.answeringfrom !== v.name ? "answering from " + v.answeringfrom : "",
      v.alldown ? "no service UP: " + v.alldown : "", v.lbrrreasontext || ""].filter(Boolean).join(" · ");
    return el("div", { class: "vserver", "data-vserver": v.name },
      el("h3", {}, v.name + " ", stateSpan(v.curstate || v.state)),
      el("div", { class: "meta" }, meta),
      el("ul", { class: "domains" }, ...doms),
      el("table", {}, el("thead", {}, el("tr", {}, ...["service", "site", "address", "state", "reason", "answers"].map((h) => el("th", {}, h)))),
        el("tbody", {}, ...rows)));
  });
  $("vservers").replaceChildren(...cards);
}

function openStream() {
  if (stream) stream.close();
  stream = new EventSource(api + "stat/gslbevents?since=0", { withCredentials: true });
  stream.onopen = () => { $("live").textContent = "live"; $("live").className = "badge on"; };
  stream.onerror = () => { $("live").textContent = "reconnecting"; $("live").className = "badge"; };
  for (const kind of ["service", "vserver", "site", "config"]) {
    stream.addEventListener(kind, (m) => {
      let e;
      try { e = JSON.parse(m.data); } catch (err) { return; }
      addEvent(e);
      soon();
    });
  }
}

function addEvent(e) {
  const list = $("events");
  const when = new Date(e.time).toLocaleTimeString();
  let what = e.from || e.to ? (e.from || "") + " → " + (e.to || "") : "";
  const who = [e.source, e.user].filter(Boolean).join(", ");
  const li = el("li", { "data-seq": e.seq, "data-kind": e.kind, "data-name": e.name },
    el("span", { class: "reason" }, when + " "),
    el("span", { class: "kind" }, e.kind + " " + e.name + " "),
    what, e.reason ? el("span", { class: "reason" }, " (" + e.reason + ")") : null,
    who ? el("span", { class: "reason" }, " by " + who) : null,
    e.detail ? el("pre", {}, e.detail) : null);
  list.prepend(li);
  while (list.children.length > 200) list.lastElementChild.remove();
}

async function explain(ev) {
  ev.preventDefault();
  const q = new URLSearchParams({ domain: $("explain-domain").value, type: $("explain-type").value });
  if ($("explain-client").value) q.set("client", $("explain-client").value);
  if ($("explain-ecs").value) q.set("ecs", $("explain-ecs").value);
  const out = $("explain-out");
  out.textContent = "…";
  try {
    const t = (await call("GET", "stat/gslbexplain?" + q.toString())).gslbexplain || {};
    const lines = [t.domain + " " + t.type + " from " + t.resolver + (t.ecs ? " (ECS " + t.ecs + ")" : "")];
    if (t.view) lines.push("view: " + t.view);
    if (t.vserver) lines.push("vserver: " + t.vserver + " (answering from " + (t.serving || "none") + "), method " + (t.method || ""));
    if (t.fallback) lines.push("fallback: " + t.fallback);
    if (t.candidates && t.candidates.length) {
      lines.push("candidates:");
      for (const c of t.candidates) lines.push("    " + c.service + " " + c.address + " (site " + (c.site || "-") + ", weight " + c.weight + ")");
    }
    (t.steps || []).forEach((s, i) => lines.push((i + 1) + ") " + s));
    lines.push("answer: " + t.rcode + " " + (t.answer || []).join(" ") + (t.ttl ? ", TTL " + t.ttl : ""));
    out.textContent = lines.join("\n");
  } catch (e) {
    if (e.auth) { stop(); show(false); return; }
    out.textContent = "error: " + e.message;
  }
}

async function init() {
  $("login-form").addEventListener("submit", login);
  $("explain-form").addEventListener("submit", explain);
  $("logout").addEventListener("click", logout);
  try {
    await call("GET", "stat/gslbvserver");
    start();
  } catch (e) {
    show(false);
  }
}

init();
