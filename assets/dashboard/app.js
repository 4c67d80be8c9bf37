// The township's live dashboard: signs in, then polls the statistics API
// every few seconds with If-None-Match, keeping what it has on 304.
// Plain JS, no framework; every text from the server goes into the DOM
// through textContent, never as HTML.
"use strict";

(function () {
  const POLL_MS = 5000;
  const SESSION_KEY = "xianfeng.dashboard.session";

  const KIND_LABELS = {
    assistance: "结对帮扶",
    condolence: "走访慰问",
    dispute_screening: "矛盾排查",
    safety_check: "安全隐患排查",
    policy_outreach: "政策宣传",
    other: "其他",
  };
  const SUBJECT_LABELS = { visit: "走访", mediation_report: "纠纷", pledge: "承诺" };
  const RISK_LABELS = { high: "高风险", medium: "中风险", low: "低风险" };
  const ROLE_LABELS = { township_admin: "乡镇管理员", secretary: "支部书记" };

  const $ = (id) => document.getElementById(id);

  // ---- small DOM helpers (text only) ----

  /** An element with attributes and children; strings become text nodes. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else node.setAttribute(key, String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const integer = (n) => (typeof n === "number" ? n.toLocaleString("zh-CN") : "—");
  const percent = (f) => (typeof f === "number" ? (f * 100).toFixed(1) + "%" : "—");
  const hours = (h) => (typeof h === "number" ? h.toFixed(1) + " 小时" : "—");

  function age(iso) {
    const ms = Date.now() - Date.parse(iso);
    if (!(ms >= 0)) return "刚刚";
    const h = ms / 3600000;
    if (h < 1) return Math.max(1, Math.round(ms / 60000)) + " 分钟";
    if (h < 48) return h.toFixed(1) + " 小时";
    return Math.floor(h / 24) + " 天";
  }

  function clock(date) {
    const two = (n) => String(n).padStart(2, "0");
    return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
  }

  // ---- session: tokens in sessionStorage, refreshed once on 401 ----

  let session = null;
  try {
    session = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
  } catch (_) {
    session = null;
  }

  function saveSession(tokens) {
    session = { access_token: tokens.access_token, refresh_token: tokens.refresh_token };
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  }

  function clearSession() {
    session = null;
    sessionStorage.removeItem(SESSION_KEY);
  }

  class SignedOut extends Error {}

  async function errorMessage(res, fallback) {
    try {
      const body = await res.json();
      if (body && body.error && body.error.message) return body.error.message;
    } catch (_) {
      /* not JSON */
    }
    return fallback;
  }

  // A refresh token is spent on use, and reusing a spent one ends every
  // session of the sign-in: concurrent 401s must share one refresh.
  let refreshing = null;
  function refreshTokens() {
    if (!refreshing) {
      refreshing = (async () => {
        const token = session && session.refresh_token;
        if (!token) throw new SignedOut();
        const res = await fetch("/api/v1/auth/refresh", {
          method: "POST",
          cache: "no-store",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ refresh_token: token }),
        });
        if (!res.ok) throw new SignedOut();
        saveSession(await res.json());
      })().finally(() => {
        refreshing = null;
      });
    }
    return refreshing;
  }

  /** GET with the bearer token; on 401 refreshes once and retries. */
  async function authorized(url, headers) {
    for (let attempt = 0; ; attempt++) {
      if (!session) throw new SignedOut();
      const sent = session.access_token;
      const res = await fetch(url, {
        cache: "no-store",
        headers: Object.assign({ Authorization: "Bearer " + sent }, headers || {}),
      });
      if (res.status !== 401 || attempt > 0) return res;
      // Another request may have refreshed already while this one was out.
      if (session && session.access_token === sent) await refreshTokens();
    }
  }

  // ---- polling with ETags: the last tag and body per URL ----

  const cache = new Map(); // url -> {etag, data}

  /**
   * The URL's data: fresh on 200, the kept copy on 304. Answers
   * `{data, changed}`, or `{forbidden: true}` on 403.
   */
  async function poll(url) {
    const kept = cache.get(url);
    const headers = kept && kept.etag ? { "If-None-Match": kept.etag } : {};
    const res = await authorized(url, headers);
    if (res.status === 304 && kept) return { data: kept.data, changed: false };
    if (res.status === 403) return { forbidden: true };
    if (!res.ok) throw new Error(await errorMessage(res, "HTTP " + res.status));
    const data = await res.json();
    cache.set(url, { etag: res.headers.get("ETag"), data });
    return { data, changed: true };
  }

  // ---- rendering ----

  function setCard(name, value, raw, sub, alert) {
    const card = document.querySelector(`[data-card="${name}"]`);
    if (!card) return;
    const valueNode = card.querySelector(".value");
    valueNode.textContent = value;
    valueNode.setAttribute("data-value", String(raw));
    card.querySelector(".sub").textContent = sub || "";
    card.classList.toggle("alert", Boolean(alert));
  }

  function renderOverview(o) {
    const s = o.visits.by_status || {};
    setCard("members", integer(o.members), o.members, "在册党员和书记");
    setCard("households", integer(o.households), o.households, `已走访 ${integer(o.households_visited)} 户`);
    setCard(
      "coverage",
      percent(o.visit_coverage),
      o.visit_coverage,
      `${integer(o.households_visited)} / ${integer(o.households)} 户`,
      o.households > 0 && o.visit_coverage < 0.5,
    );
    setCard(
      "visits",
      integer(o.visits.total),
      o.visits.total,
      `待审 ${integer(s.pending || 0)} · 通过 ${integer(s.approved || 0)} · 退回 ${integer(s.returned || 0)}`,
    );
    setCard(
      "pending",
      integer(o.pending_reviews),
      o.pending_reviews,
      o.oldest_pending_hours === null ? "无人等待" : `最久等待 ${hours(o.oldest_pending_hours)}`,
      o.oldest_pending_hours !== null && o.oldest_pending_hours >= 48,
    );
    setCard(
      "mediation",
      integer(o.mediation.total),
      o.mediation.total,
      `化解率 ${percent(o.mediation.resolution_rate)} · 上报 ${integer(o.mediation.escalated)}`,
    );
    setCard(
      "pledges",
      integer(o.pledges.total),
      o.pledges.total,
      `践诺率 ${percent(o.pledges.fulfilment_rate)} · 已践诺 ${integer(o.pledges.fulfilled)}`,
    );
    const r = o.rectifications;
    setCard(
      "rectifications",
      integer(r.open),
      r.open,
      r.overdue ? `逾期未报 ${integer(r.overdue)} 项` : "无逾期",
      r.overdue > 0,
    );
  }

  const branchNames = new Map();

  function renderBranches(rows) {
    const body = $("branches").querySelector("tbody");
    const coverageClass = (f) => (f < 0.5 ? "bad" : f < 0.8 ? "warn" : "good");
    body.replaceChildren(
      ...rows.map((r) => {
        branchNames.set(r.branch_id, r.name);
        return el(
          "tr",
          { "data-branch": r.branch_id },
          el("td", {}, r.name),
          el("td", {}, integer(r.members)),
          el("td", {}, integer(r.households)),
          el("td", { class: r.households ? coverageClass(r.visit_coverage) : null }, percent(r.visit_coverage)),
          el("td", {}, integer(r.visits.total)),
          el("td", {}, integer(r.pending_reviews)),
          el(
            "td",
            { class: r.oldest_pending_hours >= 48 ? "bad" : null },
            r.oldest_pending_hours === null ? "—" : hours(r.oldest_pending_hours),
          ),
          el("td", {}, r.mediation.total ? percent(r.mediation.resolution_rate) : "—"),
          el("td", {}, r.pledges.total ? percent(r.pledges.fulfilment_rate) : "—"),
          el(
            "td",
            { class: r.rectifications.overdue ? "bad" : null },
            r.rectifications.open
              ? `${integer(r.rectifications.open)}（${integer(r.rectifications.overdue)}）`
              : "—",
          ),
        );
      }),
    );
    if (!rows.length) body.append(el("tr", {}, el("td", { colspan: 10 }, "暂无支部")));
  }

  function emptyItem(text) {
    return el("li", { class: "empty" }, text);
  }

  function renderEscalations(list) {
    const items = list.items || [];
    $("escalations-count").textContent = items.length ? `${items.length} 件未受理` : "";
    $("escalations").replaceChildren(
      ...(items.length
        ? items.map((r) =>
            el(
              "li",
              {},
              el(
                "span",
                { class: "title" },
                el("span", { class: "tag " + r.risk_level }, RISK_LABELS[r.risk_level] || r.risk_level),
                r.title,
              ),
              el("span", { class: "age" }, r.escalation ? age(r.escalation.escalated_at) : ""),
              el(
                "span",
                { class: "meta" },
                [branchNames.get(r.branch_id), r.escalation && r.escalation.reason].filter(Boolean).join(" · "),
              ),
            ),
          )
        : [emptyItem("没有待受理的上报纠纷")]),
    );
  }

  function renderReviews(list, total) {
    const items = list.items || [];
    $("reviews-count").textContent = typeof total === "number" ? `共 ${total} 件` : "";
    $("reviews").replaceChildren(
      ...(items.length
        ? items.map((r) => {
            const waited = (Date.now() - Date.parse(r.submitted_at)) / 3600000;
            return el(
              "li",
              {},
              el(
                "span",
                { class: "title" },
                el("span", { class: "tag" }, SUBJECT_LABELS[r.subject_kind] || r.subject_kind),
                r.title,
              ),
              el("span", { class: "age" + (waited >= 48 ? " old" : "") }, "等待 " + age(r.submitted_at)),
              el(
                "span",
                { class: "meta" },
                [r.submitted_by_name, branchNames.get(r.branch_id)].filter(Boolean).join(" · "),
              ),
            );
          })
        : [emptyItem("没有待审核的事项")]),
    );
  }

  // ---- charts (ECharts, canvas) ----

  const charts = {};

  function chart(id) {
    if (!window.echarts) return null;
    if (!charts[id]) charts[id] = window.echarts.init($(id), null, { renderer: "canvas" });
    return charts[id];
  }

  function renderWeekly(series) {
    const c = chart("chart-weekly");
    if (!c) return;
    const items = series.items || [];
    const labels = items.map((p) => {
      const d = p.bucket_start.slice(5, 10).replace("-", "/");
      return d;
    });
    c.setOption({
      color: ["#c8161d"],
      grid: { left: 40, right: 16, top: 24, bottom: 30 },
      tooltip: { trigger: "axis", formatter: (ps) => `${ps[0].axisValue} 起一周<br>走访 ${ps[0].value} 次` },
      xAxis: { type: "category", data: labels, axisTick: { alignWithLabel: true } },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        {
          name: "走访",
          type: "bar",
          barMaxWidth: 28,
          data: items.map((p) => p.count),
          label: { show: true, position: "top", fontSize: 11 },
        },
      ],
    });
  }

  let lastKinds = null;

  function renderKinds(byKind) {
    const c = chart("chart-kinds");
    if (!c) return;
    lastKinds = byKind;
    // On a phone the legend goes under the ring, where it cannot cover labels.
    const narrow = $("chart-kinds").clientWidth < 480;
    // Kinds nobody visited for would only crowd the ring with zeros.
    const data = Object.entries(byKind || {})
      .filter(([, count]) => count > 0)
      .map(([kind, count]) => ({ name: KIND_LABELS[kind] || kind, value: count }));
    c.setOption({
      title: {
        show: data.length === 0,
        text: "暂无走访",
        left: "center",
        top: "middle",
        textStyle: { color: "#9ca3af", fontSize: 14, fontWeight: "normal" },
      },
      color: ["#c8161d", "#f5a623", "#2f7ed8", "#16a34a", "#8b5cf6", "#9ca3af"],
      tooltip: { trigger: "item", formatter: "{b}：{c} 次（{d}%）" },
      legend: narrow
        ? { orient: "horizontal", left: "center", bottom: 0, itemWidth: 12, itemHeight: 12 }
        : { orient: "vertical", right: 8, top: "middle", itemWidth: 12, itemHeight: 12, textStyle: { fontSize: 13 } },
      series: [
        {
          name: "走访类型",
          type: "pie",
          radius: narrow ? ["30%", "58%"] : ["38%", "70%"],
          center: narrow ? ["50%", "42%"] : ["38%", "52%"],
          avoidLabelOverlap: true,
          label: { formatter: "{c}", fontSize: 12 },
          data,
        },
      ],
    });
  }

  window.addEventListener("resize", () => {
    for (const c of Object.values(charts)) c.resize();
    if (lastKinds) renderKinds(lastKinds);
  });

  // ---- the polling loop ----

  let me = null;
  let timer = null;
  let running = false;

  function isAdmin() {
    return me && me.role === "township_admin";
  }

  async function refresh() {
    const admin = isAdmin();
    const urls = {
      overview: "/api/v1/stats/overview",
      weekly: "/api/v1/stats/timeseries?metric=visits&bucket=week",
      reviews: "/api/v1/reviews?status=pending&limit=50",
    };
    if (admin) {
      urls.branches = "/api/v1/stats/branches";
      urls.escalations = "/api/v1/escalations?status=open&limit=50";
    }
    const names = Object.keys(urls);
    const results = await Promise.all(names.map((n) => poll(urls[n])));
    const got = Object.fromEntries(names.map((n, i) => [n, results[i]]));

    // Branch names first: the lists below name branches.
    if (got.branches) {
      $("branches-panel").hidden = Boolean(got.branches.forbidden);
      if (got.branches.changed) renderBranches(got.branches.data.items || []);
    }
    if (got.escalations) {
      $("escalations-panel").hidden = Boolean(got.escalations.forbidden);
      if (got.escalations.changed) renderEscalations(got.escalations.data);
    }
    const overview = got.overview.data;
    if (got.overview.changed) renderOverview(overview);
    if (got.weekly.changed) renderWeekly(got.weekly.data);
    if (got.overview.changed) renderKinds(overview.visits.by_kind);
    if (!got.reviews.forbidden) renderReviews(got.reviews.data, overview && overview.pending_reviews);

    $("stamp").textContent = "最后更新：" + clock(new Date());
    if (overview && overview.generated_at) {
      $("stamp").title = "数据生成于 " + new Date(overview.generated_at).toLocaleString("zh-CN");
    }
  }

  async function tick() {
    timer = null;
    if (!running) return;
    try {
      await refresh();
      $("offline").hidden = true;
    } catch (err) {
      if (err instanceof SignedOut) {
        showLogin("登录已过期，请重新登录。");
        return;
      }
      $("offline").hidden = false;
      console.warn("dashboard poll failed:", err);
    }
    schedule();
  }

  function schedule() {
    if (running && !timer && !document.hidden) timer = setTimeout(tick, POLL_MS);
  }

  // A hidden tab stops asking; showing it again asks at once.
  document.addEventListener("visibilitychange", () => {
    if (!running || document.hidden) return;
    if (timer) clearTimeout(timer);
    tick();
  });

  // ---- screens ----

  function showLogin(message) {
    running = false;
    if (timer) clearTimeout(timer);
    timer = null;
    clearSession();
    cache.clear();
    me = null;
    $("board").hidden = true;
    $("session").hidden = true;
    $("login").hidden = false;
    $("scope-name").textContent = "乡镇看板";
    const error = $("login-error");
    error.textContent = message || "";
    error.hidden = !message;
    $("phone").focus();
  }

  async function showBoard() {
    const res = await authorized("/api/v1/me");
    if (!res.ok) throw new SignedOut();
    me = await res.json();
    if (!ROLE_LABELS[me.role]) {
      await signOut();
      showLogin("看板仅供乡镇管理员和支部书记使用，普通党员请使用小程序。");
      return;
    }
    const scope = me.branch ? me.branch.name : me.township.name;
    $("scope-name").textContent = scope + " 看板";
    document.title = `创先争优 · ${scope}`;
    $("who").textContent = `${me.name}（${ROLE_LABELS[me.role]}）`;
    if (me.branch) branchNames.set(me.branch.id, me.branch.name);
    $("branches-panel").hidden = !isAdmin();
    $("escalations-panel").hidden = !isAdmin();
    $("login").hidden = true;
    $("session").hidden = false;
    $("board").hidden = false;
    running = true;
    await tick();
  }

  async function signOut() {
    const token = session && session.refresh_token;
    if (token) {
      try {
        await fetch("/api/v1/auth/logout", {
          method: "POST",
          cache: "no-store",
          headers: { "Content-Type": "application/json", Authorization: "Bearer " + session.access_token },
          body: JSON.stringify({ refresh_token: token }),
        });
      } catch (_) {
        /* the session ends here either way */
      }
    }
    clearSession();
  }

  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = $("login-submit");
    const error = $("login-error");
    button.disabled = true;
    error.hidden = true;
    try {
      const res = await fetch("/api/v1/auth/login", {
        method: "POST",
        cache: "no-store",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ phone: $("phone").value.trim(), password: $("password").value }),
      });
      if (!res.ok) {
        const fallback = res.status === 401 ? "手机号或密码错误" : "登录失败，请稍后再试";
        throw new Error(await errorMessage(res, fallback));
      }
      const tokens = await res.json();
      saveSession(tokens);
      $("password").value = "";
      await showBoard();
    } catch (err) {
      if (err instanceof SignedOut) {
        showLogin("登录失败，请重试。");
      } else if ($("board").hidden) {
        error.textContent = err.message || "登录失败，请稍后再试";
        error.hidden = false;
      }
    } finally {
      button.disabled = false;
    }
  });

  $("logout").addEventListener("click", async () => {
    await signOut();
    showLogin();
  });

  if (session) {
    showBoard().catch(() => showLogin("登录已过期，请重新登录。"));
  } else {
    showLogin();
  }
})();
