// imsrc's search page: plain JavaScript against the query server's JSON API, nothing fetched
// from elsewhere. Every request goes through api(), which turns any failure into a message.
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  file: null,          // the query image (a File or Blob), when the query is a file
  queryId: null,       // the stored image the query is, when searching by a result
  mode: null,          // "search" | "similar"
  nextOffset: null,
  categories: [],      // from GET /categories
  token: sessionStorage.getItem("imsrc.token") || null,
  following: null,     // the uploaded image id whose state the page is following
  busy: false,
};

class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail || code || ("HTTP " + status));
    this.status = status;
    this.code = code;
  }
}

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (state.token) headers["Authorization"] = "Bearer " + state.token;
  let response;
  try {
    response = await fetch(path, Object.assign({}, options, { headers }));
  } catch (e) {
    throw new ApiError(0, "unreachable", "The imsrc server cannot be reached. Is it running?");
  }
  const type = response.headers.get("Content-Type") || "";
  const body = type.includes("json") ? parseJson(await response.text()) : null;
  if (!response.ok) {
    if (response.status === 401 && askToken()) return api(path, options);
    throw new ApiError(response.status, body && body.error, body && body.detail);
  }
  return body;
}

// Image ids are 63-bit integers, beyond what a JavaScript number holds exactly (2^53): read every
// *image_id as a string, so that ids survive the round trip to the next request.
function parseJson(text) {
  try {
    return JSON.parse(text.replace(/"([a-z_]*image_id)":\s*(-?\d+)/g, '"$1":"$2"'));
  } catch (e) {
    return null;
  }
}

function askToken() {
  const token = window.prompt("This imsrc server needs its API token:");
  if (!token) return false;
  state.token = token;
  sessionStorage.setItem("imsrc.token", token);
  return true;
}

function describe(error) {
  const unreadable = "That file is not an image imsrc can read.";
  const friendly = {
    not_an_image: unreadable,
    unsupported_format: unreadable,
    empty_file: "That file is empty.",
    truncated_image: "That image is cut short.",
    corrupt_image: "That image is damaged.",
    file_too_large: "That image is too large.",
    too_many_pixels: "That image has too many pixels.",
    index_not_ready: "The index is still being built; try again in a moment.",
  };
  const text = friendly[error.code];
  return text ? text + " Detail: " + error.message : error.message;
}

// Messages show where the results would have been, so that they are seen; on a phone the page
// scrolls there.
function showMessage(text) {
  const box = $("message");
  box.textContent = text;
  box.hidden = !text;
  if (text && window.matchMedia("(max-width: 700px)").matches) box.scrollIntoView({ block: "center" });
}

function setBusy(busy, label) {
  state.busy = busy;
  $("progress").hidden = !busy;
  $("progress").setAttribute("aria-label", label || "Working");
  $("results-section").setAttribute("aria-busy", String(busy));
  updateButtons();
}

function updateButtons() {
  const haveQuery = state.file !== null || state.queryId !== null;
  $("search").disabled = state.busy || !haveQuery;
  $("prototypes").disabled = state.busy || state.file === null;
  $("add").disabled = state.busy || state.file === null;
  $("more").disabled = state.busy;
}

// A new query starts its own pages: "More results" must not append pages of another one.
function forgetPages() {
  state.nextOffset = null;
  $("more").hidden = true;
}

function contentUrl(id) {
  return "/images/" + id + "/content";
}

// Images the server guards with a token cannot be plain <img src>: fetch them with it.
function loadImage(img, id) {
  if (!state.token) {
    img.src = contentUrl(id);
    return;
  }
  fetch(contentUrl(id), { headers: { Authorization: "Bearer " + state.token } })
    .then((r) => (r.ok ? r.blob() : Promise.reject()))
    .then((blob) => { img.src = URL.createObjectURL(blob); })
    .catch(() => { img.alt += " (not available)"; });
}

// ---- choosing the query ----

function setFile(file) {
  if (!file) return;
  state.file = file;
  state.queryId = null;
  forgetPages();
  showMessage("");
  if (state.following === null) $("upload-state").textContent = "";
  const preview = $("preview");
  preview.onerror = () => {
    preview.hidden = true;
    showMessage((file.name || "The pasted file") + " cannot be shown as an image; the server will check it when you search.");
  };
  preview.src = URL.createObjectURL(file);
  preview.alt = "Query: " + (file.name || "pasted image");
  preview.hidden = false;
  updateButtons();
}

function setStoredQuery(id) {
  state.file = null;
  state.queryId = id;
  forgetPages();
  const preview = $("preview");
  preview.onerror = null;
  preview.alt = "Query: stored image " + id;
  preview.hidden = false;
  loadImage(preview, id);
  updateButtons();
}

function wireInput() {
  const zone = $("dropzone");
  const input = $("file");
  zone.addEventListener("click", () => input.click());
  zone.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); }
  });
  input.addEventListener("change", () => { if (input.files[0]) setFile(input.files[0]); input.value = ""; });
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    const file = e.dataTransfer && e.dataTransfer.files[0];
    if (file) setFile(file); else showMessage("Drop an image file.");
  });
  document.addEventListener("paste", (e) => {
    const items = e.clipboardData ? Array.from(e.clipboardData.files || []) : [];
    if (items.length) { setFile(items[0]); e.preventDefault(); }
  });
}

// ---- options ----

function options() {
  const params = new URLSearchParams();
  params.set("limit", $("limit").value);
  params.set("use_prototypes", String($("use-prototypes").checked));
  params.set("top_categories", $("top-categories").value);
  const min = $("min-similarity").value.trim();
  if (min !== "") params.set("min_similarity", min);
  const category = $("category").value;
  if (category) params.set("category", category);
  return params;
}

function wireOptions() {
  for (const type of ["input", "change"]) $("options").addEventListener(type, forgetPages);
  for (const [input, output] of [["limit", "limit-value"], ["top-categories", "top-categories-value"]]) {
    $(input).addEventListener("input", () => { $(output).textContent = $(input).value; });
  }
  $("use-prototypes").addEventListener("change", () => {
    $("top-categories").disabled = !$("use-prototypes").checked;
  });
}

// ---- searching ----

async function search(offset = 0) {
  const params = options();
  params.set("offset", String(offset));
  setBusy(true, "Searching");
  showMessage("");
  try {
    let answer;
    if (state.queryId !== null) {
      answer = await api("/images/" + state.queryId + "/similar?" + params);
    } else {
      const form = new FormData();
      form.append("file", state.file, state.file.name || "query.png");
      answer = await api("/search?" + params, { method: "POST", body: form });
    }
    renderResults(answer, offset > 0);
    if (offset === 0) revealResults();
  } catch (e) {
    showMessage(describe(e));
  } finally {
    setBusy(false);
  }
}

// On a narrow screen the results sit below the form: bring them into view (and focus for screen
// readers), as a person would otherwise wonder whether anything happened.
function revealResults() {
  if (window.matchMedia("(max-width: 700px)").matches) {
    $("results-section").focus();
    $("results-section").scrollIntoView({ block: "start" });
  }
}

function percent(similarity) {
  return Math.max(0, Math.min(100, Math.round(similarity * 100)));
}

function renderSummary(answer) {
  const parts = [];
  // With a classifier the model names the class and its confidence; without one the server
  // names the category whose prototype is nearest, and the page says which it is.
  if (answer.predicted_category) {
    const name = "<strong id=\"predicted\">" + escapeHtml(answer.predicted_category) + "</strong>";
    parts.push(answer.prediction_confidence == null
      ? "Nearest category " + name + " (by prototype)"
      : "Looks like " + name + " (" + Math.round(answer.prediction_confidence * 100) + "% confidence)");
  }
  const t = answer.timings;
  if (t) {
    parts.push("<span id=\"timings\">embedding " + t.embed_ms.toFixed(1) + " ms · prototypes " + t.prototype_ms.toFixed(1)
      + " ms · index " + t.index_ms.toFixed(1) + " ms · total " + t.total_ms.toFixed(1) + " ms</span>");
  }
  if (answer.searched_categories) {
    parts.push("searched " + (answer.used_prototypes ? "the best categories: " : "") + answer.searched_categories.map(escapeHtml).join(", "));
  }
  $("summary").innerHTML = parts.join(" · ");
}

function renderResults(answer, append) {
  $("ranking").hidden = true;
  $("grid").hidden = false;
  $("empty").hidden = true;
  renderSummary(answer);
  const grid = $("grid");
  if (!append) grid.replaceChildren();
  const start = grid.children.length;
  answer.results.forEach((result, i) => {
    const li = document.createElement("li");
    li.dataset.imageId = result.image_id;
    li.dataset.category = result.category;
    li.dataset.similarity = result.similarity;
    const button = document.createElement("button");
    button.type = "button";
    button.setAttribute("aria-label", "Result " + (start + i + 1) + ": " + result.category + ", similarity "
      + result.similarity.toFixed(3) + ". Open it.");
    const img = document.createElement("img");
    img.alt = result.category;
    img.loading = "lazy";
    loadImage(img, result.image_id);
    const meta = document.createElement("div");
    meta.className = "meta";
    meta.innerHTML = "<span class=\"category\">" + escapeHtml(result.category) + "</span><span class=\"similarity\">"
      + result.similarity.toFixed(3) + "</span>";
    const bar = document.createElement("div");
    bar.className = "bar";
    bar.innerHTML = "<span style=\"width:" + percent(result.similarity) + "%\"></span>";
    button.append(img, meta, bar);
    button.addEventListener("click", () => openViewer(result.image_id));
    li.append(button);
    grid.append(li);
  });
  if (!append && answer.results.length === 0) {
    $("empty").hidden = false;
    $("empty").textContent = "No image matches these options.";
  }
  state.nextOffset = answer.next_offset == null ? null : answer.next_offset;
  $("more").hidden = state.nextOffset === null;
}

async function prototypes() {
  setBusy(true, "Ranking categories");
  showMessage("");
  try {
    const form = new FormData();
    form.append("file", state.file, state.file.name || "query.png");
    const answer = await api("/search/prototypes", { method: "POST", body: form });
    if (state.categories.length === 0) await refreshCategories();
    renderRanking(answer);
    revealResults();
  } catch (e) {
    showMessage(describe(e));
  } finally {
    setBusy(false);
  }
}

function renderRanking(answer) {
  $("grid").hidden = true;
  $("more").hidden = true;
  $("empty").hidden = true;
  renderSummary(answer);
  const list = $("ranking");
  list.replaceChildren();
  const representatives = new Map(state.categories.map((c) => [c.category, c.representative]));
  for (const entry of answer.categories) {
    const li = document.createElement("li");
    li.dataset.category = entry.category;
    li.dataset.similarity = entry.similarity;
    const img = document.createElement("img");
    const representative = representatives.get(entry.category);
    img.alt = "Representative image of " + entry.category;
    if (representative) loadImage(img, representative.image_id);
    const name = document.createElement("span");
    name.className = "category";
    name.textContent = entry.category;
    const bar = document.createElement("div");
    bar.className = "bar";
    bar.innerHTML = "<span style=\"width:" + percent(entry.similarity) + "%\"></span>";
    const value = document.createElement("span");
    value.className = "similarity";
    value.textContent = entry.similarity.toFixed(3);
    li.append(img, name, bar, value);
    list.append(li);
  }
  list.hidden = false;
}

// ---- one image ----

async function openViewer(id) {
  const dialog = $("viewer");
  try {
    const image = await api("/images/" + id);
    $("viewer-title").textContent = (image.category || "Image") + " · " + id;
    const img = $("viewer-image");
    img.alt = "Image " + id + (image.category ? ", " + image.category : "");
    loadImage(img, id);
    const facts = [
      ["Category", image.category + (image.category_assignment ? " (" + image.category_assignment + ")" : "")],
      ["Size", image.width && image.height ? image.width + " × " + image.height + " " + (image.format || "") : ""],
      ["Source", image.source],
      ["Name", image.original_name],
      ["Added", image.created_at],
      ["State", image.state],
    ].filter(([, v]) => v);
    $("viewer-facts").innerHTML = facts.map(([k, v]) => "<dt>" + k + "</dt><dd>" + escapeHtml(String(v)) + "</dd>").join("");
    $("viewer-search").onclick = () => { dialog.close(); setStoredQuery(id); search(0); };
    dialog.showModal();
  } catch (e) {
    showMessage(describe(e));
  }
}

// ---- adding to the library ----

// The upload itself holds the page busy; following it to the index does not, so a person can
// search on while the ingest job works. A newer upload takes the status line over.
async function addToLibrary() {
  const form = new FormData();
  form.append("file", state.file, state.file.name || "upload.png");
  const category = $("add-category").value.trim();
  if (category) form.append("category", category);
  const stateBox = $("upload-state");
  showMessage("");
  state.following = null;
  stateBox.textContent = "Uploading…";
  setBusy(true, "Uploading");
  let answer;
  try {
    answer = await api("/upload", { method: "POST", body: form });
  } catch (e) {
    stateBox.textContent = "";
    showMessage(describe(e));
    return;
  } finally {
    setBusy(false);
  }
  if (answer.status === "stored") {
    stateBox.textContent = "Already in the library (image " + answer.image_id + ").";
    return;
  }
  follow(answer.image_id);
}

async function follow(id) {
  const stateBox = $("upload-state");
  state.following = id;
  const started = Date.now();
  let where = "queued for the ingest job";
  stateBox.textContent = "Image " + id + ": " + where + "…";
  try {
    while (Date.now() - started < 120000) {
      await new Promise((r) => setTimeout(r, 500));
      if (state.following !== id) return;
      const image = await api("/images/" + id);
      if (state.following !== id) return;
      if (image.state === "rejected") {
        stateBox.textContent = "Image " + id + " was not added.";
        showMessage("The image was rejected: " + (image.reason_detail || "no reason given")
          + (image.reason ? " (" + image.reason + ")" : ""));
        return;
      }
      if (image.searchable) {
        const how = image.category_assignment === "predicted" ? ", predicted" : "";
        stateBox.textContent = "Indexed: image " + id + " (" + (image.category || "no category") + how + ") is searchable.";
        refreshStatus();
        return;
      }
      where = {
        queued: "queued for the ingest job",
        stored: "stored, waiting for its vector",
        indexed: "embedded, waiting for the search index",
      }[image.state] || image.state;
      stateBox.textContent = "Image " + id + ": " + where + " (" + Math.round((Date.now() - started) / 1000) + " s)…";
    }
    stateBox.textContent = "Image " + id + " is still " + where + " after two minutes: is the ingest job running? "
      + "The upload is kept; its state is at /images/" + id + ".";
  } catch (e) {
    if (state.following !== id) return;
    stateBox.textContent = "Image " + id + ": its state could not be read.";
    showMessage(describe(e));
  } finally {
    if (state.following === id) state.following = null;
  }
}

// ---- the status panel ----

async function refreshCategories() {
  const answer = await api("/categories");
  state.categories = answer.categories;
  const select = $("category");
  const chosen = select.value;
  const names = answer.categories.map((c) => c.category);
  if (select.options.length - 1 !== names.length) {
    select.replaceChildren(new Option("All categories", ""), ...names.map((n) => new Option(n, n)));
    select.value = names.includes(chosen) ? chosen : "";
    $("category-names").replaceChildren(...names.map((n) => new Option(n)));
  }
  const body = $("status-categories").tBodies[0];
  body.replaceChildren(...answer.categories.map((c) => {
    const tr = document.createElement("tr");
    tr.dataset.category = c.category;
    tr.innerHTML = "<th scope=\"row\">" + escapeHtml(c.category) + "</th><td class=\"images\">" + c.image_count
      + "</td><td class=\"vectors\">" + c.vector_count + "</td>";
    return tr;
  }));
}

async function refreshStatus() {
  const warnings = [];
  try {
    const status = await api("/status");
    const index = status.index;
    const facts = [
      ["images", "Images", status.counts ? status.counts.images : "?"],
      ["vectors", "Vectors", status.counts ? status.counts.vectors : "?"],
      ["index-type", "Index", index.type],
      ["index-size", "Indexed", index.vectors],
      ["lag", "Refresh lag", index.lag_seconds == null ? "?" : index.lag_seconds.toFixed(1) + " s"],
      ["queued", "Uploads queued", status.counts && status.counts.uploads ? status.counts.uploads.queued : "?"],
    ];
    $("status-index").innerHTML = facts.map(([key, label, value]) =>
      "<dt>" + label + "</dt><dd data-field=\"" + key + "\">" + escapeHtml(String(value)) + "</dd>").join("");
    if (!index.ready) warnings.push("The index is not ready yet: searches will answer once it is built.");
    if (!status.services.postgres.reachable) warnings.push("PostgreSQL does not answer.");
    if (status.services.kafka.configured && !status.services.kafka.reachable) {
      warnings.push("Kafka does not answer: uploads cannot be added.");
    }
    if (!status.services.kafka.configured) warnings.push("Uploads are off on this server (no Kafka).");
    const link = $("dashboard-link");
    if (status.flink_dashboard_url) {
      link.href = status.flink_dashboard_url;
      link.hidden = false;
    }
  } catch (e) {
    warnings.push(e.status === 0 ? "The imsrc server cannot be reached." : "Status unavailable: " + describe(e));
  }
  // The warnings first: a slow category count must not hold them back.
  const box = $("service-warning");
  box.textContent = warnings.join(" ");
  box.hidden = warnings.length === 0;
  try {
    await refreshCategories();
  } catch (e) {
    // the banner above already says why, when the server is the reason
  }
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" }[c]));
}

document.addEventListener("DOMContentLoaded", () => {
  wireInput();
  wireOptions();
  $("search").addEventListener("click", () => search(0));
  $("prototypes").addEventListener("click", prototypes);
  $("add").addEventListener("click", addToLibrary);
  $("more").addEventListener("click", () => { if (state.nextOffset !== null) search(state.nextOffset); });
  updateButtons();
  refreshStatus();
  setInterval(refreshStatus, 5000);
});
