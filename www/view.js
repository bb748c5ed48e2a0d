// The view: the only module that touches the DOM. It builds the dashboard with createElement (no
// HTML strings anywhere), shows what the controller hands it, and reports what the user does as
// domain events (`connect`, `openFile`, `sortBy`, ...). Every value from an export goes in as text.

import {
  NONE,
  formatBytes,
  formatCount,
  formatKeyValue,
  formatMetric,
  isRate,
  keyLabel,
  metricLabel,
  userName,
} from "./format.js";
import { DATE_PRESETS, PAGE_SIZES, presetOf } from "./state.js";
import { Charts, theme } from "./charts.js";
import { assign, attribute, field, h, morph, option } from "./dom.js";
import { EngagementView, periodHeader, periodTable, setNote } from "./engagement.js";

/**
 * A card's change between the last two whole periods (`last`: the summary's `lastPeriods`):
 * "▲ 12% 2025-04-07 vs 2025-03-31"; a rate says what it was in each.
 */
function periodChangeNote(key, last, meta) {
  const [before, latest] = [last.before.totals[key], last.latest.totals[key]];
  const what = `${last.latest.period} vs ${last.before.period}`;
  if (typeof latest !== "number" || typeof before !== "number") return `no figure to compare for ${what}`;
  const arrow = latest > before ? "▲" : latest < before ? "▼" : "=";
  if (isRate(meta)) return `${arrow} ${formatMetric(key, latest, meta)} in ${last.latest.period}, from ${formatMetric(key, before, meta)}`;
  if (before === 0) return latest === 0 ? `= ${what}` : `▲ from 0, ${what}`;
  return `${arrow} ${Math.abs(Math.round((100 * (latest - before)) / before))}% ${what}`;
}

/** "▲ 12% vs 2025-05-02 – 2025-05-31" for a count; "▼ from 27.1% (…)" for a rate. */
function changeNote(key, value, previous, meta) {
  const { from, to } = previous.range;
  const range = `${from} – ${to}`;
  const before = previous.totals[key];
  if (previous.totals.rows === 0) return `no data for ${range} to compare with`;
  if (typeof value !== "number" || typeof before !== "number") return `no figure to compare for ${range}`;
  const arrow = value > before ? "▲" : value < before ? "▼" : "=";
  if (isRate(meta)) return `${arrow} from ${formatMetric(key, before, meta)} (${range})`;
  if (before === 0) return value === 0 ? `= vs ${range}` : `▲ from 0 (${range})`;
  return `${arrow} ${Math.abs(Math.round((100 * (value - before)) / before))}% vs ${range}`;
}

function check(label, control) {
  return h("label", { class: "check" }, control, h("span", {}, label));
}

/**
 * Gives `select` the options `choices` (`[value, label]` pairs) and the value `value`. The options
 * are rebuilt only when they differ from the last ones given: a view change that keeps them
 * leaves the select's elements alone, so the browser has no styles to recompute for them.
 */
function setOptions(select, choices, value) {
  const signature = JSON.stringify(choices);
  if (optionsOf.get(select) !== signature) {
    optionsOf.set(select, signature);
    select.replaceChildren(...choices.map(([v, label]) => option(v, label)));
  }
  select.value = value;
}

/** The options each select was last given by `setOptions`, as JSON. */
const optionsOf = new WeakMap();

function capitalize(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export class View {
  /**
   * @param {ShadowRoot|Element} root where the dashboard is built
   * @param {{stylesheet?: string}} options the stylesheet URL to link inside the root
   */
  constructor(root, { stylesheet } = {}) {
    this.root = root;
    this.handlers = new Map();
    this.charts = new Charts();
    this.engagement = new EngagementView(this.charts, (name, detail) => this.emit(name, detail));
    this.refs = {};
    /** The columns of a joined people file (their null values read "(unmapped)"). */
    this.attributes = [];
    /** The filter bar's multi-selects for the people file's columns, one per column. */
    this.attributeMultis = [];
    if (stylesheet) root.append(h("link", { rel: "stylesheet", href: stylesheet }));
    root.append(this.build());
    // The sticky filter bar's height, for what must stay below it (the table's title and
    // downloads, the places focus moves to): kept in --sga-filter-height.
    this.filterHeight = new ResizeObserver(() => {
      const bar = this.refs.filters;
      const sticky = getComputedStyle(bar).position === "sticky";
      this.refs.dashboard.style.setProperty("--sga-filter-height", `${sticky ? bar.offsetHeight : 0}px`);
    });
    this.filterHeight.observe(this.refs.filters);
    // A click anywhere else closes an open multi-select, as a native <select> would.
    this.closeMultis = (event) => {
      const path = event.composedPath();
      for (const multi of [this.refs.clients, this.refs.languages, this.refs.columns, ...this.attributeMultis]) if (multi.root.open && !path.includes(multi.root)) multi.root.open = false;
    };
    document.addEventListener("click", this.closeMultis);
  }

  /** Subscribes to a domain event. */
  on(event, handler) {
    if (!this.handlers.has(event)) this.handlers.set(event, []);
    this.handlers.get(event).push(handler);
    return this;
  }

  emit(event, detail = {}) {
    for (const handler of this.handlers.get(event) ?? []) handler(detail);
  }

  // --- Building the page -------------------------------------------------------------------------

  build() {
    const r = this.refs;
    return h(
      "div",
      { class: "sga" },
      (r.sources = h("section", { class: "sources", "aria-label": "Data source" }, this.buildConnect(), this.buildOffline())),
      (r.progress = h(
        "div",
        { class: "progress panel", hidden: true, role: "group", "aria-label": "Loading" },
        (r.progressLabel = h("span", { class: "progress-label" })),
        (r.progressBar = h("progress", { "aria-label": "Loading progress" })),
        (r.progressDetail = h("span", { class: "progress-detail" })),
        h("button", { type: "button", class: "button", onclick: () => this.emit("cancelLoad") }, "Cancel"),
      )),
      (r.error = h(
        "div",
        { class: "error-panel panel", role: "alert", hidden: true },
        (r.errorTitle = h("h2", { class: "error-title", tabindex: "-1" })),
        (r.errorMessage = h("p", { class: "error-message" })),
        (r.errorNext = h("p", { class: "error-next" })),
        (r.errorCommand = h("pre", { class: "error-command", hidden: true, tabindex: "0" })),
        // The engineer's detail, folded away: the module's own message and the technical ways out.
        (r.errorDetail = h(
          "details",
          { class: "error-detail" },
          h("summary", {}, "Details"),
          (r.errorTechnical = h("p", { class: "error-technical" })),
          (r.errorHints = h("ul", { class: "error-hints" })),
        )),
        h(
          "div",
          { class: "error-actions" },
          (r.errorAction = h("button", { type: "button", class: "button primary", hidden: true, onclick: () => this.errorAction?.() })),
          h("button", { type: "button", class: "button", onclick: () => this.emit("dismissError") }, "Dismiss"),
        ),
      )),
      (r.status = h("p", { class: "status", role: "status", "aria-live": "polite" })),
      this.buildDashboard(),
    );
  }

  buildConnect() {
    const r = this.refs;
    const input = (name, props = {}) => h("input", { name, id: `sga-${name}`, ...props });
    r.form = h(
      "form",
      {
        class: "connect-form",
        novalidate: true,
        onsubmit: (event) => {
          event.preventDefault();
          this.emit("connect", this.readSettings({ withToken: true }));
        },
        onchange: (event) => {
          if (event.target.name === "remember") this.emit("rememberToken", { remember: event.target.checked, token: r.form.elements.token.value });
          else if (event.target.name !== "token") this.emit("editSettings", this.readSettings());
        },
      },
      (r.demoHint = h(
        "p",
        { class: "demo-hint", hidden: true },
        h("span", {}, "Local demo server detected: any instance URL works with the demo token. "),
        h("button", { type: "button", class: "button small", onclick: () => this.emit("useDemoToken") }, "Use demo token"),
      )),
      h(
        "div",
        { class: "form-grid" },
        field("Instance URL", input("instanceUrl", { type: "text", placeholder: "example.sourcegraphcloud.com", autocomplete: "url", spellcheck: "false", required: true })),
        field("Access token", input("token", { type: "password", autocomplete: "off", spellcheck: "false", required: true }), {
          hint: "Sent only to the API, in the Authorization header.",
        }),
        // Its options are the module's (setGranularities), once the worker has loaded it.
        field("Granularity", h("select", { name: "granularity" }), {
          hint: "Finer exports are larger; clients and languages need the finest.",
        }),
        field("Start date", input("startDate", { type: "date" }), { hint: "Blank: from the beginning." }),
        field("End date", input("endDate", { type: "date" }), { hint: "Blank: up to today." }),
      ),
      check("Remember the token for this tab (session storage, cleared when the tab closes)", input("remember", { type: "checkbox" })),
      h(
        "details",
        { class: "advanced" },
        h("summary", {}, "Advanced"),
        h(
          "div",
          { class: "form-grid" },
          field("API base URL", input("baseUrl", { type: "url", spellcheck: "false" }), { hint: "https:// only (http:// for localhost). Point it at a proxy if the browser cannot reach the API." }),
        ),
        check("Fetch month by month (very large instances; needs start and end dates)", input("monthWindows", { type: "checkbox" })),
      ),
      h(
        "div",
        { class: "actions" },
        (r.connectButton = h("button", { type: "submit", class: "button primary" }, "Load usage")),
        h("button", { type: "button", class: "button", onclick: () => this.emit("forgetToken") }, "Forget token"),
      ),
    );
    r.connect = h(
      "details",
      { class: "connect panel", open: true },
      h("summary", {}, h("span", { class: "panel-title" }, "Connect to Sourcegraph Analytics"), (r.sourceLine = h("span", { class: "summary-detail" }))),
      r.form,
    );
    return r.connect;
  }

  buildOffline() {
    const r = this.refs;
    r.fileInput = h("input", {
      type: "file",
      accept: ".csv,text/csv",
      class: "visually-hidden",
      "aria-label": "Open a CSV export",
      onchange: () => {
        const file = r.fileInput.files?.[0];
        if (file) this.emit("openFile", { file });
        r.fileInput.value = "";
      },
    });
    // A people file to join onto the export when it opens (and onto the one shown, if any): the
    // same join as the filter bar's picker. Its own name, so that one keeps "People file".
    const open = this.buildPeoplePicker({
      label: "People CSV (optional)",
      fieldClass: "open-people",
      buttonClass: "button small",
      title: "Teams or departments keyed by Instance user ID, User Email or Username, joined onto each export you open; it stays on this computer",
      name: { class: "open-people-name none", id: "sga-open-people-name" },
      event: "choosePeopleForExports",
      extra: [(r.openPeopleClear = h("button", { type: "button", class: "button small", hidden: true, onclick: () => this.emit("choosePeopleForExports", { file: null }) }, "Don’t join"))],
    });
    r.openPeople = open.input;
    r.openPeopleName = open.name;
    r.drop = h(
      "div",
      { class: "dropzone panel" },
      h("h2", { class: "panel-title" }, "Open an export"),
      h("p", {}, "Drop a CSV export here, or choose one. It is read in this browser; nothing is uploaded. A people CSV (teams, departments) chosen below is joined onto each export opened."),
      h("label", { class: "button" }, "Choose a CSV file…", r.fileInput),
      open.field,
    );
    const over = (event) => {
      if (![...(event.dataTransfer?.types ?? [])].includes("Files")) return;
      event.preventDefault();
      r.drop.classList.add("dragging");
    };
    r.drop.addEventListener("dragenter", over);
    r.drop.addEventListener("dragover", over);
    r.drop.addEventListener("dragleave", () => r.drop.classList.remove("dragging"));
    r.drop.addEventListener("drop", (event) => {
      event.preventDefault();
      r.drop.classList.remove("dragging");
      const file = event.dataTransfer?.files?.[0];
      if (file) this.emit("openFile", { file });
    });
    return r.drop;
  }

  buildDashboard() {
    const r = this.refs;
    r.dashboard = h(
      "section",
      { class: "dashboard", hidden: true, "aria-label": "Usage dashboard" },
      h(
        "div",
        { class: "source-bar" },
        h("div", {}, (r.sourceTitle = h("h2", { class: "source-title", tabindex: "-1" })), (r.sourceMeta = h("p", { class: "source-meta" }))),
        (r.warningsBadge = h(
          "button",
          { type: "button", class: "badge warn", hidden: true, onclick: () => this.revealWarnings() },
        )),
        // The report to share: one HTML file of the whole dashboard for the view's filter.
        h("button", { type: "button", class: "button small report-button", "data-download": "report-html", onclick: () => this.emit("download", { what: "report-html" }) }, "Download report"),
      ),
      this.buildTabs(),
      this.buildFilters(),
      (r.usage = h(
        "div",
        { class: "usage-view", id: "sga-usage-view" },
        (r.viewRange = h("p", { class: "view-range" })),
        (r.emptyNote = h("p", { class: "empty-note panel", role: "status", hidden: true })),
        (r.serviceNote = h(
          "p",
          { class: "service-note", hidden: true },
          (r.serviceText = h("span", {})),
          " ",
          (r.serviceToggle = h("button", { type: "button", class: "button small link", onclick: () => this.emit("changeFilter", { includeServiceAccounts: r.serviceToggle.dataset.include === "1" }) })),
        )),
        (r.cards = h("div", { class: "cards", role: "list", "aria-label": "Headline numbers" })),
        (r.cardsCompare = h("p", { class: "note cards-compare", hidden: true })),
        (r.cardsSmall = h("p", { class: "note small-note cards-small", hidden: true })),
        this.buildCharts(),
        this.buildTable(),
        this.buildCredits(),
        this.buildMinutes(),
      )),
      this.buildAdoption(),
      this.buildWarnings(),
    );
    return r.dashboard;
  }

  /** Which view the dashboard shows: two toggle buttons (Tab and Enter/Space reach them). */
  buildTabs() {
    const r = this.refs;
    const tab = (name, label, controls) => h("button", { type: "button", class: "button tab", "data-tab": name, "aria-pressed": "false", "aria-controls": controls, onclick: () => this.emit("chooseTab", { tab: name }) }, label);
    r.tabButtons = [tab("usage", "Usage", "sga-usage-view"), tab("adoption", "Adoption", "sga-adoption-view")];
    return h("div", { class: "tabs", role: "group", "aria-label": "View" }, r.tabButtons);
  }

  /**
   * The Adoption view: the growth chart with its numbers, the retention cohorts as a table whose
   * cells carry their count and share (the shade only repeats them), and the inactive users.
   */
  buildAdoption() {
    const r = this.refs;
    r.period = h("select", { id: "sga-period", onchange: () => this.emit("choosePeriod", { period: r.period.value }) });
    r.idleDays = h("select", { id: "sga-idle-days", onchange: () => this.emit("chooseIdleDays", { days: Number(r.idleDays.value) }) });
    // Growth as small multiples, one canvas per series (see renderAdoption).
    r.growthMultiples = h("div", { class: "growth-multiples" });
    r.growthTable = h("table", { class: "grid compact growth-table" }, h("caption", { class: "visually-hidden" }, "Growth accounting per period"), (r.growthHead = h("thead")), (r.growthBody = h("tbody")));
    r.retentionTable = h("table", { class: "grid compact retention-table" }, (r.retentionCaption = h("caption", { class: "visually-hidden" })), (r.retentionHead = h("thead")), (r.retentionBody = h("tbody")));
    r.inactiveTable = h(
      "table",
      { class: "grid compact inactive-table" },
      h("caption", { class: "visually-hidden" }, "Inactive users"),
      h("thead", {}, h("tr", {}, ["User", "E-mail", "User ID", "Last active"].map((t) => h("th", { scope: "col" }, t)))),
      (r.inactiveBody = h("tbody")),
    );
    r.adoption = h(
      "div",
      { class: "adoption-view", id: "sga-adoption-view", hidden: true },
      (r.adoptionProblem = h("div", { class: "adoption-problem panel", role: "status", hidden: true }, (r.adoptionProblemTitle = h("h2", { class: "section-title" })), (r.adoptionProblemText = h("p", {})))),
      (r.adoptionAnswers = h(
        "div",
        { class: "adoption-answers" },
        h(
          "section",
          { class: "growth-card panel", "aria-labelledby": "sga-growth-title" },
          h("div", { class: "charts-head" }, (r.growthTitle = h("h2", { class: "section-title", id: "sga-growth-title" }, "Growth accounting")), field("Period", r.period, { className: "field inline" })),
          h("p", { class: "note" }, "Each period: new users (first active in the range), resurrected (back after a break), retained (active in the period before too) above the axis; churned (active in the period before, not in this one) below it. Quick ratio = (new + resurrected) ÷ churned; above 1, adoption grows."),
          (r.growthBaseline = h("p", { class: "note baseline-note", hidden: true })),
          (r.growthPartial = h("p", { class: "note partial-note", hidden: true })),
          (r.growthSmall = h("p", { class: "note small-note", hidden: true })),
          r.growthMultiples,
          h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": "Growth accounting numbers" }, r.growthTable),
          h("div", { class: "downloads", role: "group", "aria-label": "Growth accounting download" }, h("button", { type: "button", class: "button small", "data-download": "growth-csv", onclick: () => this.emit("download", { what: "growth-csv" }) }, "Growth CSV")),
        ),
        h(
          "section",
          { class: "retention-card panel", "aria-labelledby": "sga-retention-title" },
          h("h2", { class: "section-title", id: "sga-retention-title" }, "Retention cohorts"),
          (r.retentionNote = h("p", { class: "note" })),
          (r.retentionPartial = h("p", { class: "note partial-note", hidden: true })),
          (r.retentionSmall = h("p", { class: "note small-note", hidden: true })),
          h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": "Retention cohorts (scrolls sideways)" }, r.retentionTable),
          h("div", { class: "downloads", role: "group", "aria-label": "Retention cohorts download" }, h("button", { type: "button", class: "button small", "data-download": "retention-csv", onclick: () => this.emit("download", { what: "retention-csv" }) }, "Retention CSV")),
        ),
        this.engagement.build(),
        h(
          "section",
          { class: "inactive-card panel", "aria-labelledby": "sga-inactive-title" },
          h(
            "div",
            { class: "table-head" },
            h("h2", { class: "section-title", id: "sga-inactive-title" }, "Inactive users"),
            field("No active day in the last", r.idleDays, { className: "field inline" }),
            h("div", { class: "downloads", role: "group", "aria-label": "Inactive users download" }, h("button", { type: "button", class: "button small", "data-download": "inactive-csv", onclick: () => this.emit("download", { what: "inactive-csv" }) }, "Inactive users CSV")),
          ),
          (r.inactiveSummary = h("p", { class: "inactive-summary", "aria-live": "polite" })),
          h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": "Inactive users table" }, r.inactiveTable),
          (r.inactiveMore = h("p", { class: "note", hidden: true })),
        ),
      )),
    );
    return r.adoption;
  }

  buildCard(key, label, note) {
    const value = h("span", { class: "card-value", text: NONE });
    this.refs[`card:${key}`] = value;
    return h("div", { class: "card", role: "listitem", "data-metric": key }, h("span", { class: "card-label" }, label), value, h("span", { class: "card-note" }, note));
  }

  buildFilters() {
    const r = this.refs;
    const filter = (patch) => this.emit("changeFilter", patch);
    let searchTimer = 0;
    // A button and the joined file's name.
    const people = this.buildPeoplePicker({
      label: "People file",
      buttonClass: "button",
      title: "A CSV of teams or departments keyed by Instance user ID, User Email or Username; it stays on this computer",
      name: { class: "people-name" },
      event: "openPeople",
    });
    r.people = people.input;
    r.peopleName = people.name;
    r.groupBy = h("select", { id: "sga-group", onchange: () => this.emitGroup() });
    r.thenBy = h("select", { id: "sga-then", onchange: () => this.emitGroup() });
    r.preset = h("select", { id: "sga-preset", onchange: () => this.emit("choosePreset", { preset: r.preset.value }) });
    r.from = h("input", { type: "date", id: "sga-from", onchange: () => filter({ from: r.from.value }) });
    r.to = h("input", { type: "date", id: "sga-to", onchange: () => filter({ to: r.to.value }) });
    r.userSearch = h("input", {
      type: "search",
      id: "sga-user",
      placeholder: "name, e-mail or ID",
      oninput: () => {
        clearTimeout(searchTimer);
        searchTimer = setTimeout(() => filter({ userSearch: r.userSearch.value }), 250);
      },
      onkeydown: (event) => {
        if (event.key !== "Enter") return;
        clearTimeout(searchTimer);
        filter({ userSearch: r.userSearch.value });
      },
    });
    r.clients = this.buildMulti("Clients", (values) => filter({ clients: values }), { name: "clients", format: (value) => formatKeyValue("client", value) });
    r.languages = this.buildMulti("Languages", (values) => filter({ languages: values }), { name: "languages", format: (value) => formatKeyValue("language", value) });
    // One multi-select per column of a joined people file (renderAttributeFilters builds them).
    r.attributeFilters = h("div", { class: "attribute-filters", role: "group", "aria-label": "Filters by the joined file's columns" });
    r.pendingFilters = h("p", { class: "note pending-filters", role: "status", hidden: true });
    r.droppedFilters = h("p", { class: "note dropped-filters", role: "status", hidden: true });
    r.activeOnly = h("input", { type: "checkbox", onchange: () => filter({ activeOnly: r.activeOnly.checked }) });
    r.humans = h("input", { type: "checkbox", onchange: () => filter({ includeServiceAccounts: !r.humans.checked }) });
    // The smallest denominator a rate is shown firmly over: rates under it are marked as small
    // samples in the cards, the table and the charts of both views.
    r.minSample = h("input", { type: "number", id: "sga-min-sample", min: "0", step: "1", inputmode: "numeric", class: "min-sample", title: "A rate whose denominator (active users, suggestions, a cohort…) is under this is marked as a small sample", onchange: () => this.emit("setMinSample", { minSample: r.minSample.value }) });
    r.filters = h(
      "form",
      { class: "filter-bar", role: "search", "aria-label": "Group and filter", onsubmit: (event) => event.preventDefault() },
      (r.groupField = field("Group by", r.groupBy)),
      (r.thenField = field("Then by", r.thenBy)),
      (r.presetField = field("Range", r.preset)),
      (r.fromField = field("From", r.from)),
      (r.toField = field("To", r.to)),
      field("User", r.userSearch),
      r.clients.root,
      r.languages.root,
      r.attributeFilters,
      h("div", { class: "filter-checks" }, check("Active only", r.activeOnly), (r.humansLabel = check("Exclude service accounts", r.humans))),
      field("Small sample under", r.minSample),
      people.field,
      h("button", { type: "button", class: "button", onclick: () => this.emit("resetView") }, "Reset view"),
      r.pendingFilters,
      r.droppedFilters,
    );
    return r.filters;
  }

  /**
   * A people-file picker: a button over a hidden file input (emptied after each pick, so its own
   * "No file chosen" never contradicts what is joined) that emits `event` with the file, and the
   * chosen file's name beside it. Returns the field, the input and the name's element.
   */
  buildPeoplePicker({ label, fieldClass = "", buttonClass, title, name, event, extra = [] }) {
    const input = h("input", {
      type: "file",
      accept: ".csv,text/csv",
      class: "visually-hidden",
      "aria-label": label,
      ...(name.id ? { "aria-describedby": name.id } : {}),
      onchange: () => {
        const file = input.files?.[0];
        if (file) this.emit(event, { file });
        input.value = "";
      },
    });
    const nameElement = h("span", name, "none");
    const field = h(
      "div",
      { class: `field people-field ${fieldClass}`.trim() },
      h("span", { class: "field-label", "aria-hidden": "true" }, label),
      h("div", { class: "people-pick" }, h("label", { class: buttonClass, title }, "Choose…", input), nameElement, ...extra),
    );
    return { field, input, name: nameElement };
  }

  /**
   * A multi-select as a disclosure of checkboxes: keyboard and screen-reader friendly. `choose`
   * gets the values ticked; `format` is how a value reads.
   */
  buildMulti(label, choose, { name, format = String } = {}) {
    const summary = h("summary", { class: "button" });
    const list = h("fieldset", { class: "multi-list" }, h("legend", { class: "visually-hidden" }, label));
    const root = h("details", { class: "multi", "data-filter": name ?? "attribute", "data-attribute": name ? null : label }, summary, list);
    list.addEventListener("change", () => choose([...list.querySelectorAll("input:checked")].map((input) => input.value)));
    root.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && root.open) {
        root.open = false;
        summary.focus();
      }
    });
    return { root, summary, list, label, format };
  }

  /**
   * The people file's filters: one multi-select per column (`choices`: info().choices.attributes,
   * `{name, values}`, "" for the unmapped), rebuilt only when the columns change; and a note for
   * the filters the view names that no joined file has (`pending`: column names).
   */
  renderAttributeFilters(choices, selected, pending) {
    const r = this.refs;
    const names = JSON.stringify(choices.map((c) => c.name));
    if (this.attributeSignature !== names) {
      this.attributeSignature = names;
      this.attributeMultis = choices.map(({ name }) =>
        this.buildMulti(name, (values) => this.emit("filterAttribute", { name, values }), { format: (value) => (value === "" ? "(unmapped)" : value) }),
      );
      r.attributeFilters.replaceChildren(...this.attributeMultis.map((multi) => multi.root));
    }
    r.attributeFilters.hidden = choices.length === 0;
    choices.forEach(({ name, values }, i) => this.renderMulti(this.attributeMultis[i], values, selected[name] ?? []));
    r.pendingFilters.hidden = pending.length === 0;
    const list = pending.join(", ");
    r.pendingFilters.textContent = pending.length
      ? `This view filters by ${list}, which ${choices.length ? "the joined people file does not have" : "needs a people file"}: open a People file with ${pending.length === 1 ? "that column" : "those columns"} to apply ${pending.length === 1 ? "it" : "them"}. Until then ${pending.length === 1 ? "it is" : "they are"} not applied.`
      : "";
  }

  /**
   * What the last people file dropped from the filter (a sentence), kept beside the filters until
   * the next people file or export, where the status line's next message would replace it; null
   * hides it.
   */
  renderDroppedFilters(text) {
    this.refs.droppedFilters.hidden = !text;
    this.refs.droppedFilters.textContent = text ?? "";
  }

  buildCharts() {
    const r = this.refs;
    r.timeKey = h("select", { "aria-label": "Time step", onchange: () => this.emit("chooseTimeKey", { timeKey: r.timeKey.value }) });
    r.metric = h("select", { "aria-label": "Chart metric", onchange: () => this.emit("chooseMetric", { metric: r.metric.value }) });
    r.chartBy = h("select", { "aria-label": "People-file column", onchange: () => this.emit("chooseChartBy", { column: r.chartBy.value }) });
    const chart = (name, title, control) => {
      const canvas = h("canvas", { role: "img", "aria-label": title });
      const caption = h("h3", { class: "chart-title" }, title);
      const empty = h("p", { class: "chart-empty", hidden: true });
      const note = h("p", { class: "chart-note", hidden: true });
      const card = h("figure", { class: "chart-card panel", "data-chart": name }, h("figcaption", { class: "chart-head" }, caption, control ?? null), h("div", { class: "chart-box" }, canvas), empty, note);
      r[`chart:${name}`] = { card, canvas, caption, empty, note };
      return card;
    };
    return h(
      "div",
      { class: "charts-section" },
      h("div", { class: "charts-head" }, h("h2", { class: "section-title" }, "Charts"), field("Usage metric", r.metric, { className: "field inline" })),
      h(
        "div",
        { class: "charts" },
        chart("time", "Usage over time", r.timeKey),
        chart("clients", "Usage by client"),
        chart("languages", "Usage by language"),
        chart("users", "Top users"),
        chart("people", "Usage by people-file column", r.chartBy),
      ),
    );
  }

  buildTable() {
    const r = this.refs;
    const download = (what, label) => h("button", { type: "button", class: "button small", "data-download": what, onclick: () => this.emit("download", { what }) }, label);
    r.pageSize = h("select", { "aria-label": "Rows per page", onchange: () => this.emit("resizePage", { pageSize: Number(r.pageSize.value) }) }, PAGE_SIZES.map((n) => option(String(n), `${n} per page`)));
    r.table = h("table", { class: "grid" }, (r.caption = h("caption", { class: "visually-hidden" })), (r.thead = h("thead", { onclick: (event) => this.sortClicked(event) })), (r.tbody = h("tbody")));
    r.prev = h("button", { type: "button", class: "button small", onclick: () => this.emit("turnPage", { page: this.page - 1 }) }, "← Previous");
    r.next = h("button", { type: "button", class: "button small", onclick: () => this.emit("turnPage", { page: this.page + 1 }) }, "Next →");
    // The column chooser: the choices and the default set are the module's (each summary's
    // columnChoices, info().defaultColumns); the choice is the view's (`col=` in the URL).
    r.columns = this.buildMulti("Columns", (columns) => this.emit("chooseColumns", { columns }), { name: "columns", format: (key) => metricLabel(key, this.meta(key), this.labels) });
    r.defaultColumns = h("button", { type: "button", class: "button small", hidden: true, onclick: () => this.emit("chooseColumns", { columns: null }) }, "Default columns");
    return h(
      "section",
      { class: "table-card panel", "aria-labelledby": "sga-table-title" },
      h(
        "div",
        { class: "table-head" },
        h("h2", { class: "section-title", id: "sga-table-title" }, "Grouped result"),
        h("div", { class: "column-choice" }, r.columns.root, r.defaultColumns),
        h("div", { class: "downloads", role: "group", "aria-label": "Downloads" }, h("span", { class: "field-label" }, "Download"), download("grouped-csv", "Grouped CSV"), download("grouped-json", "Grouped JSON"), download("rows-csv", "Filtered rows CSV")),
      ),
      (r.tableScroll = h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": "Grouped result table (scrolls sideways)" }, r.table)),
      (r.tableSmall = h("p", { class: "note small-note table-small", hidden: true })),
      h("div", { class: "pager" }, r.prev, (r.pageInfo = h("span", { class: "page-info", "aria-live": "polite" })), r.next, r.pageSize),
    );
  }

  /** The credits the API returned with the export: a table per bucket, or why there is none. */
  buildCredits() {
    const r = this.refs;
    r.creditsTable = h("table", { class: "grid compact credits-table", hidden: true }, h("caption", { class: "visually-hidden" }, "Credits per month"), (r.creditsHead = h("thead")), (r.creditsBody = h("tbody")));
    r.credits = h(
      "section",
      { class: "credits-card panel", "aria-labelledby": "sga-credits-title" },
      h("h2", { class: "section-title", id: "sga-credits-title" }, "Credits"),
      (r.creditsNote = h("p", { class: "note credits-note", role: "status" })),
      h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": "Credits table" }, r.creditsTable),
    );
    return r.credits;
  }

  /** Shows `creditsTable()`'s answer: the table, or a sentence saying why there is none. */
  renderCredits(model) {
    const r = this.refs;
    const notes = {
      absent: model.reason === "offline" ? "No credit data: this export was opened from a file. Credits come from the API, fetched with “Load usage”." : "No credit data was fetched with this export.",
      failed: `No credit data: the credits could not be fetched (${model.message}). The usage numbers above are not affected.`,
      unrecognised: "No credit table: the credits answer is in an unrecognised format.",
      empty: "The API returned no credit buckets for this range.",
      table: `Credits the API reports for this instance and range${model.unit ? ` (unit: ${model.unit})` : ""}.`,
    };
    r.credits.dataset.state = model.state;
    r.creditsNote.textContent = notes[model.state] ?? notes.unrecognised;
    r.creditsTable.hidden = model.state !== "table";
    if (model.state !== "table") {
      r.creditsHead.replaceChildren();
      r.creditsBody.replaceChildren();
      return;
    }
    r.creditsHead.replaceChildren(h("tr", {}, model.columns.map((c) => h("th", { scope: "col", class: c.numeric ? "num" : "", "data-col": c.key }, c.label))));
    r.creditsBody.replaceChildren(
      ...model.rows.map((cells) => h("tr", {}, cells.map((text, i) => (i === 0 ? h("th", { scope: "row" }, text) : h("td", { class: model.columns[i].numeric ? "num" : "", "data-col": model.columns[i].key }, text))))),
    );
  }

  buildMinutes() {
    const r = this.refs;
    r.minutes = h("div", { class: "minutes-grid" });
    return h(
      "details",
      { class: "minutes panel" },
      h("summary", {}, h("span", { class: "panel-title" }, "Hours saved: minutes per feature")),
      h("p", { class: "note" }, "Hours saved = Σ events × minutes ÷ 60. Adjust the minutes one use of each feature saves; the cards, charts and table follow."),
      r.minutes,
      h("button", { type: "button", class: "button small", onclick: () => this.emit("resetMinutes") }, "Restore defaults"),
    );
  }

  buildWarnings() {
    const r = this.refs;
    r.warnings = h(
      "details",
      { class: "warnings panel", hidden: true },
      (r.warningsSummary = h("summary", {})),
      h("p", { class: "note" }, "Rows with the wrong number of fields are skipped; cells that do not parse count as empty. Line 1 is the header."),
      h("div", { class: "table-scroll" }, h("table", { class: "grid compact" }, h("thead", {}, h("tr", {}, ["Line", "Column", "Problem"].map((t) => h("th", { scope: "col" }, t)))), (r.warningsBody = h("tbody")))),
      (r.warningsMore = h("p", { class: "note", hidden: true })),
    );
    return r.warnings;
  }

  // --- Reading the forms ---------------------------------------------------------------------------

  /** The connect form's values; the token only when asked for. */
  readSettings({ withToken = false } = {}) {
    const f = this.refs.form.elements;
    const settings = {
      instanceUrl: f.instanceUrl.value.trim(),
      granularity: f.granularity.value,
      startDate: f.startDate.value,
      endDate: f.endDate.value,
      baseUrl: f.baseUrl.value.trim(),
      monthWindows: f.monthWindows.checked,
      remember: f.remember.checked,
    };
    if (withToken) settings.token = f.token.value.trim();
    return settings;
  }

  emitGroup() {
    const groupBy = [this.refs.groupBy.value];
    if (this.refs.thenBy.value && this.refs.thenBy.value !== groupBy[0]) groupBy.push(this.refs.thenBy.value);
    this.emit("groupBy", { groupBy });
  }

  // --- Rendering -------------------------------------------------------------------------------------

  /** The granularities the API offers, finest first (the module's `[{name, label}]`): the connect form's choices. */
  setGranularities(granularities) {
    this.refs.form.elements.granularity.replaceChildren(...granularities.map((g) => option(g.name, capitalize(g.label))));
    this.showGranularity();
  }

  /** Selects the settings' granularity, else the first offered (the API's default). */
  showGranularity() {
    const select = this.refs.form.elements.granularity;
    select.value = this.settingsGranularity ?? "";
    if (select.selectedIndex < 0 && select.options.length) select.selectedIndex = 0;
  }

  /** Fills the connect form (never the token unless given). */
  renderSettings(settings, { demo = false, token } = {}) {
    const f = this.refs.form.elements;
    f.instanceUrl.value = settings.instanceUrl ?? "";
    this.settingsGranularity = settings.granularity ?? "";
    this.showGranularity();
    f.startDate.value = settings.startDate ?? "";
    f.endDate.value = settings.endDate ?? "";
    f.baseUrl.value = settings.baseUrl ?? "";
    f.monthWindows.checked = Boolean(settings.monthWindows);
    f.remember.checked = Boolean(settings.remember);
    if (token !== undefined) f.token.value = token;
    this.refs.demoHint.hidden = !demo;
  }

  setToken(token) {
    this.refs.form.elements.token.value = token;
  }

  focusToken() {
    this.refs.form.elements.token.focus();
  }

  /**
   * Moves keyboard focus to what just appeared, so that it does not fall to the page's body when
   * the control that was used goes away or is disabled: `dashboard` (after loading: its title),
   * `table` (after paging: the rows), `error` (the panel's title).
   */
  focusOn(what) {
    const r = this.refs;
    const target = { dashboard: r.sourceTitle, table: r.tableScroll, error: r.errorTitle }[what];
    target?.focus();
  }

  /** Shows the progress bar. `total` (bytes) makes it determinate. */
  renderBusy({ label, bytes = 0, rows = 0, total, window, windows } = {}) {
    const r = this.refs;
    r.progress.hidden = false;
    r.connectButton.disabled = true;
    if (label) r.progressLabel.textContent = label;
    if (total) {
      r.progressBar.max = total;
      r.progressBar.value = Math.min(bytes, total);
    } else {
      r.progressBar.removeAttribute("value");
    }
    const parts = [formatBytes(bytes)];
    if (total) parts[0] += ` of ${formatBytes(total)}`;
    parts.push(`${formatCount(rows)} rows`);
    if (windows > 1) parts.push(`month ${formatCount(Math.min((window ?? 0) + 1, windows))} of ${formatCount(windows)}`);
    r.progressDetail.textContent = parts.join(" · ");
  }

  renderIdle() {
    this.refs.progress.hidden = true;
    this.refs.connectButton.disabled = false;
  }

  /** Shows an error panel `{title, message, hints, command}`, or hides it for null. */
  renderError(panel) {
    const r = this.refs;
    r.error.hidden = !panel;
    if (!panel) return;
    r.error.dataset.kind = panel.kind ?? "unknown";
    r.errorTitle.textContent = panel.title;
    r.errorMessage.textContent = panel.message;
    r.errorNext.hidden = !panel.next;
    r.errorNext.replaceChildren(...(panel.next ? [h("strong", {}, "Next: "), panel.next] : []));
    r.errorCommand.hidden = !panel.command;
    r.errorCommand.textContent = panel.command ?? "";
    const hints = panel.hints ?? [];
    r.errorTechnical.hidden = !panel.detail;
    r.errorTechnical.textContent = panel.detail ?? "";
    r.errorHints.hidden = hints.length === 0;
    r.errorHints.replaceChildren(...hints.map((hint) => h("li", {}, hint)));
    r.errorDetail.hidden = !panel.detail && hints.length === 0;
    r.errorDetail.open = false;
    const action = panel.action;
    r.errorAction.hidden = !action;
    r.errorAction.textContent = action?.label ?? "";
    this.errorAction = action
      ? () => {
          this.renderError(null);
          this.emit(action.event, action.detail ?? {});
        }
      : null;
    r.error.scrollIntoView?.({ block: "nearest" });
  }

  announce(text) {
    this.refs.status.textContent = text;
  }

  /** Shows which data is loaded and folds the connect panel away. */
  renderSource({ title, meta, warningsTotal = 0, skippedRows = 0, collapse = true }) {
    const r = this.refs;
    r.sourceTitle.textContent = title;
    r.sourceMeta.textContent = meta;
    r.sourceLine.textContent = `Loaded: ${title}`;
    const problems = [];
    if (warningsTotal) problems.push(`${formatCount(warningsTotal)} warning${warningsTotal === 1 ? "" : "s"}`);
    if (skippedRows) problems.push(`${formatCount(skippedRows)} skipped row${skippedRows === 1 ? "" : "s"}`);
    r.warningsBadge.hidden = problems.length === 0;
    r.warningsBadge.textContent = problems.join(" · ");
    if (collapse) r.connect.open = false;
    r.sources.classList.add("loaded");
    r.dashboard.hidden = false;
  }

  /** The people file the Open panel joins onto each export opened (its name), or none. */
  renderPeopleForExports(name) {
    const r = this.refs;
    r.openPeopleName.textContent = name ?? "none";
    r.openPeopleName.title = name ? `${name} is joined onto each export opened` : "";
    r.openPeopleName.classList.toggle("none", !name);
    r.openPeopleClear.hidden = !name;
  }

  /** The people file joined to the report (its name), or none. */
  renderPeopleFile(name) {
    this.refs.peopleName.textContent = name ?? "none";
    this.refs.peopleName.classList.toggle("none", !name);
  }

  /** The headline cards, as the module's info() lists them (`{metric, label, note}`, in order). */
  setCards(cards = []) {
    this.cards = cards;
    this.refs.cards.replaceChildren(...cards.map(({ metric, label, note }) => this.buildCard(metric, label, note)));
  }

  /**
   * How each export metric is shown: the module's `info().metrics` (`{name, kind, percent}`), and
   * the headings of the structural and key fields (`info().labels`).
   */
  setMetricInfo(metrics = [], attributes = [], labels = {}) {
    this.metricMeta = new Map(metrics.map((m) => [m.name, m]));
    this.attributes = attributes;
    this.labels = labels;
  }

  /** The formatting facts of a metric (undefined for structural keys). */
  meta(key) {
    return this.metricMeta?.get(key);
  }

  /** Shows the usage view or the adoption view; the filter bar is shared, grouping is usage's. */
  renderTab(tab) {
    const r = this.refs;
    const adoption = tab === "adoption";
    assign(r.usage, { hidden: adoption });
    assign(r.adoption, { hidden: !adoption });
    for (const button of r.tabButtons) attribute(button, "aria-pressed", String(button.dataset.tab === tab));
    r.groupingHidden = adoption;
  }

  /**
   * The Adoption view. Each part (`growth`, `retention`, `inactive`, `stickiness`, `features`: the
   * last two drawn by engagement.js) is redrawn when given and left as drawn when undefined; `problem` ({title, message}) replaces them all when the export cannot
   * answer. As in renderCharts: every DOM write first, then one theme read, then the draw.
   */
  renderAdoption({ controls, problem, growth, retention, inactive, stickiness, features }) {
    const r = this.refs;
    setOptions(r.period, controls.periods.map((p) => [p, `by ${p}`]), controls.period);
    setOptions(r.idleDays, controls.idleChoices.map((d) => [String(d), `${d} days`]), String(controls.idleDays));
    r.adoptionProblem.hidden = !problem;
    r.adoptionAnswers.hidden = Boolean(problem);
    if (problem) {
      r.adoptionProblemTitle.textContent = problem.title;
      r.adoptionProblemText.textContent = problem.message;
      for (const name of this.growthNames ?? []) this.charts.remove(name);
      this.engagement.clear();
      return;
    }
    if (growth) this.renderGrowthTable(growth);
    if (retention) this.renderRetention(retention);
    if (inactive) this.renderInactive(inactive);
    if (growth) {
      r.growthTitle.textContent = growth.title;
      const names = growth.multiples.map((m) => m.name);
      if (names.join() !== (this.growthNames ?? []).join()) {
        for (const name of this.growthNames ?? []) this.charts.remove(name);
        this.growthCanvases = new Map(names.map((name) => [name, h("canvas", { role: "img" })]));
        r.growthMultiples.replaceChildren(
          ...growth.multiples.map((m) => h("figure", { class: "growth-multiple", "data-chart": m.name }, h("figcaption", { class: "chart-title" }, m.title), h("div", { class: "chart-box growth-box" }, this.growthCanvases.get(m.name)))),
        );
        this.growthNames = names;
      }
      const colors = theme(r.growthMultiples);
      for (const m of growth.multiples) {
        const canvas = this.growthCanvases.get(m.name);
        canvas.setAttribute("aria-label", m.description);
        this.charts.draw(m.name, canvas, m, colors);
      }
    }
    this.engagement.render({ stickiness, features });
  }

  /** The growth table (the baseline and partial periods tagged) and the notes that say why. */
  renderGrowthTable({ table, baselineNote, partialNote, smallNote }) {
    const r = this.refs;
    setNote(r.growthBaseline, baselineNote);
    setNote(r.growthPartial, partialNote);
    setNote(r.growthSmall, smallNote);
    periodTable(r.growthHead, r.growthBody, table, table.columns.length + 1);
  }

  renderRetention({ period, width, cohorts, partialNote, minSample }) {
    const r = this.refs;
    setNote(r.retentionPartial, partialNote);
    setNote(r.retentionSmall, cohorts.some((c) => c.small) ? `* Small sample: a cohort of fewer than ${formatCount(minSample)} users; its shares are a hint rather than a figure.` : "");
    r.retentionCaption.textContent = `Retention by ${period}: of each cohort (users first active that ${period}), how many were active k ${period}s later`;
    r.retentionNote.textContent = `Each row is a cohort: the users first active in that ${period}. Column +k: how many of them were active k ${period}s later, and their share of the cohort. Darker cells hold larger shares.${width > 12 ? ` ${width} columns (+0 to +${width - 1}): later ${period}s scroll sideways; the cohort and its size stay in view.` : ""}`;
    r.retentionHead.replaceChildren(
      h("tr", {}, h("th", { scope: "col" }, "Cohort"), h("th", { scope: "col", class: "num" }, "Users"), Array.from({ length: width }, (_, k) => h("th", { scope: "col", class: "num" }, `+${k}`))),
    );
    r.retentionBody.replaceChildren(
      ...cohorts.map((c) =>
        h(
          "tr",
          { "data-cohort": c.cohort, class: c.partial ? "partial" : null },
          periodHeader({ period: c.cohort, partial: c.partial }),
          h("td", { class: c.small ? "num small-sample" : "num", title: c.small ? `small sample: fewer than ${formatCount(minSample)} users` : null }, formatCount(c.users)),
          c.cells.map((cell, k) =>
            h("td", { class: `num heat heat-${Math.min(9, Math.floor(cell.share * 10))}`, "data-k": String(k) }, h("span", { class: "heat-count" }, formatCount(cell.count)), h("span", { class: "heat-share" }, cell.text)),
          ),
        ),
      ),
    );
    if (cohorts.length === 0) r.retentionBody.append(h("tr", {}, h("td", { colspan: "2", class: "empty-row" }, "No active users in this view.")));
  }

  renderInactive({ days, asOf, total, users }) {
    const r = this.refs;
    r.inactiveSummary.textContent = asOf
      ? `${formatCount(total)} user${total === 1 ? "" : "s"} with no active day in the ${formatCount(days)} days up to ${asOf}.`
      : `${formatCount(total)} user${total === 1 ? "" : "s"} with no active day (no dates in this view).`;
    r.inactiveBody.replaceChildren(
      ...users.map((u) =>
        h(
          "tr",
          { "data-user": u.user },
          h("th", { scope: "row", class: "key user" }, h("span", { class: "user-name" }, u.name), u.serviceAccount ? h("span", { class: "tag" }, "service account") : null),
          h("td", {}, u.email),
          h("td", {}, u.user),
          h("td", { class: u.lastActive === "never" ? "none" : "" }, u.lastActive),
        ),
      ),
    );
    if (users.length === 0) r.inactiveBody.append(h("tr", {}, h("td", { colspan: "4", class: "empty-row" }, "Everyone in this view was active.")));
    r.inactiveMore.hidden = users.length >= total;
    r.inactiveMore.textContent = `Showing the first ${formatCount(users.length)} of ${formatCount(total)}; the CSV holds them all.`;
  }

  /** Sets every control of the filter bar to the view, with the choices the data offers. */
  renderControls(view, { groupKeys, timeKeys, clients, languages, attributes = [], pendingAttributes = [], registryLoaded, hasDates, metrics, firstDate, lastDate, minSample }) {
    const r = this.refs;
    r.minSample.value = String(minSample);
    const keyOptions = (keys) => keys.map((key) => [key, keyLabel(key, this.labels)]);
    setOptions(r.groupBy, keyOptions(groupKeys), view.groupBy[0]);
    setOptions(r.thenBy, [["", "(nothing)"], ...keyOptions(groupKeys.filter((key) => key !== view.groupBy[0]))], view.groupBy[1] ?? "");
    r.groupField.hidden = Boolean(r.groupingHidden);
    r.thenField.hidden = groupKeys.length < 2 || Boolean(r.groupingHidden);
    r.fromField.hidden = r.toField.hidden = r.presetField.hidden = !hasDates;
    // The presets count back from the data's last day; dates that match none read "Custom".
    const preset = presetOf(view, { lastDate });
    setOptions(r.preset, [...DATE_PRESETS, ...(preset === "custom" ? [["custom", "Custom"]] : [])], preset);
    for (const input of [r.from, r.to]) {
      input.min = firstDate ?? "";
      input.max = lastDate ?? "";
    }
    r.from.value = view.from;
    r.to.value = view.to;
    if (this.root.activeElement !== r.userSearch && document.activeElement !== r.userSearch) r.userSearch.value = view.userSearch;
    this.renderMulti(r.clients, clients, view.clients);
    this.renderMulti(r.languages, languages, view.languages);
    this.renderAttributeFilters(attributes, view.attributes ?? {}, pendingAttributes);
    setOptions(r.chartBy, attributes.map(({ name }) => [name, `by ${name}`]), view.chartBy);
    r.activeOnly.checked = view.activeOnly;
    r.humans.checked = !view.includeServiceAccounts && registryLoaded;
    r.humans.disabled = !registryLoaded;
    r.humansLabel.title = registryLoaded ? "" : "Needs the user registry, which is fetched with the export from the API";
    setOptions(r.timeKey, timeKeys.map((key) => [key, `by ${key}`]), view.timeKey);
    setOptions(r.metric, metrics.map((key) => [key, metricLabel(key, this.meta(key), this.labels)]), view.metric);
  }

  renderMulti(multi, values, selected) {
    multi.root.hidden = values === null;
    if (values === null) return;
    const chosen = new Set(selected);
    const signature = JSON.stringify(values);
    if (multi.signature === signature) {
      // Same choices: only tick, so a keyboard user's focus stays on the box they toggled.
      for (const input of multi.list.querySelectorAll("input")) input.checked = chosen.has(input.value);
    } else {
      multi.signature = signature;
      multi.list.replaceChildren(multi.list.firstChild, ...values.map((value) => check(multi.format(value), h("input", { type: "checkbox", value, checked: chosen.has(value) }))));
    }
    multi.summary.textContent = `${multi.label}: ${selected.length ? `${selected.length} of ${values.length}` : "all"}`;
  }

  /** The headline cards; null shows as "—". */
  /**
   * The headline numbers; with `previous` (`{range: {from, to}, totals}`), each card also says how
   * it changed from the equally long range before: in percent for counts, from what for rates.
   */
  renderCards(totals, previous, { serviceAccounts, range, empty, smallRates = [], small = "", lastPeriods = null } = {}) {
    const r = this.refs;
    // The range before is outside the data: one line says so, and the cards compare the last two
    // whole periods inside the range instead (when it holds two).
    const outside = previous?.totals.rows === 0 ? `${previous.range.from} – ${previous.range.to}` : "";
    const period = lastPeriods?.period;
    setNote(
      r.cardsCompare,
      !outside
        ? ""
        : lastPeriods
          ? `Changes compare the last whole ${period} (${lastPeriods.latest.period}) with the one before (${lastPeriods.before.period}): the range before this one (${outside}) has no data to compare with.`
          : `No changes shown: the range before this one (${outside}) has no data to compare with, and this one holds fewer than two whole weeks to compare.`,
    );
    // A rate over a small sample (`smallRates`): its card is marked "*", and `small` says why.
    const marked = new Set(smallRates);
    setNote(r.cardsSmall, small);
    r.viewRange.textContent = range ? `Showing ${range}` : "";
    // A view that keeps nothing says why, and what to do, in one sentence.
    r.emptyNote.hidden = !empty;
    r.emptyNote.textContent = empty ?? "";
    this.emptyText = empty || "No rows match this view.";
    // What the figures do with the registry's service accounts, and the one click that flips it.
    r.serviceNote.hidden = !serviceAccounts;
    if (serviceAccounts) {
      const { excluded, users } = serviceAccounts;
      const accounts = `${formatCount(users)} service account${users === 1 ? "" : "s"}`;
      r.serviceText.textContent = excluded ? `Excludes ${accounts} (marked in the user registry).` : `Includes ${accounts} (marked in the user registry).`;
      r.serviceToggle.textContent = excluded ? "Include them" : "Exclude them";
      r.serviceToggle.dataset.include = excluded ? "1" : "0";
      r.serviceToggle.hidden = users === 0 && excluded;
    }
    for (const { metric: key, note } of this.cards ?? []) {
      const el = this.refs[`card:${key}`];
      const value = totals[key];
      const meta = this.meta(key);
      el.textContent = formatMetric(key, value ?? null, meta);
      const card = el.closest(".card");
      card.classList.toggle("empty", value === null || value === undefined);
      card.classList.toggle("small-sample", marked.has(key));
      el.title = marked.has(key) ? "small sample" : "";
      card.querySelector(".card-note").textContent = lastPeriods && outside ? periodChangeNote(key, lastPeriods, meta) : previous && !outside ? changeNote(key, value, previous, meta) : note;
    }
  }

  /**
   * Draws the charts. Each entry is `{labels, values, label, format}` or null (then the chart is
   * hidden, e.g. no dates in a by_user export) or `{empty: "why"}`.
   */
  renderCharts(charts) {
    // All writes first, then one read of the theme and the draws: interleaving them would make
    // the browser recompute styles and layout once per chart. A value the page shows already is
    // not written again, so that a redraw whose captions stay as they were leaves the browser
    // nothing to lay out before Chart.js measures its labels' text (see `Dashboard.refresh`).
    const draws = [];
    for (const [name, spec] of Object.entries(charts)) {
      const chart = this.refs[`chart:${name}`];
      if (!chart) continue;
      assign(chart.card, { hidden: spec === null });
      if (spec === null) {
        this.charts.remove(name);
        continue;
      }
      if (spec.title) assign(chart.caption, { textContent: spec.title });
      const empty = spec.empty || (spec.values && spec.values.length === 0 ? "No data for this view." : "");
      assign(chart.empty, { hidden: !empty, textContent: empty || "" });
      assign(chart.canvas.parentElement, { hidden: Boolean(empty) });
      // What a mark on the chart means (a rate over a small sample).
      if (chart.note) assign(chart.note, { hidden: !spec.note || Boolean(empty), textContent: spec.note ?? "" });
      if (empty) {
        this.charts.remove(name);
        continue;
      }
      attribute(chart.canvas, "aria-label", spec.description ?? spec.title ?? name);
      draws.push([name, chart.canvas, spec]);
    }
    if (draws.length === 0) return;
    const colors = theme(draws[0][1]);
    for (const [name, canvas, spec] of draws) this.charts.draw(name, canvas, spec, colors);
  }

  /**
   * The grouped table: headers that sort, one row per group, the pager; the column chooser
   * offers `choices` with `columns` ticked, and the way back to the default set when `chosen`.
   */
  renderTable({ groupBy, columns, choices = columns, chosen = false, groups, sort, page, pageSize, total, small = "" }) {
    const r = this.refs;
    setNote(r.tableSmall, small);
    this.page = page;
    this.renderMulti(r.columns, choices, columns);
    r.defaultColumns.hidden = !chosen;
    const focusedSort = this.focused()?.dataset?.sort;
    const header = (key, label, numeric) => {
      const active = sort.by === key;
      const direction = active ? (sort.desc ? "descending" : "ascending") : "none";
      return h(
        "th",
        { scope: "col", "aria-sort": direction, class: numeric ? "num" : "" },
        h("button", { type: "button", class: "sort", "data-sort": key }, label, h("span", { class: "sort-mark", "aria-hidden": "true" }, active ? (sort.desc ? " ▼" : " ▲") : "")),
      );
    };
    // Each column's facts and heading, looked up once rather than once a cell.
    const metrics = columns.map((key) => {
      const meta = this.meta(key);
      return { key, meta, label: metricLabel(key, meta, this.labels) };
    });
    // Built detached and morphed into the table: the cells a change leaves alone stay as they are.
    morph(r.thead, h("thead", {}, h("tr", {}, groupBy.map((key) => header(key, keyLabel(key, this.labels), false)), metrics.map(({ key, label }) => header(key, label, true)))));
    const body = h(
      "tbody",
      {},
      ...groups.map((group) =>
        h(
          "tr",
          {},
          groupBy.map((key) => this.keyCell(key, group.key)),
          metrics.map(({ key, meta, label }) => {
            const value = group[key];
            // A rate over a small sample is marked "*" (the note under the table says so).
            const small = group.smallSample?.includes(key);
            const cls = `num${value === null || value === undefined ? " none" : ""}${small ? " small-sample" : ""}`;
            // The column's name beside each value, for the phone layout (one card per group).
            return h("td", { class: cls, title: small ? "small sample" : null, "data-label": label }, formatMetric(key, value ?? null, meta));
          }),
        ),
      ),
    );
    if (groups.length === 0) body.append(h("tr", {}, h("td", { colspan: String(groupBy.length + columns.length), class: "empty-row" }, this.emptyText ?? "No rows match this view.")));
    morph(r.tbody, body);
    if (focusedSort) r.thead.querySelector(`[data-sort="${CSS.escape(focusedSort)}"]`)?.focus();
    r.caption.textContent = `Grouped by ${groupBy.map((key) => keyLabel(key, this.labels)).join(", then ")}`;
    const pages = Math.max(1, Math.ceil(total / pageSize));
    const first = total ? page * pageSize + 1 : 0;
    r.pageInfo.textContent = `${formatCount(first)}–${formatCount(Math.min(total, (page + 1) * pageSize))} of ${formatCount(total)} groups · page ${page + 1} of ${pages}`;
    r.prev.disabled = page <= 0;
    r.next.disabled = page + 1 >= pages;
    r.pageSize.value = String(pageSize);
  }

  /** A click on a column's sort button (one listener for the header, which is morphed in place). */
  sortClicked(event) {
    const button = event.target.closest?.("button[data-sort]");
    if (button) this.emit("sortBy", { by: button.dataset.sort });
  }

  /** A group-key cell; a user shows their name with e-mail and ID beneath. */
  keyCell(key, groupKey) {
    const value = groupKey[key];
    // A people file's column: users it has no line for are "(unmapped)".
    if (this.attributes.includes(key) && value === null) return h("th", { scope: "row", class: "key none" }, "(unmapped)");
    if (key !== "user") return h("th", { scope: "row", class: "key" }, formatKeyValue(key, value));
    const name = userName(groupKey);
    const details = [groupKey.username && groupKey.email, value !== name ? value : null].filter(Boolean).join(" · ");
    return h(
      "th",
      { scope: "row", class: "key user" },
      h("span", { class: "user-name" }, formatKeyValue(key, name)),
      groupKey.serviceAccount ? h("span", { class: "tag" }, "service account") : null,
      details ? h("span", { class: "user-details" }, details) : null,
    );
  }

  /** The element that has focus, inside the shadow root or the document. */
  focused() {
    return this.root.activeElement ?? (this.root.contains?.(document.activeElement) ? document.activeElement : null);
  }

  /** The minutes-per-feature inputs. */
  renderMinutes(features) {
    const signature = JSON.stringify(features.map((f) => f.feature));
    if (this.minutesSignature === signature) {
      for (const { feature, minutes, isDefault } of features) {
        const input = this.refs.minutes.querySelector(`[data-feature="${CSS.escape(feature)}"]`);
        if (input !== this.focused()) input.value = String(minutes);
        input.classList.toggle("changed", !isDefault);
      }
      return;
    }
    this.minutesSignature = signature;
    this.refs.minutes.replaceChildren(
      ...features.map(({ feature, minutes, isDefault }) =>
        field(
          feature,
          h("input", {
            type: "number",
            min: "0",
            step: "0.5",
            value: String(minutes),
            class: isDefault ? "" : "changed",
            "data-feature": feature,
            onchange: (event) => this.emit("setMinutes", { feature, minutes: event.target.value }),
          }),
          { hint: "minutes per event" },
        ),
      ),
    );
  }

  /** Ingest warnings with their line numbers. */
  renderWarnings({ warnings = [], warningsTotal = 0, skippedRows = 0 }) {
    const r = this.refs;
    r.warnings.hidden = warningsTotal === 0 && skippedRows === 0;
    r.warningsSummary.textContent = `Ingest warnings: ${formatCount(warningsTotal)} (${formatCount(skippedRows)} skipped row${skippedRows === 1 ? "" : "s"})`;
    r.warningsBody.replaceChildren(
      ...warnings.map((w) => h("tr", {}, h("td", { class: "num" }, formatCount(w.line)), h("td", {}, w.column ?? "(whole row)"), h("td", {}, w.message))),
    );
    r.warningsMore.hidden = warnings.length >= warningsTotal;
    r.warningsMore.textContent = `Showing the first ${formatCount(warnings.length)} of ${formatCount(warningsTotal)} warnings.`;
  }

  revealWarnings() {
    this.refs.warnings.open = true;
    this.refs.warnings.scrollIntoView?.({ block: "start" });
    this.refs.warningsSummary.focus();
  }

  showDashboard(visible) {
    this.refs.dashboard.hidden = !visible;
  }

  /** Saves text as a file: Blob, object URL, a temporary <a download>. */
  download({ name, type, text }) {
    const url = URL.createObjectURL(new Blob([text], { type }));
    const link = h("a", { href: url, download: name, hidden: true });
    this.refs.dashboard.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  destroy() {
    document.removeEventListener("click", this.closeMultis);
    this.filterHeight.disconnect();
    this.charts.removeAll();
  }
}
