// <herald-inbox>: Herald's embeddable in-app inbox. No framework, no
// external requests; everything lives in a shadow root. Served by Herald
// at /embed/inbox.js. Messages are text: they are written with
// textContent, never parsed as HTML.
//
//   <script src="https://herald.example.com/embed/inbox.js" defer></script>
//   <herald-inbox server="https://herald.example.com" token="hlu_…"
//                 lang="en" theme="auto"></herald-inbox>
//
// Attributes: server (Herald's base URL; default the script's origin),
// token (an end-user token the host app's backend signed), lang (en, zh;
// default the page's), theme (light, dark, auto: the system's). Setting
// the token attribute again (a fresh token) reconnects. The element
// dispatches "herald-inbox-error" with {detail: {status, message}} when
// Herald refuses the token (401: mint a new one) and "herald-inbox-unread"
// with {detail: {unread}} when the count changes.
(() => {
  "use strict";
  if (customElements.get("herald-inbox")) return;

  const scriptOrigin = (() => {
    try { return new URL(document.currentScript.src).origin; } catch (e) { return ""; }
  })();

  const STRINGS = {
    en: {
      bell: "Notifications", title: "Notifications", markAll: "Mark all read", markRead: "Mark read",
      more: "Load more", empty: "No notifications yet.", prefs: "Preferences", back: "Back",
      prefsTitle: "Notification preferences", required: "Required", category: "Category",
      noCategories: "There is nothing to choose yet.", error: "Could not reach the notification service.",
      expired: "Your session for notifications has expired. Reload the page.", loading: "Loading…",
      channels: { inbox: "In-app", email: "Email", sms: "SMS", dingtalk: "DingTalk", lark: "Feishu", wecom: "WeCom" },
      unread: (n) => n === 1 ? "1 unread notification" : n + " unread notifications",
    },
    zh: {
      bell: "通知", title: "通知", markAll: "全部标为已读", markRead: "标为已读",
      more: "加载更多", empty: "暂无通知。", prefs: "通知设置", back: "返回",
      prefsTitle: "通知偏好设置", required: "必需", category: "类别",
      noCategories: "暂无可设置的项目。", error: "无法连接通知服务。",
      expired: "通知会话已过期，请刷新页面。", loading: "加载中…",
      channels: { inbox: "站内信", email: "邮件", sms: "短信", dingtalk: "钉钉", lark: "飞书", wecom: "企业微信" },
      unread: (n) => n + " 条未读通知",
    },
  };

  const CSS = `
:host { --hi-bg: #fff; --hi-fg: #1f2328; --hi-muted: #656d76; --hi-border: #d0d7de; --hi-accent: #0969da;
  --hi-unread: #ddf4ff; --hi-badge: #cf222e; --hi-badge-fg: #fff; --hi-hover: #f6f8fa;
  display: inline-block; position: relative; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", sans-serif; color: var(--hi-fg); }
:host([theme="dark"]) { --hi-bg: #161b22; --hi-fg: #e6edf3; --hi-muted: #8d96a0; --hi-border: #30363d; --hi-accent: #4493f8;
  --hi-unread: #12263f; --hi-badge: #f85149; --hi-badge-fg: #fff; --hi-hover: #21262d; }
@media (prefers-color-scheme: dark) {
  :host(:not([theme="light"])) { --hi-bg: #161b22; --hi-fg: #e6edf3; --hi-muted: #8d96a0; --hi-border: #30363d; --hi-accent: #4493f8;
    --hi-unread: #12263f; --hi-badge: #f85149; --hi-badge-fg: #fff; --hi-hover: #21262d; }
}
button { font: inherit; color: inherit; cursor: pointer; }
.bell { position: relative; background: none; border: 0; padding: 6px; border-radius: 6px; color: var(--hi-fg); }
.bell:hover { background: var(--hi-hover); }
.bell svg { width: 22px; height: 22px; display: block; fill: currentColor; }
.badge { position: absolute; top: 0; right: 0; min-width: 16px; height: 16px; padding: 0 4px; box-sizing: border-box;
  border-radius: 8px; background: var(--hi-badge); color: var(--hi-badge-fg); font-size: 11px; line-height: 16px; text-align: center; }
.badge[hidden] { display: none; }
.panel { position: absolute; right: 0; top: calc(100% + 6px); width: 360px; max-width: 92vw; max-height: 480px; overflow: auto;
  background: var(--hi-bg); color: var(--hi-fg); border: 1px solid var(--hi-border); border-radius: 8px;
  box-shadow: 0 8px 24px rgba(0,0,0,.2); z-index: 2147483000; }
.panel[hidden] { display: none; }
header { display: flex; align-items: center; gap: 8px; padding: 10px 12px; border-bottom: 1px solid var(--hi-border); position: sticky; top: 0; background: var(--hi-bg); }
header h2 { font-size: 15px; margin: 0; flex: 1; }
.link { background: none; border: 0; color: var(--hi-accent); padding: 2px 4px; }
.link:disabled { color: var(--hi-muted); cursor: default; }
ul { list-style: none; margin: 0; padding: 0; }
li.msg { padding: 10px 12px; border-bottom: 1px solid var(--hi-border); display: grid; grid-template-columns: 1fr auto; gap: 2px 8px; }
li.msg.unread { background: var(--hi-unread); }
.msg .t { font-weight: 600; overflow-wrap: anywhere; }
.msg .b { grid-column: 1 / -1; white-space: pre-wrap; overflow-wrap: anywhere; color: var(--hi-fg); }
.msg time { grid-column: 1 / -1; color: var(--hi-muted); font-size: 12px; }
.note { padding: 16px 12px; color: var(--hi-muted); }
.more { display: block; width: 100%; padding: 8px; background: none; border: 0; color: var(--hi-accent); }
table { border-collapse: collapse; width: 100%; }
th, td { padding: 8px 10px; border-bottom: 1px solid var(--hi-border); text-align: center; }
th:first-child, td:first-child { text-align: left; }
.req { display: block; color: var(--hi-muted); font-size: 12px; }
`;

  const BELL = "M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1z";
  const PAGE = 10;

  // el makes an element; text is set with textContent, never as HTML.
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (v === true) e.setAttribute(k, "");
      else if (v !== false && v != null) e.setAttribute(k, String(v));
    }
    for (const c of children) if (c) e.append(c);
    return e;
  }

  class HttpError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  class HeraldInbox extends HTMLElement {
    static get observedAttributes() { return ["server", "token", "lang", "theme"]; }

    constructor() {
      super();
      this._root = this.attachShadow({ mode: "open" });
      this._messages = [];   // newest first
      this._next = "";       // cursor of the next page
      this._unread = 0;
      this._lastId = null;   // the stream's last event id
      this._view = "list";
      this._stream = null;   // AbortController of the stream
      this._retry = 1000;
      this._gen = 0;         // bumps on every (re)start: stale work stops
    }

    connectedCallback() { this._started = true; this._render(); this._start(); }
    disconnectedCallback() { this._started = false; this._stop(); }
    attributeChangedCallback(name, before, after) {
      // Before connectedCallback (an upgrade reports every attribute)
      // there is nothing to restart yet.
      if (!this._started || before === after) return;
      if (name === "lang") { this._render(); return; }
      if (name === "theme") return; // CSS follows the attribute
      this._start();
    }

    get _t() {
      const lang = (this.getAttribute("lang") || document.documentElement.lang || navigator.language || "en").toLowerCase();
      return lang.startsWith("zh") ? STRINGS.zh : STRINGS.en;
    }
    get _server() { return (this.getAttribute("server") || scriptOrigin).replace(/\/+$/, ""); }
    get _token() { return this.getAttribute("token") || ""; }

    async _api(method, path, body) {
      const headers = { Authorization: "Bearer " + this._token };
      if (body !== undefined) headers["Content-Type"] = "application/json";
      const resp = await fetch(this._server + "/api/v1/me" + path, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "omit", cache: "no-store",
      });
      if (resp.status === 204) return null;
      const data = await resp.json().catch(() => null);
      if (!resp.ok) throw new HttpError(resp.status, (data && (data.detail || data.title)) || resp.statusText);
      return data;
    }

    _stop() {
      this._gen++;
      if (this._stream) this._stream.abort();
      this._stream = null;
      clearTimeout(this._retryTimer);
    }

    async _start() {
      this._stop();
      const gen = this._gen;
      this._messages = []; this._next = ""; this._lastId = null; this._error = "";
      if (!this._token) { this._render(); return; }
      try {
        await Promise.all([this._loadPage(gen), this._refreshCount(gen)]);
      } catch (e) { this._fail(e); }
      if (gen !== this._gen) return;
      this._render();
      this._connect(gen);
    }

    async _loadPage(gen) {
      const q = "?limit=" + PAGE + (this._next ? "&cursor=" + encodeURIComponent(this._next) : "");
      const page = await this._api("GET", "/inbox" + q);
      if (gen !== this._gen) return;
      for (const m of page.items || []) if (!this._messages.some((x) => x.id === m.id)) this._messages.push(m);
      this._messages.sort((a, b) => b.id - a.id);
      this._next = page.next_cursor || "";
    }

    async _refreshCount(gen) {
      const c = await this._api("GET", "/inbox/unread-count");
      if (gen !== this._gen) return;
      if (c.unread !== this._unread) {
        this._unread = c.unread;
        this.dispatchEvent(new CustomEvent("herald-inbox-unread", { detail: { unread: c.unread } }));
      }
      this._renderBadge();
    }

    _fail(e) {
      this._error = e && e.status === 401 ? this._t.expired : this._t.error;
      this.dispatchEvent(new CustomEvent("herald-inbox-error", { detail: { status: (e && e.status) || 0, message: String((e && e.message) || e) } }));
      this._render();
    }

    // _connect follows the inbox stream over fetch, so that the token
    // travels in the Authorization header (EventSource cannot send one,
    // and a token in the URL would end up in logs); it resumes after the
    // last event id it saw (Last-Event-ID) whenever it reconnects.
    async _connect(gen) {
      const ctl = new AbortController();
      this._stream = ctl;
      const headers = { Authorization: "Bearer " + this._token, Accept: "text/event-stream" };
      if (this._lastId !== null) headers["Last-Event-ID"] = String(this._lastId);
      let status = 0;
      try {
        const resp = await fetch(this._server + "/api/v1/me/inbox/stream", { headers, signal: ctl.signal, credentials: "omit", cache: "no-store" });
        status = resp.status;
        if (!resp.ok) throw new HttpError(resp.status, resp.statusText);
        this._retry = 1000;
        const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done || gen !== this._gen) break;
          buf += value.replace(/\r\n?/g, "\n");
          let cut;
          while ((cut = buf.indexOf("\n\n")) >= 0) {
            this._onEvent(buf.slice(0, cut), gen);
            buf = buf.slice(cut + 2);
          }
        }
      } catch (e) {
        if (gen !== this._gen) return;
        if (status === 401 || status === 403) { this._fail(e); return; }
      }
      if (gen !== this._gen) return;
      // Reconnect after a pause that grows to 30 s while it keeps failing.
      this._retryTimer = setTimeout(() => { if (gen === this._gen) this._connect(gen); }, this._retry);
      this._retry = Math.min(this._retry * 2, 30000);
    }

    _onEvent(block, gen) {
      let id = null, event = "message", data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue;
        const i = line.indexOf(":");
        const field = i < 0 ? line : line.slice(0, i);
        const value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
        if (field === "id") id = value;
        else if (field === "event") event = value;
        else if (field === "data") data += (data ? "\n" : "") + value;
      }
      if (id !== null && /^\d+$/.test(id)) this._lastId = Number(id);
      if (event !== "message" || !data) return;
      let m;
      try { m = JSON.parse(data); } catch (e) { return; }
      if (!this._messages.some((x) => x.id === m.id)) {
        this._messages.unshift(m);
        this._messages.sort((a, b) => b.id - a.id);
        this._renderList();
      }
      this._refreshCount(gen).catch(() => {});
    }

    async _markRead(m) {
      const gen = this._gen;
      try {
        await this._api("POST", "/inbox/" + encodeURIComponent(m.id) + "/read");
        m.read_at = m.read_at || new Date().toISOString();
        this._renderList();
        await this._refreshCount(gen);
      } catch (e) { this._fail(e); }
    }

    async _markAll() {
      const gen = this._gen;
      try {
        await this._api("POST", "/inbox/read-all");
        const now = new Date().toISOString();
        for (const m of this._messages) m.read_at = m.read_at || now;
        this._renderList();
        await this._refreshCount(gen);
      } catch (e) { this._fail(e); }
    }

    async _more() {
      const gen = this._gen;
      try { await this._loadPage(gen); this._renderList(); } catch (e) { this._fail(e); }
    }

    async _openPrefs() {
      this._view = "prefs";
      this._panelData = null;
      this._render();
      try {
        this._panelData = await this._api("GET", "/preference-panel");
      } catch (e) { this._fail(e); return; }
      this._render();
    }

    // _setSwitch turns channel × category on or off: the person's rule
    // for the category, written revision-checked (read again on a
    // conflict with another tab's change).
    async _setSwitch(category, channel, enabled) {
      for (let attempt = 0; attempt < 3; attempt++) {
        const p = await this._api("GET", "/preferences");
        const rules = (p.rules || []).filter((r) => !(r.channel === channel && r.category === category && !r.event_type));
        rules.push({ channel, category, enabled });
        try {
          await this._api("PUT", "/preferences", { revision: p.revision, rules, quiet_hours: p.quiet_hours || [] });
          break;
        } catch (e) {
          if (e.status !== 409 || attempt === 2) throw e;
        }
      }
      this._panelData = await this._api("GET", "/preference-panel");
      this._render();
    }

    _render() {
      const t = this._t;
      const root = this._root;
      const open = this._open;
      root.textContent = "";
      root.append(el("style", { text: CSS }));
      const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
      svg.setAttribute("viewBox", "0 0 24 24");
      svg.setAttribute("aria-hidden", "true");
      const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
      path.setAttribute("d", BELL);
      svg.append(path);
      this._badge = el("span", { class: "badge", part: "badge", hidden: true });
      this._bell = el("button", { class: "bell", part: "bell", type: "button", "aria-haspopup": "true", "aria-expanded": open ? "true" : "false",
        onclick: () => { this._open = !this._open; if (!this._open) this._view = "list"; this._render(); } }, svg, this._badge);
      root.append(this._bell);
      this._renderBadge();
      const panel = el("div", { class: "panel", part: "panel", role: "dialog", "aria-label": t.title, hidden: !open });
      root.append(panel);
      if (open) {
        // Open towards the side with room: under the bell, right-aligned
        // when the bell sits on the right of the window.
        const r = this.getBoundingClientRect();
        const rightRoom = window.innerWidth - r.left;
        panel.style.left = rightRoom >= 372 || r.right < 372 ? "0" : "auto";
        panel.style.right = panel.style.left === "0" ? "auto" : "0";
      }
      if (this._view === "prefs") this._renderPrefs(panel);
      else {
        panel.append(el("header", {},
          el("h2", { text: t.title }),
          el("button", { class: "link mark-all", type: "button", text: t.markAll, disabled: this._unread === 0, onclick: () => this._markAll() }),
          el("button", { class: "link open-prefs", type: "button", text: t.prefs, onclick: () => this._openPrefs() })));
        this._list = el("div", { class: "list" });
        panel.append(this._list);
        this._renderList();
      }
    }

    _renderBadge() {
      if (!this._badge) return;
      const t = this._t;
      this._badge.textContent = this._unread > 99 ? "99+" : String(this._unread);
      this._badge.hidden = this._unread === 0;
      this._badge.dataset.count = String(this._unread);
      this._bell.setAttribute("aria-label", t.bell + (this._unread ? " — " + t.unread(this._unread) : ""));
      const all = this._root.querySelector(".mark-all");
      if (all) all.disabled = this._unread === 0;
    }

    _renderList() {
      const t = this._t;
      const box = this._list;
      if (!box) return;
      box.textContent = "";
      if (this._error) box.append(el("p", { class: "note error", role: "alert", text: this._error }));
      if (!this._messages.length && !this._error) box.append(el("p", { class: "note empty", text: this._token ? t.empty : "" }));
      const ul = el("ul", {});
      const fmt = new Intl.DateTimeFormat(t === STRINGS.zh ? "zh-CN" : "en", { dateStyle: "medium", timeStyle: "short" });
      for (const m of this._messages) {
        const unread = !m.read_at;
        const when = new Date(m.created_at);
        ul.append(el("li", { class: "msg" + (unread ? " unread" : ""), "data-id": m.id },
          el("span", { class: "t", text: m.title || "" }),
          unread ? el("button", { class: "link mark-read", type: "button", text: t.markRead, onclick: () => this._markRead(m) }) : el("span", {}),
          m.body ? el("span", { class: "b", text: m.body }) : null,
          el("time", { datetime: m.created_at, text: isNaN(when) ? "" : fmt.format(when) })));
      }
      box.append(ul);
      if (this._next) box.append(el("button", { class: "more", type: "button", text: t.more, onclick: () => this._more() }));
    }

    _renderPrefs(panel) {
      const t = this._t;
      panel.append(el("header", {},
        el("button", { class: "link back", type: "button", text: "‹ " + t.back, onclick: () => { this._view = "list"; this._render(); } }),
        el("h2", { text: t.prefsTitle })));
      const d = this._panelData;
      if (this._error) panel.append(el("p", { class: "note error", role: "alert", text: this._error }));
      if (!d) { panel.append(el("p", { class: "note", text: t.loading })); return; }
      if (!d.categories.length || !d.channels.length) { panel.append(el("p", { class: "note", text: t.noCategories })); return; }
      const head = el("tr", {}, el("th", { scope: "col", text: t.category }));
      for (const ch of d.channels) head.append(el("th", { scope: "col", text: t.channels[ch] || ch }));
      const body = el("tbody", {});
      for (const c of d.categories) {
        const row = el("tr", { "data-category": c.key },
          el("th", { scope: "row" }, el("span", { text: c.name }), c.required ? el("span", { class: "req", text: t.required }) : null));
        for (const sw of c.switches) {
          const box = el("input", {
            type: "checkbox", "data-channel": sw.channel, checked: sw.enabled, disabled: sw.required,
            "aria-label": c.name + " — " + (t.channels[sw.channel] || sw.channel),
          });
          box.addEventListener("change", () => {
            box.disabled = true;
            this._setSwitch(c.key, sw.channel, box.checked).catch((e) => this._fail(e));
          });
          row.append(el("td", {}, box));
        }
        body.append(row);
      }
      panel.append(el("table", { part: "preferences" }, el("thead", {}, head), body));
    }
  }

  customElements.define("herald-inbox", HeraldInbox);
})();
