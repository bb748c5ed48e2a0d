// The controller: holds the state, reacts to the view's domain events, asks the client (the
// worker) for data, hands the view what to show, and keeps the view in the URL hash. It touches no
// DOM and no global: the view, the client, storage and the URL come in as dependencies, so it runs
// against stubs in tests.

import { explainError, isCancel, baseUrlProblem, normalizeInstance, PRODUCTION_BASE_URL } from "./errors.js";
import { downloadName, formatBytes, formatCount, formatRange, granularityLabel, isRateColumn } from "./format.js";
import {
  DEFAULT_MINUTES,
  chartQuery,
  decodeHash,
  defaultView,
  encodeHash,
  filterOf,
  fitView,
  groupKeysFor,
  groupedQuery,
  minutesOf,
  tableQuery,
  timeKeysFor,
} from "./state.js";

export const DEMO_TOKEN = "sgdemo-local-token";
export const DEMO_INSTANCE = "demo.sourcegraph.local";
const SETTINGS_KEY = "sg-analytics:settings";
const TOKEN_KEY = "sg-analytics:token";
const TOP_N = 10;

/** Storage the controller uses: non-secret settings in localStorage, the token only in sessionStorage. */
export function browserStore(local = globalThis.localStorage, session = globalThis.sessionStorage) {
  const safe = (fn, fallback) => {
    try {
      return fn();
    } catch {
      return fallback; // storage disabled (privacy mode, sandboxed frame)
    }
  };
  return {
    loadSettings: () => safe(() => JSON.parse(local.getItem(SETTINGS_KEY) ?? "null"), null),
    saveSettings: (settings) => {
      const { token, remember, ...rest } = settings; // never the token
      safe(() => local.setItem(SETTINGS_KEY, JSON.stringify(rest)));
    },
    loadToken: () => safe(() => session.getItem(TOKEN_KEY), null),
    saveToken: (token) => safe(() => session.setItem(TOKEN_KEY, token)),
    clearToken: () => safe(() => session.removeItem(TOKEN_KEY)),
  };
}

/** The URL hash as the controller sees it; `null` disables the hash (embedded in a portal). */
export function browserUrl(win = globalThis) {
  return {
    read: () => win.location.hash,
    write: (hash) => {
      if (win.location.hash.replace(/^#/, "") === hash) return;
      // replaceState: a view change is not a navigation, and fires no hashchange back at us.
      win.history.replaceState(null, "", hash ? `#${hash}` : win.location.pathname + win.location.search);
    },
    listen: (fn) => win.addEventListener("hashchange", fn),
  };
}

export class Dashboard {
  /**
   * @param {object} deps
   * @param {import("./view.js").View} deps.view
   * @param {import("./client.js").AnalyticsClient} deps.client
   * @param {ReturnType<typeof browserStore>} deps.store
   * @param {ReturnType<typeof browserUrl>|null} deps.url
   * @param {{origin: string, hostname: string}} deps.env where the page is served
   * @param {object} [deps.defaults] settings given by the embedder (attributes)
   * @param {(info: object) => void} [deps.onLoaded] told each time an export is shown
   */
  constructor({ view, client, store, url = null, env, defaults = {}, onLoaded }) {
    this.onLoaded = onLoaded;
    this.view = view;
    this.client = client;
    this.store = store;
    this.url = url;
    this.local = ["127.0.0.1", "localhost", "[::1]"].includes(env.hostname);
    this.env = env;
    this.settings = this.initialSettings(defaults);
    this.viewState = defaultView();
    this.loaded = null; // {info, registry, source}
    this.choices = { clients: null, languages: null };
    this.generation = 0;
    this.loading = null;
    this.listeners = [];
  }

  initialSettings(defaults) {
    const base = {
      instanceUrl: this.local ? DEMO_INSTANCE : "",
      granularity: "by_user_day_client_language",
      startDate: "",
      endDate: "",
      baseUrl: this.local ? this.env.origin : PRODUCTION_BASE_URL,
      monthWindows: false,
      remember: false,
    };
    const saved = this.store.loadSettings() ?? {};
    return { ...base, ...saved, ...stripEmpty(defaults), remember: Boolean(this.store.loadToken()) };
  }

  /** Wires the events, restores settings and the view, and reconnects when the tab remembered a token. */
  start() {
    const v = this.view;
    const on = (event, fn) => v.on(event, (detail) => fn.call(this, detail));
    on("connect", this.connect);
    on("cancelLoad", this.cancelLoad);
    on("openFile", ({ file }) => this.openFile(file));
    on("editSettings", this.editSettings);
    on("useDemoToken", this.useDemoToken);
    on("rememberToken", this.rememberToken);
    on("forgetToken", this.forgetToken);
    on("dismissError", () => v.renderError(null));
    on("changeFilter", (patch) => this.changeView({ ...patch, page: 0 }));
    on("groupBy", ({ groupBy }) => this.changeView({ groupBy, page: 0 }));
    on("sortBy", this.sortBy);
    on("turnPage", ({ page }) => this.changeView({ page }));
    on("resizePage", ({ pageSize }) => this.changeView({ pageSize, page: 0 }));
    on("chooseMetric", ({ metric }) => this.changeView({ metric }, { table: false }));
    on("chooseTimeKey", ({ timeKey }) => this.changeView({ timeKey }, { table: false }));
    on("setMinutes", this.setMinutes);
    on("resetMinutes", () => this.changeView({ minutes: {} }));
    on("resetView", () => this.changeView({ ...defaultView(), metric: this.viewState.metric }));
    on("download", ({ what }) => this.download(what));

    const token = this.store.loadToken();
    if (this.url) this.applyHash(this.url.read(), { refresh: false });
    v.renderSettings(this.settings, { demo: this.local, token: token ?? "" });
    if (this.url) this.url.listen(() => this.applyHash(this.url.read(), { refresh: true }));
    if (token && this.settings.instanceUrl) this.connect({ ...this.settings, token, remember: true });
    else v.announce(this.local ? "Local demo: press “Use demo token”, then “Load usage”." : "Connect with a token, or open an export file.");
  }

  applyHash(hash, { refresh }) {
    const { view, source } = decodeHash(hash);
    if (encodeHash(view, source) === encodeHash(this.viewState, this.sourceForHash())) return;
    this.viewState = view;
    if (Object.keys(source).length) this.settings = { ...this.settings, ...source };
    if (refresh && this.loaded) this.changeView({});
  }

  sourceForHash() {
    if (this.loaded?.source.kind !== "api") return {};
    const { instanceUrl, granularity, startDate, endDate } = this.loaded.source.settings;
    return { instanceUrl, granularity, startDate, endDate };
  }

  writeHash() {
    this.url?.write(encodeHash(this.viewState, this.sourceForHash()));
  }

  // --- Loading -------------------------------------------------------------------------------------

  editSettings(settings) {
    this.settings = { ...this.settings, ...settings };
    this.store.saveSettings(this.settings);
  }

  useDemoToken() {
    this.view.setToken(DEMO_TOKEN);
    this.view.announce("Demo token filled in. Press “Load usage”.");
  }

  rememberToken({ remember, token }) {
    this.settings.remember = remember;
    if (remember && token) this.store.saveToken(token);
    if (!remember) this.store.clearToken();
    this.view.announce(remember ? "The token will be kept for this tab only." : "The token will not be kept.");
  }

  forgetToken() {
    this.store.clearToken();
    this.settings.remember = false;
    this.view.setToken("");
    this.view.renderSettings(this.settings, { demo: this.local });
    this.view.announce("Token forgotten.");
  }

  async connect(form) {
    const { token = "", remember = false, ...settings } = form;
    const instance = normalizeInstance(settings.instanceUrl);
    const baseUrl = settings.baseUrl || (this.local ? this.env.origin : PRODUCTION_BASE_URL);
    const problem = !instance
      ? { title: "Which instance?", message: "Enter the instance URL, for example example.sourcegraphcloud.com.", hints: [] }
      : !token
        ? { title: "A token is needed", message: "Paste an access token for Sourcegraph Analytics.", hints: this.local ? ["This is the local demo server: press “Use demo token”."] : [] }
        : baseUrlProblem(baseUrl)
          ? { title: "The API base URL is not allowed", message: baseUrlProblem(baseUrl), hints: [] }
          : settings.monthWindows && !(settings.startDate && settings.endDate)
            ? { title: "Month by month needs a date range", message: "Give a start and an end date, or untick “Fetch month by month” under Advanced.", hints: [] }
            : null;
    if (problem) {
      this.view.renderError({ kind: "input", ...problem });
      if (instance && !token) this.view.focusToken();
      return;
    }
    this.editSettings({ ...settings, baseUrl });
    if (remember) this.store.saveToken(token);
    else this.store.clearToken();

    const options = { instanceUrl: instance, token, granularity: settings.granularity || undefined, baseUrl, monthWindows: Boolean(settings.monthWindows) };
    if (settings.startDate) options.startDate = settings.startDate;
    if (settings.endDate) options.endDate = settings.endDate;
    const source = { kind: "api", name: instance, settings: { ...settings, instanceUrl: instance, baseUrl } };
    await this.load(`Fetching usage for ${instance}…`, source, (callbacks) => this.client.fetchReport(options, callbacks));
  }

  async openFile(file) {
    const source = { kind: "file", name: file.name, settings: {} };
    await this.load(`Reading ${file.name}…`, source, (callbacks) => this.client.openFile(file, callbacks), file.size);
  }

  async load(label, source, start, total) {
    this.loading?.abort();
    const loading = (this.loading = new AbortController());
    this.view.renderError(null);
    this.view.renderBusy({ label, bytes: 0, rows: 0, total });
    this.view.announce(label);
    try {
      const result = await start({
        signal: loading.signal,
        onProgress: (p) => this.view.renderBusy({ ...p, total: p.total ?? total }),
      });
      await this.show(result, source);
    } catch (error) {
      if (isCancel(error)) this.view.announce("Cancelled. Nothing new was loaded.");
      else {
        this.view.renderError(explainError(error, source.kind === "api" ? source.settings : {}));
        this.view.announce(`Could not load: ${error.message}`);
      }
    } finally {
      if (this.loading === loading) {
        this.loading = null;
        this.view.renderIdle();
      }
    }
  }

  cancelLoad() {
    this.loading?.abort();
  }

  /** A report is in the worker: learn what it offers and draw everything. */
  async show({ info, registry }, source) {
    this.loaded = { info, registry: registry ?? { loaded: false }, source };
    this.viewState = fitView(this.viewState, info.granularity);
    const keys = groupKeysFor(info.granularity);
    const values = async (key) => {
      if (!keys.includes(key)) return null;
      const summary = await this.client.summarize({ groupBy: [key], sort: { by: "rows", desc: true } });
      return summary.groups.map((group) => group.key[key] ?? "");
    };
    this.choices = { clients: await values("client"), languages: await values("language") };
    const range = formatRange(info.firstDate, info.lastDate);
    const title = source.kind === "api" ? source.name : `${source.name} (offline)`;
    const meta = [granularityLabel(info.granularity), range, `${formatCount(info.rows)} rows`];
    if (this.loaded.registry.loaded) meta.push("user registry joined");
    else if (this.loaded.registry.error) meta.push(`no user registry (${this.loaded.registry.error})`);
    this.view.renderSource({ title, meta: meta.join(" · "), warningsTotal: info.warningsTotal, skippedRows: info.skippedRows });
    this.view.renderWarnings(info);
    await this.refresh();
    this.view.announce(`Loaded ${formatCount(info.rows)} rows for ${title} (${range}).`);
    this.onLoaded?.(info);
  }

  // --- The view ------------------------------------------------------------------------------------

  changeView(patch, { table = true } = {}) {
    this.viewState = { ...this.viewState, ...patch };
    if (this.loaded) {
      this.viewState = fitView(this.viewState, this.loaded.info.granularity);
      return this.refresh({ table });
    }
    this.writeHash();
    return Promise.resolve();
  }

  sortBy({ by }) {
    const current = this.viewState.sort;
    // A new metric column starts largest first; a key column starts A→Z; a second click flips.
    const desc = current.by === by ? !current.desc : !this.viewState.groupBy.includes(by);
    return this.changeView({ sort: { by, desc }, page: 0 });
  }

  setMinutes({ feature, minutes }) {
    const value = Number(minutes);
    if (!Number.isFinite(value) || value < 0) {
      this.view.announce(`Minutes for ${feature} must be a number of zero or more.`);
      return this.changeView({});
    }
    const next = { ...this.viewState.minutes };
    if (value === DEFAULT_MINUTES[feature]) delete next[feature];
    else next[feature] = value;
    return this.changeView({ minutes: next });
  }

  context() {
    return { registryLoaded: Boolean(this.loaded?.registry.loaded) };
  }

  /** Asks the worker for the table page, the totals and the charts, and draws them (latest wins). */
  async refresh() {
    if (!this.loaded) return;
    const generation = ++this.generation;
    const { info } = this.loaded;
    const view = this.viewState;
    const ctx = this.context();
    this.writeHash();
    try {
      const summary = await this.client.summarize(tableQuery(view, ctx));
      if (generation !== this.generation) return;
      if (summary.groups.length === 0 && view.page > 0 && summary.groupsTotal > 0) {
        this.viewState = { ...view, page: Math.max(0, Math.ceil(summary.groupsTotal / view.pageSize) - 1) };
        return this.refresh();
      }
      const metrics = this.metricsOf(summary.totals);
      if (!metrics.includes(view.metric)) this.viewState = { ...view, metric: "hoursSaved" };
      this.renderControls(summary);
      this.view.renderCards(summary.totals);
      this.view.renderTable({
        groupBy: view.groupBy,
        columns: this.columnsOf(summary.totals),
        groups: summary.groups,
        sort: view.sort,
        page: view.page,
        pageSize: view.pageSize,
        total: summary.groupsTotal ?? summary.groups.length,
      });
      this.view.renderMinutes(this.minuteRows(info.columns));
      const charts = await this.chartData();
      if (generation !== this.generation) return;
      this.view.renderCharts(charts);
    } catch (error) {
      if (generation !== this.generation) return;
      // A shared link may name a column this export lacks: sort the default way instead.
      if (/sort/i.test(error.message) && view.sort.by !== defaultView().sort.by) {
        this.viewState = { ...this.viewState, sort: defaultView().sort };
        return this.refresh();
      }
      this.view.renderError({ ...explainError(error), title: "This view could not be computed" });
    }
  }

  renderControls(summary) {
    const { info } = this.loaded;
    this.view.renderControls(this.viewState, {
      groupKeys: groupKeysFor(info.granularity),
      timeKeys: timeKeysFor(info.granularity),
      clients: this.choices.clients,
      languages: this.choices.languages,
      registryLoaded: this.context().registryLoaded,
      hasDates: Boolean(info.firstDate),
      firstDate: info.firstDate,
      lastDate: info.lastDate,
      metrics: this.metricsOf(summary.totals),
    });
  }

  /** Table columns: the structural metrics, then every export metric the totals carry. */
  columnsOf(totals) {
    return Object.keys(totals).filter((key) => key !== "rows" || !("users" in totals) || totals.users === null);
  }

  /** Additive metrics a chart can show (rates can't be stacked across groups meaningfully). */
  metricsOf(totals) {
    const structural = ["hoursSaved", "activeUsers", "users"];
    return [...structural.filter((key) => totals[key] !== null && totals[key] !== undefined), ...Object.keys(totals).filter((key) => !["rows", "users", "activeUsers", "avgDau", "avgDaysActivePerUser", "hoursSaved"].includes(key) && !isRateColumn(key))];
  }

  minuteRows(columns) {
    const minutes = minutesOf(this.viewState);
    return Object.keys(minutes)
      .filter((feature) => columns.includes(feature))
      .map((feature) => ({ feature, minutes: minutes[feature], isDefault: minutes[feature] === DEFAULT_MINUTES[feature] }));
  }

  async chartData() {
    const { info } = this.loaded;
    const view = this.viewState;
    const ctx = this.context();
    const keys = groupKeysFor(info.granularity);
    const metric = view.metric;
    const metricName = metricLabelFor(metric);
    const bars = async (key, title, { limit, sortBy = metric } = {}) => {
      if (!keys.includes(key)) return null;
      const summary = await this.client.summarize(chartQuery(view, ctx, key, { sortBy, limit }));
      const groups = summary.groups.filter((g) => typeof g[metric] === "number");
      const labels = groups.map((g) => chartLabel(key, g.key));
      return {
        type: "bar",
        horizontal: true,
        title,
        label: metricName,
        labels,
        values: groups.map((g) => g[metric]),
        description: describeSeries(title, labels, groups.map((g) => g[metric])),
        color: key === "language" ? 1 : key === "user" ? 2 : 0,
      };
    };
    let time = null;
    if (info.firstDate && timeKeysFor(info.granularity).length) {
      const summary = await this.client.summarize(chartQuery(view, ctx, view.timeKey, { sortBy: view.timeKey }));
      const groups = [...summary.groups].sort((a, b) => String(a.key[view.timeKey]).localeCompare(String(b.key[view.timeKey])));
      const labels = groups.map((g) => g.key[view.timeKey] ?? "(no date)");
      const values = groups.map((g) => g.activeUsers);
      const title = `Active users by ${view.timeKey}`;
      time = { type: "line", title, label: "Active users", labels, values, description: describeSeries(title, labels, values) };
    }
    return {
      time,
      clients: await bars("client", `${metricName} by client`, { limit: 12 }),
      languages: await bars("language", `${metricName} by language`, { limit: 12 }),
      users: await bars("user", `Top ${TOP_N} users by ${metricName.toLowerCase()}`, { limit: TOP_N }),
    };
  }

  // --- Downloads -----------------------------------------------------------------------------------

  async download(what) {
    if (!this.loaded) return;
    const view = this.viewState;
    const ctx = this.context();
    const { info, source } = this.loaded;
    const names = {
      source: source.name,
      granularity: info.granularity,
      from: view.from || info.firstDate || "",
      to: view.to || info.lastDate || "",
    };
    const by = `by-${view.groupBy.join("-")}`;
    try {
      let file;
      if (what === "grouped-csv") file = { name: downloadName({ ...names, what: by, ext: "csv" }), type: "text/csv;charset=utf-8", text: await this.client.toCsv(groupedQuery(view, ctx)) };
      else if (what === "grouped-json") file = { name: downloadName({ ...names, what: by, ext: "json" }), type: "application/json", text: await this.client.toJson(groupedQuery(view, ctx)) };
      else if (what === "rows-csv") file = { name: downloadName({ ...names, what: "rows", ext: "csv" }), type: "text/csv;charset=utf-8", text: await this.client.filteredCsv(filterOf(view, ctx)) };
      else return;
      this.view.download(file);
      this.view.announce(`Downloaded ${file.name} (${formatBytes(new Blob([file.text]).size)}).`);
    } catch (error) {
      this.view.renderError({ ...explainError(error), title: "The download could not be made" });
    }
  }

  stop() {
    this.loading?.abort();
    this.generation++;
  }
}

function stripEmpty(object) {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined && value !== null && value !== ""));
}

function metricLabelFor(metric) {
  return { hoursSaved: "Hours saved", activeUsers: "Active users", users: "Users" }[metric] ?? metric;
}

function chartLabel(key, groupKey) {
  const value = key === "user" ? groupKey.username || groupKey.email || groupKey.user : groupKey[key];
  if (value === null || value === undefined || value === "") return key === "language" ? "(no language)" : "(blank)";
  return String(value);
}

function describeSeries(title, labels, values) {
  if (!values.length) return `${title}: no data.`;
  let best = 0;
  values.forEach((value, i) => {
    if ((value ?? -Infinity) > (values[best] ?? -Infinity)) best = i;
  });
  return `${title}: ${values.length} points; highest ${formatCount(values[best])} (${labels[best]}).`;
}
