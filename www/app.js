// The controller: holds the state, reacts to the view's domain events, asks the client (the
// worker) for data, hands the view what to show, and keeps the view in the URL hash. It touches no
// DOM and no global: the view, the client, storage and the URL come in as dependencies, so it runs
// against stubs in tests.

import { creditsTable } from "./credits.js";
import { explainError, explainOptions, isCancel } from "./errors.js";
import { downloadName, formatBytes, formatCount, formatMetric, formatRange, formatRatio, granularityLabel, isRate, metricLabel, userName } from "./format.js";
import { BASELINE, baselineLabels, baselineSentence, describe, partialSentence, periodNotes } from "./engagement.js";
import { IDLE_DAYS, chartQuery, decodeHash, defaultView, emptyExplanation, encodeHash, filterOf, fitAttributesToFile, fitView, groupedQuery, inactiveQuery, lastPeriodsQuery, minSampleOf, minutesOf, pendingAttributes, periodQuery, filterPhrases, presetRange, shownRange, tableQuery } from "./state.js";

export const DEMO_TOKEN = "sgdemo-local-token";
export const DEMO_INSTANCE = "demo.sourcegraph.local";
const SETTINGS_KEY = "sg-analytics:settings";
const TOKEN_KEY = "sg-analytics:token";
const TOP_N = 10;

/**
 * What a view change redraws: the table (with the cards), the time chart, the bar charts; in the
 * Adoption view, the growth chart, the retention table, the inactive users. Only the parts of the
 * view on show are asked for.
 */
const EVERYTHING = { table: true, time: true, bars: true, people: true, growth: true, retention: true, inactive: true, stickiness: true, features: true };

/** The bars of the chart by a people-file column (largest first). */
const PEOPLE_BARS = 20;

/** The inactive users the list shows at most (the download holds them all). */
const INACTIVE_SHOWN = 500;

/** The bar charts: name, group key, how many bars. */
const BARS = [
  ["clients", "client", 12],
  ["languages", "language", 12],
  ["users", "user", TOP_N],
];

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
   * @param {{origin: string, local?: boolean}} deps.env where the page is served, and whether that
   *   is the project's local server (its mock or proxy answered: see element.js)
   * @param {object} [deps.defaults] settings given by the embedder (attributes)
   * @param {(info: object) => void} [deps.onLoaded] told each time an export is shown
   */
  constructor({ view, client, store, url = null, env, defaults = {}, onLoaded }) {
    this.onLoaded = onLoaded;
    this.view = view;
    this.client = client;
    this.store = store;
    this.url = url;
    this.local = env.local === true;
    this.env = env;
    this.settings = this.initialSettings(defaults);
    this.storedInstance = this.settings.instanceUrl;
    this.viewState = defaultView();
    this.loaded = null; // {info, registry, source, metrics}
    this.plan = null; // the last planFetch answer: its curl command is a way out of network errors
    this.granularities = []; // the module's, once the worker is ready: [{name, label}], finest first
    this.generation = 0;
    this.loading = null;
    this.listeners = [];
  }

  initialSettings(defaults) {
    const base = {
      instanceUrl: this.local ? DEMO_INSTANCE : "",
      granularity: "", // the API's default: the first the module offers
      startDate: "",
      endDate: "",
      baseUrl: this.local ? this.env.origin : "", // empty: the module's default API
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
    on("openPeople", ({ file }) => this.openPeople(file));
    on("choosePeopleForExports", ({ file }) => this.choosePeopleForExports(file));
    on("editSettings", this.editSettings);
    on("useDemoToken", this.useDemoToken);
    on("rememberToken", this.rememberToken);
    on("forgetToken", this.forgetToken);
    on("dismissError", () => v.renderError(null));
    on("changeFilter", (patch) => this.changeView({ ...patch, page: 0 }));
    on("filterAttribute", ({ name, values }) => {
      const { [name]: _, ...others } = this.viewState.attributes;
      return this.changeView({ attributes: values.length ? { ...others, [name]: values } : others, page: 0 });
    });
    on("chooseChartBy", ({ column }) => this.changeView({ chartBy: column }, { people: true }));
    on("groupBy", ({ groupBy }) => this.changeView({ groupBy, page: 0 }, { table: true }));
    on("sortBy", this.sortBy);
    on("chooseColumns", ({ columns }) => this.chooseColumns(columns));
    on("choosePreset", ({ preset }) => {
      const range = presetRange(preset, this.loaded?.info);
      if (range) return this.changeView({ ...range, page: 0 });
    });
    on("turnPage", async ({ page }) => {
      await this.changeView({ page }, { table: true });
      this.view.focusOn("table");
    });
    on("resizePage", ({ pageSize }) => this.changeView({ pageSize, page: 0 }, { table: true }));
    on("chooseMetric", ({ metric }) => this.changeView({ metric }, { time: true, bars: true, people: true }));
    on("chooseTimeKey", ({ timeKey }) => this.changeView({ timeKey }, { time: true }));
    on("setMinutes", this.setMinutes);
    on("setMinSample", this.setMinSample);
    on("resetMinutes", () => this.changeView({ minutes: {} }));
    // Resetting clears the filters and the grouping; which view is shown, and how, stays.
    on("resetView", () => {
      const { metric, tab, period, idleDays, chartBy, columns, minSample } = this.viewState;
      return this.changeView({ ...defaultView(), metric, tab, period, idleDays, chartBy, columns, minSample });
    });
    on("download", ({ what }) => this.download(what));
    on("chooseTab", ({ tab }) => this.changeView({ tab }));
    on("choosePeriod", ({ period }) => this.changeView({ period }, { growth: true, retention: true, stickiness: true, features: true }));
    on("chooseIdleDays", ({ days }) => this.changeView({ idleDays: Number(days) }, { inactive: true }));

    const token = this.store.loadToken();
    if (this.url) this.applyHash(this.url.read(), { refresh: false });
    v.renderSettings(this.settings, { demo: this.local, token: token ?? "" });
    this.client.ready?.then((ready) => {
      this.granularities = ready?.granularities ?? [];
      v.setGranularities(this.granularities);
    }, () => {});
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

  /**
   * Keeps the form's settings. The instance field may hold a pasted URL with credentials
   * (`https://user:token@host/`): only the instance the module normalized (planFetch, on connect)
   * is ever stored, so no secret typed there reaches localStorage.
   */
  editSettings(settings, { normalized = false } = {}) {
    this.settings = { ...this.settings, ...settings };
    if (normalized) this.storedInstance = this.settings.instanceUrl;
    this.store.saveSettings({ ...this.settings, instanceUrl: this.storedInstance ?? "" });
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
    const baseUrl = settings.baseUrl || (this.local ? this.env.origin : undefined);
    const problem = !String(settings.instanceUrl ?? "").trim()
      ? { title: "Which instance?", message: "The dashboard needs to know which Sourcegraph instance to show.", next: "Enter the instance URL, for example example.sourcegraphcloud.com." }
      : !token
        ? { title: "A token is needed", message: "Sourcegraph Analytics answers only with an access token.", next: this.local ? "This is the local demo server: press “Use demo token”." : "Paste an access token for Sourcegraph Analytics." }
        : null;
    if (problem) {
      this.view.renderError({ kind: "input", ...problem });
      if (String(settings.instanceUrl ?? "").trim() && !token) this.view.focusToken();
      return;
    }
    // The module checks the options by the rules its fetch follows, before anything is sent.
    const wanted = { instanceUrl: settings.instanceUrl, granularity: settings.granularity || undefined, startDate: settings.startDate || undefined, endDate: settings.endDate || undefined, baseUrl, monthWindows: Boolean(settings.monthWindows) };
    let plan;
    try {
      plan = await this.client.planFetch(wanted);
    } catch (error) {
      this.view.renderError(explainError(error));
      return;
    }
    if (!plan.ok) {
      this.view.renderError(explainOptions(plan));
      return;
    }
    this.plan = plan;
    const instance = plan.instance;
    this.editSettings({ ...settings, instanceUrl: instance, baseUrl: plan.baseUrl }, { normalized: true });
    if (remember) this.store.saveToken(token);
    else this.store.clearToken();

    const options = { ...wanted, instanceUrl: instance, token, baseUrl: plan.baseUrl };
    for (const key of ["granularity", "startDate", "endDate"]) if (options[key] === undefined) delete options[key];
    // The range asked for is the range the dashboard is about, even where the data is sparser.
    const range = { from: options.startDate ?? "", to: options.endDate ?? "" };
    const source = { kind: "api", name: instance, range, settings: { ...settings, instanceUrl: instance, baseUrl: plan.baseUrl } };
    await this.load(`Fetching usage for ${instance}…`, source, (callbacks) => this.client.fetchReport(options, callbacks));
  }

  async openFile(file) {
    const source = { kind: "file", name: file.name, file, settings: {} };
    await this.load(`Reading ${file.name}…`, source, (callbacks) => this.client.openFile(file, callbacks), file.size);
  }

  /**
   * The filter bar's picker: joins a people file onto the loaded report, and the view is drawn
   * again.
   */
  async openPeople(file) {
    if (!this.loaded) return;
    const note = await this.joinPeople(file);
    if (note === null) return;
    this.view.announce(note);
    await this.refresh();
  }

  /**
   * The Open panel's picker: a people file joined onto each export opened from now on (right
   * after it loads, before it is drawn), and onto the one shown, if any, now; `null` forgets it.
   */
  async choosePeopleForExports(file) {
    this.peopleForExports = file;
    this.view.renderPeopleForExports(file?.name ?? null);
    if (!file) return this.view.announce("No people file will be joined onto the exports opened.");
    if (this.loaded && !this.loading) return this.openPeople(file);
    this.view.announce(`People file ${file.name} will be joined onto the export when it opens.`);
  }

  /**
   * Joins a people file onto the loaded report (in the worker; nothing is sent anywhere): its
   * columns become group keys and filters. Both pickers come here. Returns the note to announce,
   * or null when the file could not be used (the error is shown).
   */
  async joinPeople(file) {
    try {
      const { join, info } = await this.client.joinAttributes(file);
      this.loaded = { ...this.loaded, info };
      this.view.setMetricInfo(info.metrics, info.attributes, info.labels);
      // Values chosen from an earlier file (or a shared link) that this file's users do not have
      // would empty the view: they go, and the note says which.
      const { view, dropped } = fitAttributesToFile(this.viewState, info.choices.attributes ?? []);
      this.viewState = this.fit(view);
      const note = `People file ${file.name}: ${formatCount(join.matched)} users matched, ${formatCount(join.unmatched)} unmapped; group, filter and chart by ${join.attributes.join(", ")}.`;
      this.view.renderPeopleFile(file.name);
      this.view.renderDroppedFilters(dropped.length ? droppedNote(dropped) : null);
      return dropped.length ? `${note} ${droppedNote(dropped)}` : note;
    } catch (error) {
      this.view.renderError({ ...explainError(error), title: "The people file could not be used" });
      return null;
    }
  }

  async load(label, source, start, total) {
    this.loading?.abort();
    const loading = (this.loading = new AbortController());
    this.view.renderError(null);
    this.view.renderBusy({ label, bytes: 0, rows: 0, total });
    this.view.announce(label);
    try {
      const started = performance.now();
      const result = await start({
        signal: loading.signal,
        onProgress: (p) => this.view.renderBusy({ ...p, total: p.total ?? total }),
      });
      // The worker's reading and ingest, for DevTools' Performance panel and bench/views.mjs.
      performance.measure("sg-analytics:load", { start: started });
      await this.show(result, source);
    } catch (error) {
      if (error?.reportLost) this.forget();
      if (isCancel(error)) this.view.announce("Cancelled. Nothing new was loaded.");
      else {
        const panel = explainError(error, { curl: source.kind === "api" ? this.plan?.curl : undefined });
        // A people file opened as an export: one click joins it where it belongs.
        if (panel.action && source.file) panel.action = { ...panel.action, label: this.loaded ? "Join it onto the export shown" : panel.action.label, detail: { file: source.file } };
        else delete panel.action;
        this.view.renderError(panel);
        this.view.focusOn("error");
        this.view.announce(`Could not load: ${panel.title}. ${panel.message}`);
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

  /** A report is in the worker: learn what it offers (from its info) and draw everything. */
  async show({ info, registry, credits }, source) {
    this.loaded = { info, registry: registry ?? { loaded: false }, credits, source, metrics: info.chartMetrics };
    this.view.renderCredits(creditsTable(credits, { offline: source.kind === "file" }));
    this.view.setMetricInfo(info.metrics, info.attributes, info.labels);
    this.view.setCards(info.cards);
    this.view.renderPeopleFile(null); // a new report starts without one…
    this.view.renderDroppedFilters(null);
    // …unless the Open panel has one to join: before the first drawing.
    const people = this.peopleForExports ? await this.joinPeople(this.peopleForExports) : null;
    this.viewState = this.fit(this.viewState);
    const fetched = shownRange({}, source, info);
    const range = formatRange(fetched.from, fetched.to);
    const title = source.kind === "api" ? source.name : `${source.name} (offline)`;
    const meta = [granularityLabel(info.granularity, this.granularities), range, `${formatCount(info.rows)} rows`];
    if (this.loaded.registry.loaded) meta.push("user registry joined");
    else if (this.loaded.registry.error) meta.push(`no user registry (${this.loaded.registry.error})`);
    this.view.renderSource({ title, meta: meta.join(" · "), warningsTotal: info.warningsTotal, skippedRows: info.skippedRows });
    this.view.renderWarnings(info);
    await this.refresh();
    this.view.focusOn("dashboard");
    this.view.announce(`Loaded ${formatCount(info.rows)} rows for ${title} (${range}).${people ? ` ${people}` : ""}`);
    this.onLoaded?.(info);
  }

  // --- The view ------------------------------------------------------------------------------------

  /** The view with what this export cannot answer dropped (keys, filters, the chart's metric). */
  fit(view) {
    const next = fitView(view, this.loaded.info);
    if (!this.loaded.metrics.includes(next.metric)) next.metric = this.loaded.metrics[0] ?? "hoursSaved";
    return next;
  }

  /**
   * Applies a change to the view and redraws what it affects (`parts`: table, time, bars; all of
   * them by default, as a filter or the minutes change every figure).
   */
  changeView(patch, parts = EVERYTHING) {
    this.viewState = { ...this.viewState, ...patch };
    if (this.loaded) {
      this.viewState = this.fit(this.viewState);
      return this.refresh(parts);
    }
    this.writeHash();
    return Promise.resolve();
  }

  /**
   * The table's columns: those ticked (`ticked`, among the shown table's choices), with the
   * chosen ones this grouping cannot show kept for the groupings that can; null is the default.
   */
  chooseColumns(ticked) {
    if (ticked === null) return this.changeView({ columns: null }, { table: true });
    const offered = this.tableChoices ?? [];
    const before = this.viewState.columns ?? this.loaded?.info.defaultColumns ?? [];
    const columns = [...before.filter((name) => !offered.includes(name)), ...ticked];
    return this.changeView({ columns: columns.length ? columns : null }, { table: true });
  }

  sortBy({ by }) {
    const current = this.viewState.sort;
    // A new metric column starts largest first; a key column starts A→Z; a second click flips.
    const desc = current.by === by ? !current.desc : !this.viewState.groupBy.includes(by);
    return this.changeView({ sort: { by, desc }, page: 0 }, { table: true });
  }

  setMinutes({ feature, minutes }) {
    const value = Number(minutes);
    if (!Number.isFinite(value) || value < 0) {
      this.view.announce(`Minutes for ${feature} must be a number of zero or more.`);
      return this.changeView({});
    }
    const next = { ...this.viewState.minutes };
    if (value === this.loaded?.info.defaultMinutes[feature]) delete next[feature];
    else next[feature] = value;
    return this.changeView({ minutes: next });
  }

  /**
   * The small-sample minimum typed in the filter bar: a whole number; the module's default is
   * kept as "not set" (no `small=` in the link, no `minSample` in a query).
   */
  setMinSample({ minSample }) {
    const value = minSampleOf(minSample);
    if (value === null) {
      this.view.announce("The small-sample minimum must be a whole number of zero or more.");
      return this.changeView({});
    }
    return this.changeView({ minSample: value === this.loaded?.info.defaultMinSample ? null : value });
  }

  context() {
    const info = this.loaded?.info;
    return { registryLoaded: Boolean(this.loaded?.registry.loaded), hasDates: Boolean(info?.firstDate), attributes: info?.attributes ?? [], range: info?.firstDate ? this.loaded?.source.range : undefined, defaultColumns: info?.defaultColumns };
  }

  /** The queries that draw `parts` of the view, each with the name of what it draws. */
  queries(parts) {
    const { info } = this.loaded;
    const view = this.viewState;
    const ctx = this.context();
    const asks = [];
    if (parts.table) asks.push(["table", tableQuery(view, ctx)]);
    // A view from the data's first day has nothing before it to compare with: the cards compare
    // the last two whole months or weeks inside it instead, asked in the same round trip.
    if (parts.table && info.firstDate && !(filterOf(view, ctx).from > info.firstDate)) asks.push(["lastPeriods", lastPeriodsQuery(view, ctx)]);
    // A rate comes with its denominator (the module names it), so each group says whether it
    // stands on a small sample.
    const metric = { metric: view.metric, denominator: this.metaOf(view.metric)?.denominator };
    if (parts.time && info.firstDate && info.timeKeys.length) asks.push(["time", chartQuery(view, ctx, view.timeKey, metric)]);
    if (parts.bars) {
      for (const [name, key, limit] of BARS) {
        if (info.groupKeys.includes(key)) asks.push([name, chartQuery(view, ctx, key, { ...metric, sortBy: view.metric, limit })]);
      }
    }
    if ((parts.bars || parts.people) && info.attributes?.includes(view.chartBy)) {
      asks.push(["people", chartQuery(view, ctx, view.chartBy, { ...metric, sortBy: view.metric, limit: PEOPLE_BARS })]);
    }
    return asks;
  }

  /**
   * Asks the worker, in one round trip, for what `parts` of the view need, and draws them (the
   * latest request wins). Paging or sorting asks for the table alone; the charts stay as drawn.
   */
  async refresh(parts = EVERYTHING) {
    if (!this.loaded) return;
    if (this.viewState.tab === "adoption") return this.refreshAdoption(parts);
    const generation = ++this.generation;
    const view = this.viewState;
    const asks = this.queries(parts);
    try {
      const asked = performance.now();
      const answering = asks.length ? this.client.summarizeMany(asks.map(([, query]) => query)) : Promise.resolve([]);
      // The address bar follows the view while the worker answers (the browser takes a few ms to
      // store a history entry), not before the question is on its way.
      this.writeHash();
      const answers = await answering;
      if (generation !== this.generation) return;
      // The split of a view change's time, for DevTools' Performance panel and bench/views.mjs.
      performance.measure("sg-analytics:query", { start: asked });
      const drawing = performance.now();
      const by = Object.fromEntries(asks.map(([name], i) => [name, answers[i]]));
      const table = by.table;
      if (table && table.groups.length === 0 && view.page > 0 && table.groupsTotal > 0) {
        this.viewState = { ...view, page: Math.max(0, Math.ceil(table.groupsTotal / view.pageSize) - 1) };
        return this.refresh({ table: true });
      }
      // The charts before the table and the cards: Chart.js measures its labels' text, which makes
      // the browser bring styles and layout up to date (the element's container queries tie one
      // to the other). Before the table's writes that costs nothing; after them, a layout of its
      // own, besides the one of the frame that shows the change.
      this.view.renderTab("usage");
      const charts = {};
      if (parts.time) charts.time = by.time ? this.timeChart(by.time) : null;
      for (const [name, key] of BARS) if (parts.bars) charts[name] = by[name] ? this.barChart(key, by[name]) : null;
      if (parts.bars || parts.people) charts.people = by.people ? this.barChart(view.chartBy, by.people) : null;
      this.view.renderCharts(charts);
      if (table) this.renderTable(table, by.lastPeriods?.lastPeriods ?? null);
      performance.measure("sg-analytics:render", { start: drawing });
    } catch (error) {
      if (generation !== this.generation) return;
      // A shared link may sort by a column this export lacks: sort the default way instead.
      if (error.code === "invalid_query" && parts.table && view.sort.by !== defaultView().sort.by) {
        this.viewState = { ...this.viewState, sort: defaultView().sort };
        return this.refresh(parts);
      }
      if (error?.reportLost) {
        this.forget();
        this.view.renderError(explainError(error));
        return;
      }
      this.view.renderError({ ...explainError(error), title: "This view could not be computed" });
    }
  }

  /**
   * The worker lost the report (its module ran out of memory, or failed, and was replaced): the
   * dashboard of that report goes, so that nothing stale is shown as an answer.
   */
  forget() {
    this.loaded = null;
    this.view.showDashboard(false);
  }

  /** What the filter bar offers for this export. */
  controlChoices() {
    const { info } = this.loaded;
    return {
      groupKeys: info.groupKeys,
      timeKeys: info.timeKeys,
      clients: info.choices.clients,
      languages: info.choices.languages,
      attributes: info.choices.attributes ?? [],
      pendingAttributes: pendingAttributes(this.viewState, info),
      registryLoaded: this.context().registryLoaded,
      hasDates: Boolean(info.firstDate),
      firstDate: info.firstDate,
      lastDate: info.lastDate,
      metrics: this.loaded.metrics,
      // The minimum the view uses: its own, else the module's default.
      minSample: this.viewState.minSample ?? info.defaultMinSample,
    };
  }

  /**
   * The controls, the cards, the table and the minutes, from the table's summary (and, when the
   * range before is outside the data, the last two whole periods: `lastPeriods`).
   */
  renderTable(summary, lastPeriods = null) {
    const view = this.viewState;
    this.view.renderControls(view, this.controlChoices());
    const { info, source } = this.loaded;
    const range = shownRange(view, source, info);
    const empty = summary.totals.rows === 0 ? emptyExplanation(view, info, this.context()) : "";
    // The cards' rates over a small sample (the module's `smallSample`, under the view's minimum).
    const smallRates = (summary.smallSample ?? []).filter((rate) => info.cards.some((card) => card.metric === rate));
    this.view.renderCards(summary.totals, summary.previous, { serviceAccounts: summary.serviceAccounts, range: range.from || range.to ? formatRange(range.from, range.to) : "", empty, smallRates, small: smallSampleNote(summary, smallRates), lastPeriods });
    this.tableChoices = summary.columnChoices;
    this.view.renderTable({
      groupBy: view.groupBy,
      columns: summary.groupMetrics,
      choices: summary.columnChoices,
      chosen: view.columns !== null,
      groups: summary.groups,
      sort: view.sort,
      page: view.page,
      pageSize: view.pageSize,
      total: summary.groupsTotal ?? summary.groups.length,
      small: smallSampleNote(summary, [...new Set(summary.groups.flatMap((g) => g.smallSample ?? []))]),
    });
    this.view.renderMinutes(this.minuteRows());
  }

  minuteRows() {
    const { info } = this.loaded;
    const minutes = minutesOf(this.viewState, info);
    return Object.keys(info.defaultMinutes).map((feature) => ({ feature, minutes: minutes[feature], isDefault: minutes[feature] === info.defaultMinutes[feature] }));
  }

  /** The chart metric's heading and how its values read (a rate as a percentage or a ratio). */
  chartMetric() {
    const metric = this.viewState.metric;
    const meta = this.metaOf(metric);
    // Counts keep the charts' compact axis (12K); a rate reads as the table shows it (27.0%).
    const format = isRate(meta) ? (value) => formatMetric(metric, value ?? null, meta) : undefined;
    return { metric, meta, name: metricLabel(metric, meta, this.loaded.info.labels), format };
  }

  /** The chart metric over time, one point per period: a rate is each period's ratio of sums. */
  timeChart(summary) {
    const key = this.viewState.timeKey;
    const { metric, meta, name, format } = this.chartMetric();
    const groups = [...summary.groups].sort((a, b) => String(a.key[key]).localeCompare(String(b.key[key])));
    const title = `${name} by ${key}`;
    const { labels, note } = smallSampleMarks(groups.map((g) => g.key[key] ?? "(no date)"), groups, metric, summary, meta);
    const values = groups.map((g) => g[metric] ?? null);
    return { type: "line", title, label: name, labels, values, format, note, description: `${describeSeries(title, labels, values, format)}${note ? ` ${note}` : ""}` };
  }

  /** The module's facts about an export metric (`info().metrics`), undefined for structural keys. */
  metaOf(metric) {
    return this.loaded?.info.metrics.find((m) => m.name === metric);
  }

  barChart(key, summary) {
    const { metric, meta, name: metricName, format } = this.chartMetric();
    const top = this.loaded.info.attributes?.includes(key) && (summary.groupsTotal ?? 0) > summary.groups.length ? ` (top ${summary.groups.length} of ${summary.groupsTotal})` : "";
    const title = key === "user" ? `Top ${TOP_N} users: ${metricName}` : `${metricName} by ${key}${top}`;
    const groups = summary.groups.filter((g) => typeof g[metric] === "number");
    const named = groups.map((g) => (g.key[key] === null && this.loaded.info.attributes?.includes(key) ? "(unmapped)" : chartLabel(key, g.key)));
    const { labels, note } = smallSampleMarks(named, groups, metric, summary, meta);
    const values = groups.map((g) => g[metric]);
    return {
      type: "bar",
      horizontal: true,
      title,
      label: metricName,
      labels,
      values,
      format,
      note,
      description: `${describeSeries(title, labels, values, format)}${note ? ` ${note}` : ""}`,
      color: key === "language" ? 1 : key === "user" ? 2 : 0,
    };
  }

  // --- The Adoption view --------------------------------------------------------------------------

  /** The Adoption view's questions for `parts` (growth, retention, inactive, stickiness, features),
   * as one request. */
  adoptionAsks(parts) {
    const view = this.viewState;
    const ctx = this.context();
    const asks = {};
    if (parts.growth) asks.growth = periodQuery(view, ctx);
    if (parts.retention) asks.retention = periodQuery(view, ctx);
    if (parts.inactive) asks.inactive = inactiveQuery(view, ctx);
    if (parts.stickiness) asks.stickiness = periodQuery(view, ctx);
    if (parts.features) asks.features = periodQuery(view, ctx);
    return asks;
  }

  /**
   * Asks the worker, in one round trip, for the Adoption view's `parts` and draws them. An export
   * that cannot answer (no dates) gets the module's message, which says which export to fetch.
   */
  async refreshAdoption(parts) {
    const generation = ++this.generation;
    const view = this.viewState;
    this.writeHash();
    const asks = this.adoptionAsks(parts);
    const { info } = this.loaded;
    const controls = {
      period: view.period,
      periods: info.timeKeys.includes("week") ? ["month", "week"] : ["month"],
      idleDays: view.idleDays,
      idleChoices: IDLE_DAYS,
    };
    if (Object.keys(asks).length === 0) return;
    try {
      const answers = await this.client.adoption(asks);
      if (generation !== this.generation) return;
      this.view.renderTab("adoption");
      this.view.renderControls(view, this.controlChoices());
      if (answers.growth) this.adoptionShown = { ...this.adoptionShown, growth: true };
      if (answers.retention) this.adoptionShown = { ...this.adoptionShown, retention: true };
      if (answers.inactive) this.adoptionShown = { ...this.adoptionShown, inactive: answers.inactive };
      // Stickiness and feature depth need days: a month export gets the module's message instead.
      for (const part of ["stickiness", "features"]) if (answers[part]) this.adoptionShown = { ...this.adoptionShown, [part]: !answers[part].problem };
      this.view.renderAdoption({
        controls,
        problem: null,
        growth: answers.growth ? growthChart(answers.growth) : undefined,
        retention: answers.retention ? retentionTable(answers.retention) : undefined,
        inactive: answers.inactive ? inactiveList(answers.inactive, this.loaded.registry.loaded) : undefined,
        stickiness: answers.stickiness,
        features: answers.features,
      });
    } catch (error) {
      if (generation !== this.generation) return;
      if (error.code === "invalid_query") {
        // The export cannot answer these questions (no dates, or weeks of a month export).
        this.adoptionShown = null;
        this.view.renderTab("adoption");
        this.view.renderControls(view, this.controlChoices());
        this.view.renderAdoption({ controls, problem: { title: "This export cannot answer adoption questions", message: error.message } });
        return;
      }
      this.view.renderError({ ...explainError(error), title: "This view could not be computed" });
    }
  }

  // --- Downloads -----------------------------------------------------------------------------------

  async download(what) {
    if (!this.loaded) return;
    const view = this.viewState;
    const ctx = this.context();
    const { info, source } = this.loaded;
    // The range and the other filters, so that a file says what it holds.
    const filters = filterPhrases({ ...view, from: "", to: "" }, ctx);
    if (view.includeServiceAccounts && ctx.registryLoaded) filters.push("with service accounts");
    const names = { source: source.name, granularity: info.granularity, filters, ...shownRange(view, source, info) };
    const by = `by-${view.groupBy.join("-")}`;
    try {
      let file;
      if (what === "grouped-csv") file = { name: downloadName({ ...names, what: by, ext: "csv" }), type: "text/csv;charset=utf-8", text: await this.client.toCsv({ ...groupedQuery(view, ctx), headers: "labels" }) };
      else if (what === "grouped-json") file = { name: downloadName({ ...names, what: by, ext: "json" }), type: "application/json", text: await this.client.toJson(groupedQuery(view, ctx)) };
      else if (what === "report-html") file = { name: downloadName({ ...names, what: "report", ext: "html" }), type: "text/html;charset=utf-8", text: await this.reportHtml() };
      else if (what === "rows-csv") file = { name: downloadName({ ...names, what: "rows", ext: "csv" }), type: "text/csv;charset=utf-8", text: await this.client.filteredCsv(filterOf(view, ctx)) };
      else if ((what === "growth-csv" || what === "retention-csv") && this.adoptionShown?.[what.slice(0, -4)]) {
        // The table's own query: the module writes it (the CLI's `growth`/`retention --format csv`).
        const query = periodQuery(view, ctx);
        const part = what.slice(0, -4);
        const text = await (part === "growth" ? this.client.growthCsv(query) : this.client.retentionCsv(query));
        file = { name: downloadName({ ...names, what: `${part}-by-${query.period}`, ext: "csv" }), type: "text/csv;charset=utf-8", text };
      } else if ((what === "stickiness-csv" || what === "features-csv") && this.adoptionShown?.[what.slice(0, -4)]) {
        // The section's own query, written by the module (the CLI's `stickiness`/`features --format csv`).
        const query = periodQuery(view, ctx);
        const part = what.slice(0, -4);
        const text = await (part === "stickiness" ? this.client.stickinessCsv(query) : this.client.featuresCsv(query));
        file = { name: downloadName({ ...names, what: `${part}-by-${query.period}`, ext: "csv" }), type: "text/csv;charset=utf-8", text };
      } else if (what === "inactive-csv" && this.adoptionShown?.inactive) {
        // The list's own query: the module writes it (the CLI's `inactive --format csv`).
        const query = inactiveQuery(view, ctx);
        file = { name: downloadName({ ...names, what: `inactive-${query.days}-days`, ext: "csv" }), type: "text/csv;charset=utf-8", text: await this.client.inactiveUsersCsv(query) };
      } else return;
      this.view.download(file);
      this.view.announce(`Downloaded ${file.name} (${formatBytes(new Blob([file.text]).size)}).`);
    } catch (error) {
      this.view.renderError({ ...explainError(error), title: "The download could not be made" });
    }
  }

  /**
   * The report to share for the loaded data and the view's filter (`report.reportHtml`): the
   * instance (or file), the view's period, the grouping's first key for the top groups (unless it
   * is a time key), the minutes, the fetched credits, and today's date as the day it was made.
   */
  reportHtml() {
    const view = this.viewState;
    const ctx = this.context();
    const { source, info, credits } = this.loaded;
    const by = view.groupBy[0];
    const options = {
      instance: source.name,
      filter: filterOf(view, ctx),
      period: view.period,
      minutesSaved: groupedQuery(view, ctx).minutesSaved,
      ...(view.minSample === null ? {} : { minSample: view.minSample }),
      // The day it was made in UTC, as the CLI's report states it (and says so).
      generated: new Date().toISOString().slice(0, 10),
    };
    if (by && !info.timeKeys.includes(by)) options.by = by;
    return this.client.reportHtml(options, credits?.loaded ? credits.data : undefined);
  }

  stop() {
    this.loading?.abort();
    this.generation++;
  }
}

/**
 * The growth chart's spec (and a text description) from `report.growth`: the partial periods
 * hatched and the first one named the baseline, on every multiple and in the table, with the
 * sentences that say why (the same as the engagement sections').
 */
function growthChart(growth) {
  const labels = baselineLabels(growth.periods);
  const pick = (key) => growth.periods.map((p) => p[key]);
  const partial = pick("partial");
  const notes = periodNotes(growth.periods, { baseline: true, small: () => false });
  const ratioNotes = periodNotes(growth.periods, { baseline: true });
  const last = growth.periods.at(-1);
  const title = `Growth accounting by ${growth.period}`;
  const description = last
    ? `${title}: ${labels.length} ${growth.period}s; in ${last.period}, ${formatCount(last.activeUsers)} active, ${formatCount(last.newUsers)} new, ${formatCount(last.resurrectedUsers)} resurrected, ${formatCount(last.retainedUsers)} retained, ${formatCount(last.churnedUsers)} churned.`
    : `${title}: no data.`;
  // Small multiples, each on its own scale: tens of new or churned users stay visible beside
  // thousands retained. The quick ratio has its line at 1 (as many gained as lost).
  const series = (name, label, key, color) => {
    const values = pick(key);
    const chartTitle = `${label} by ${growth.period}`;
    return { name, type: "bar", title: label, label, labels, values, color, partial, notes, description: describe(chartTitle, growth.periods, (p) => formatCount(p[key]), notes) };
  };
  const quickRatio = pick("quickRatio");
  return {
    title,
    multiples: [
      series("growth-new", "New users", "newUsers", 0),
      series("growth-resurrected", "Resurrected users", "resurrectedUsers", 2),
      series("growth-retained", "Retained users", "retainedUsers", 1),
      series("growth-churned", "Churned users", "churnedUsers", "negative"),
      {
        name: "growth-quick",
        type: "line",
        title: "Quick ratio",
        label: "Quick ratio",
        labels,
        values: quickRatio,
        partial,
        small: pick("smallSample"),
        notes: ratioNotes,
        format: ratioText,
        reference: { value: 1, label: "1: as many gained as lost" },
        description: `${describe(`Quick ratio by ${growth.period}`, growth.periods, (p) => ratioText(p.quickRatio), ratioNotes)} Above 1, adoption grows.`,
      },
    ],
    table: {
      columns: [
        ["activeUsers", "Active"],
        ["newUsers", "New"],
        ["resurrectedUsers", "Resurrected"],
        ["retainedUsers", "Retained"],
        ["churnedUsers", "Churned"],
        ["quickRatio", "Quick ratio"],
      ],
      rows: growth.periods.map((p, i) => ({
        period: p.period,
        partial: p.partial,
        baseline: i === 0,
        cells: [
          ...["activeUsers", "newUsers", "resurrectedUsers", "retainedUsers", "churnedUsers"].map((key) => [key, formatCount(p[key])]),
          ["quickRatio", ratioText(p.quickRatio), p.smallSample],
        ],
      })),
    },
    partialNote: partialSentence(growth.period, growth.periods),
    baselineNote: baselineSentence(growth.period, growth.periods, BASELINE.growth),
    smallNote: growth.periods.some((p) => p.smallSample) ? `Triangles and “small sample”: a quick ratio over fewer than ${formatCount(growth.minSample)} churned users, a hint rather than a figure.` : "",
    period: growth.period,
    description,
  };
}

/** A quick ratio as the growth table shows it: two decimals, "—" without churned users. */
function ratioText(value) {
  return typeof value === "number" ? value.toFixed(2) : "—";
}

/**
 * The retention table: each cohort's count and share still active k periods later; a cohort of a
 * partial period (`partialPeriods`) is marked, and so is a small one.
 */
function retentionTable(retention) {
  const width = Math.max(0, ...retention.cohorts.map((c) => c.active.length));
  const partial = retention.partialPeriods.map((period) => ({ period, partial: true }));
  return {
    period: retention.period,
    width,
    partialNote: partialSentence(retention.period, partial, { how: "Hatched" }),
    minSample: retention.minSample,
    cohorts: retention.cohorts.map((c) => ({
      cohort: c.cohort,
      partial: retention.partialPeriods.includes(c.cohort),
      small: c.smallSample,
      users: c.users,
      cells: c.active.map((count) => ({ count, share: c.users ? count / c.users : 0, text: formatRatio(c.users ? count / c.users : 0) })),
    })),
  };
}

/** The inactive users' list: who, and when last active ("never" when not at all). */
function inactiveList(inactive, registryLoaded) {
  const users = inactive.users.slice(0, INACTIVE_SHOWN).map((u) => ({
    user: u.user,
    name: userName(u),
    email: u.email ?? "",
    username: u.username ?? "",
    lastActive: u.lastActive ?? "never",
    serviceAccount: Boolean(u.serviceAccount),
  }));
  return { days: inactive.days, asOf: inactive.asOf, total: inactive.users.length, users, registryLoaded };
}

/** What `fitAttributesToFile` dropped, in a sentence: "Team = Cloud, (unmapped); Site (no such column)". */
function droppedNote(dropped) {
  const parts = dropped.map(({ name, values, column }) => (column ? `${name} = ${values.map((value) => (value === "" ? "(unmapped)" : value)).join(", ")}` : `${name} (no such column)`));
  return `Dropped from the filter, as this file does not have ${dropped.length === 1 && dropped[0].values.length === 1 ? "it" : "them"}: ${parts.join("; ")}.`;
}

function stripEmpty(object) {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined && value !== null && value !== ""));
}

/**
 * What the table's or the cards' small-sample marks mean (`rates`: the rates marked), naming each
 * rate's denominator; "" when none is marked.
 */
function smallSampleNote(summary, rates = []) {
  if (!rates.length) return "";
  const over = rates.map((rate) => `${rate} over fewer than ${formatCount(summary.minSample)} ${summary.denominators?.[rate] ?? "of its denominator"}`);
  return `* Small sample: ${over.join("; ")}, a hint rather than a figure.`;
}

/**
 * A chart's labels with each group whose rate stands on fewer than the summary's `minSample`
 * (the module's `smallSample`) marked "*", and the note that says what the mark means.
 */
function smallSampleMarks(labels, groups, metric, summary, meta) {
  const small = groups.map((g) => Array.isArray(g.smallSample) && g.smallSample.includes(metric));
  const count = small.filter(Boolean).length;
  if (!count) return { labels, note: "" };
  const denominator = summary.denominators?.[metric] ?? meta?.denominator ?? "";
  return {
    labels: labels.map((label, i) => (small[i] ? `${label} *` : label)),
    note: `* Small sample (${formatCount(count)} marked): ${metric} there rests on fewer than ${formatCount(summary.minSample)} ${denominator}; read ${count === 1 ? "it" : "them"} with care.`,
  };
}



function chartLabel(key, groupKey) {
  const value = key === "user" ? userName(groupKey) : groupKey[key];
  if (value === null || value === undefined || value === "") return key === "language" ? "(no language)" : "(blank)";
  return String(value);
}

function describeSeries(title, labels, values, format = formatCount) {
  if (!values.length) return `${title}: no data.`;
  let best = 0;
  values.forEach((value, i) => {
    if ((value ?? -Infinity) > (values[best] ?? -Infinity)) best = i;
  });
  return `${title}: ${values.length} points; highest ${format(values[best])} (${labels[best]}).`;
}
