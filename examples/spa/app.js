// The SPA example: logs in, reads /users/me, creates and lists quotes, logs out.
//
// The session cookie (HttpOnly, set by POST /auth/token) is the only credential: the token in the
// login answer is never kept, every call is made with credentials: "include", and every change
// carries X-Requested-With, which the API requires of a change authenticated by the cookie.
"use strict";

(() => {
  const params = new URLSearchParams(window.location.search);
  const configured = params.get("api") || (window.SPA_CONFIG && window.SPA_CONFIG.apiBase) || "";
  const API = configured.replace(/\/+$/, "");

  const $ = (id) => document.getElementById(id);

  class ApiError extends Error {
    constructor(status, problem) {
      super(problem.title || `HTTP ${status}`);
      this.status = status;
      this.problem = problem;
    }
  }

  // One call to the API. `form` is sent form-encoded, `json` as JSON; every method but GET is a
  // change and carries X-Requested-With. Answers the parsed body, or throws an ApiError.
  async function call(method, path, { form, json } = {}) {
    const headers = { Accept: "application/json, application/problem+json" };
    let body;
    if (method !== "GET") headers["X-Requested-With"] = "XMLHttpRequest";
    if (form !== undefined) body = new URLSearchParams(form);
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    }
    let response;
    try {
      response = await fetch(API + path, {
        method, headers, body, credentials: "include", cache: "no-store",
      });
    } catch (err) {
      // The browser says no more than this, by design: a network error and a CORS refusal look
      // the same to the page.
      throw new ApiError(0, {
        title: "The API could not be reached",
        detail: `${method} ${path} failed in the browser (${err.message}): the API is down, ` +
          `or it does not allow this page's origin (${window.location.origin}) to call it.`,
      });
    }
    if (response.status === 204) return null;
    const type = response.headers.get("Content-Type") || "";
    const data = type.includes("json") ? await response.json() : await response.text();
    if (!response.ok) {
      const problem = typeof data === "object" && data !== null
        ? data
        : { title: `HTTP ${response.status}`, detail: String(data) };
      throw new ApiError(response.status, problem);
    }
    return data;
  }

  // ---- what the page shows ----------------------------------------------------------------

  function showProblem(error) {
    const problem = error.problem || { title: String(error.message || error) };
    $("problem-title").textContent = problem.title || "Something went wrong";
    $("problem-detail").textContent = problem.detail || "";
    const list = $("problem-errors");
    list.replaceChildren();
    for (const item of Array.isArray(problem.errors) ? problem.errors : []) {
      const li = document.createElement("li");
      const field = document.createElement("strong");
      field.textContent = item.field || "(request)";
      li.append(field, `: ${item.message || item.code || "invalid"}`);
      list.append(li);
    }
    $("problem-status").textContent = error.status ? `HTTP ${error.status}` : "No answer";
    $("problem-type").textContent = problem.type || "";
    const box = $("problem");
    box.dataset.status = String(error.status || 0);
    box.dataset.type = problem.type || "";
    box.hidden = false;
  }

  function clearMessages() {
    $("problem").hidden = true;
    $("notice").textContent = "";
  }

  function notice(text) {
    $("notice").textContent = text;
  }

  function showLoggedIn(me) {
    $("whoami").textContent = `Signed in as ${me.username} (${me.role})`;
    $("login").hidden = true;
    $("session").hidden = false;
    document.body.dataset.state = "logged-in";
  }

  function showLoggedOut() {
    $("session").hidden = true;
    $("login").hidden = false;
    $("password").value = "";
    $("quotes").tBodies[0].replaceChildren();
    document.body.dataset.state = "logged-out";
  }

  function renderQuotes(page) {
    const rows = page.items.map((q) => {
      const tr = document.createElement("tr");
      tr.dataset.id = q.id;
      const cells = [
        new Date(q.created_at).toLocaleString(), q.program_year, q.effective_date,
        q.payment_plan, q.premium, q.tax, q.total,
      ];
      cells.forEach((value, i) => {
        const td = document.createElement("td");
        td.textContent = String(value);
        if (i >= 4) td.className = "money";
        tr.append(td);
      });
      return tr;
    });
    $("quotes").tBodies[0].replaceChildren(...rows);
    $("quotes").dataset.count = String(rows.length);
  }

  // Any call: an ended session (401) sends the page back to the login form, the problem shown.
  async function guarded(action) {
    clearMessages();
    try {
      await action();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (error.status === 401) showLoggedOut();
      showProblem(error);
    }
  }

  // ---- what the person does ---------------------------------------------------------------

  async function afterLogin() {
    showLoggedIn(await call("GET", "/users/me"));
    renderQuotes(await call("GET", "/quotes"));
  }

  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(async () => {
      // The answer's access_token is deliberately dropped: the cookie is the session.
      await call("POST", "/auth/token", {
        form: { username: $("username").value, password: $("password").value },
      });
      $("password").value = "";
      await afterLogin();
    });
  });

  $("quote-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const year = $("program-year").value.trim();
    guarded(async () => {
      const quote = await call("POST", "/quotes", {
        json: {
          program_year: /^\d+$/.test(year) ? Number(year) : year,
          effective_date: $("effective-date").value.trim(),
          payment_plan: $("payment-plan").value,
        },
      });
      notice(`Quote created: total ${quote.total} (premium ${quote.premium}, tax ${quote.tax}).`);
      renderQuotes(await call("GET", "/quotes"));
    });
  });

  $("list-button").addEventListener("click", () => {
    guarded(async () => renderQuotes(await call("GET", "/quotes")));
  });

  $("logout-button").addEventListener("click", () => {
    guarded(async () => {
      await call("POST", "/auth/logout");
      showLoggedOut();
      notice("You are logged out.");
    });
  });

  // ---- start: resume a live session, if the browser still has its cookie ------------------

  $("api-base").textContent = API || "(not configured)";
  window.spa = Object.freeze({ apiBase: API });
  (async () => {
    try {
      showLoggedIn(await call("GET", "/users/me"));
      renderQuotes(await call("GET", "/quotes"));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (error.status !== 401) showProblem(error);  // not logged in yet: just the form
    } finally {
      document.body.dataset.ready = "true";
    }
  })();
})();
