"""What the SPA relies on, as headless Chromium applies it (see conftest.py for the set-up):
the session cookie's attributes, the CORS preflight with credentials, the X-Requested-With rule
for changes made with the cookie, the end of a session (logout, idle timeout, browser closed).

Run with `make test-browser`; the plain `make test` leaves these out (marker `browser`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.browser.conftest import Api, Browser, Database, Site, screenshot, wait

pytestmark = pytest.mark.browser

COOKIE = "__Host-lpl_session"
WORKED_EXAMPLE = {"program_year": 2025, "effective_date": "2025-01-01", "payment_plan": "quarterly"}


# ---- driving the page ---------------------------------------------------------------------


def _body(driver: WebDriver, name: str) -> str | None:
    value: str | None = driver.find_element(By.TAG_NAME, "body").get_attribute(f"data-{name}")
    return value


def open_page(driver: WebDriver, site: Site, api: Api) -> None:
    driver.get(site.page(api.base))
    wait(driver, lambda d: _body(d, "ready") == "true")


def log_in(driver: WebDriver, database: Database) -> None:
    driver.find_element(By.ID, "username").send_keys(database.username)
    driver.find_element(By.ID, "password").send_keys(database.password)
    driver.find_element(By.ID, "login-button").click()
    wait(driver, lambda d: d.find_element(By.ID, "quotes").get_attribute("data-count") is not None)
    assert _body(driver, "state") == "logged-in", problem(driver)


def problem(driver: WebDriver) -> dict[str, Any]:
    """The problem the page shows, as a person reads it (empty when none is shown)."""
    box = driver.find_element(By.ID, "problem")
    if not box.is_displayed():
        return {}
    return {
        "status": box.get_attribute("data-status"),
        "type": box.get_attribute("data-type"),
        "title": driver.find_element(By.ID, "problem-title").text,
        "detail": driver.find_element(By.ID, "problem-detail").text,
        "errors": [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#problem-errors li")],
    }


def wait_for_problem(driver: WebDriver) -> dict[str, Any]:
    wait(driver, lambda d: d.find_element(By.ID, "problem").is_displayed())
    return problem(driver)


def quote_rows(driver: WebDriver) -> int:
    return len(driver.find_elements(By.CSS_SELECTOR, "#quotes tbody tr"))


FETCH = """
const [url, init, done] = arguments;
fetch(url, init).then(
  async (r) => {
    const text = await r.text();
    let body = null;
    try { body = JSON.parse(text); } catch (e) { body = text; }
    done({reached: true, status: r.status, type: r.type, body});
  },
  (e) => done({reached: false, error: String(e)}),
);
"""


def page_fetch(driver: WebDriver, url: str, **init: Any) -> dict[str, Any]:
    """fetch() run by the page itself, from its origin, with the browser's cookies."""
    result: dict[str, Any] = driver.execute_async_script(
        FETCH, url, {"credentials": "include", **init}
    )
    return result


def create_quote(driver: WebDriver, api: Api, headers: dict[str, str]) -> dict[str, Any]:
    return page_fetch(
        driver,
        f"{api.base}/quotes",
        method="POST",
        headers={"Content-Type": "application/json", **headers},
        body=json.dumps(WORKED_EXAMPLE),
    )


def api_cookies(driver: WebDriver, api: Api) -> dict[str, dict[str, Any]]:
    """The cookies the browser keeps for the API's origin, as WebDriver reports them."""
    driver.get(f"{api.base}/healthz")
    return {c["name"]: c for c in driver.get_cookies()}


def preflights(driver: WebDriver) -> list[dict[str, Any]]:
    """The CORS preflights the browser sent since the last call, with the answers it got."""
    sent: dict[str, dict[str, Any]] = {}
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message["params"]
        if message["method"] == "Network.requestWillBeSent":
            if params.get("initiator", {}).get("type") == "preflight":
                request = params["request"]
                sent[params["requestId"]] = {
                    "method": request["method"],
                    "url": request["url"],
                    "origin": request["headers"].get("Origin"),
                    "asks": request["headers"].get("Access-Control-Request-Headers", ""),
                    "status": None,
                    "headers": {},
                }
        elif message["method"] == "Network.responseReceived" and params["requestId"] in sent:
            response = params["response"]
            sent[params["requestId"]]["status"] = response["status"]
            sent[params["requestId"]]["headers"] = {
                k.lower(): v for k, v in response["headers"].items()
            }
    return list(sent.values())


# ---- the tests ----------------------------------------------------------------------------


def test_login_sets_a_host_only_http_only_strict_session_cookie(
    browser: Browser, api: Api, spa: Site, database: Database
) -> None:
    driver = browser.driver
    assert driver is not None
    open_page(driver, spa, api)
    log_in(driver, database)
    assert driver.find_element(By.ID, "whoami").text == f"Signed in as {database.username} (lawyer)"
    before = quote_rows(driver)
    driver.find_element(By.ID, "quote-button").click()  # the worked example, prefilled
    wait(driver, lambda d: quote_rows(d) == before + 1)
    assert driver.find_element(By.ID, "notice").text.startswith("Quote created: total 1755.00")
    screenshot(driver, "01-logged-in")

    # The page cannot read it: HttpOnly keeps it out of document.cookie (cookies are the
    # host's, whatever the port, so the page's origin would see it were it readable).
    page_cookies = driver.execute_script("return document.cookie")
    assert COOKIE not in page_cookies
    assert "eyJ" not in page_cookies  # nor any JWT

    # The login's preflight (it sends X-Requested-With) passed, credentials allowed.
    login = [p for p in preflights(driver) if p["url"] == f"{api.base}/auth/token"]
    assert login, "the login caused no preflight"
    assert login[0]["status"] == 200
    assert login[0]["headers"]["access-control-allow-origin"] == spa.origin
    assert login[0]["headers"]["access-control-allow-credentials"] == "true"

    # As WebDriver sees it on the API's origin
    cookie = api_cookies(driver, api)[COOKIE]
    assert cookie["httpOnly"] is True
    assert cookie["secure"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/"
    assert cookie["domain"] == "127.0.0.1"  # host-only: no Domain attribute (else ".127.0.0.1")
    assert "expiry" not in cookie  # a session cookie
    assert COOKIE not in driver.execute_script("return document.cookie")

    # As the browser's own cookie store (DevTools protocol) has it
    stored = {
        c["name"]: c
        for c in driver.execute_cdp_cmd("Network.getCookies", {"urls": [api.base]})["cookies"]
    }
    devtools = stored[COOKIE]
    assert devtools["session"] is True and devtools["expires"] == -1
    assert devtools["httpOnly"] is True and devtools["secure"] is True
    assert devtools["sameSite"] == "Strict"
    # The browser kept a __Host- cookie at all: it checked Secure, Path=/ and no Domain.
    assert devtools["name"].startswith("__Host-")


def test_the_session_cookie_is_gone_when_the_browser_restarts(
    browser: Browser, api: Api, spa: Site, database: Database
) -> None:
    driver = browser.driver
    assert driver is not None
    open_page(driver, spa, api)
    log_in(driver, database)
    # A persistent cookie beside it: the control, which a restart keeps.
    driver.execute_script("document.cookie = 'spa_control=kept; max-age=3600; path=/'")
    assert COOKIE in api_cookies(driver, api)

    driver = browser.restart()  # the same profile folder
    cookies = api_cookies(driver, api)
    assert cookies.get("spa_control", {}).get("value") == "kept", "the profile was not kept"
    assert COOKIE not in cookies

    open_page(driver, spa, api)
    assert _body(driver, "state") == "logged-out"
    assert driver.find_element(By.ID, "login").is_displayed()
    assert problem(driver) == {}  # simply not logged in


def test_the_preflight_passes_for_the_allowed_origin_and_fails_for_another(
    browser: Browser, api: Api, spa: Site, other_origin: Site, database: Database
) -> None:
    driver = browser.driver
    assert driver is not None
    open_page(driver, spa, api)
    log_in(driver, database)
    before = quote_rows(driver)
    driver.get_log("performance")  # forget what came before

    # The page's own quote form: a JSON body with X-Requested-With, so a preflight first.
    driver.find_element(By.ID, "quote-button").click()
    wait(driver, lambda d: d.find_element(By.ID, "notice").text.startswith("Quote created"))
    wait(driver, lambda d: quote_rows(d) == before + 1)
    allowed = [p for p in preflights(driver) if p["url"] == f"{api.base}/quotes"]
    assert allowed, "creating a quote caused no preflight"
    assert allowed[0]["origin"] == spa.origin
    assert set(allowed[0]["asks"].split(",")) == {"content-type", "x-requested-with"}
    assert allowed[0]["status"] == 200
    assert allowed[0]["headers"]["access-control-allow-origin"] == spa.origin
    assert allowed[0]["headers"]["access-control-allow-credentials"] == "true"
    assert "POST" in allowed[0]["headers"]["access-control-allow-methods"]

    # The same page from another origin of the same site: the browser has the cookie and
    # would send it, but the API allows that origin nothing.
    open_page(driver, other_origin, api)
    screenshot(driver, "03-other-origin-refused")
    shown = problem(driver)  # its first read, GET /users/me, is refused by the browser
    state = _body(driver, "state")
    assert state == "logged-out", f"the other origin read /users/me with the cookie ({state})"
    assert shown.get("status") == "0", shown
    assert shown["title"] == "The API could not be reached"
    assert other_origin.origin in shown["detail"]

    driver.get_log("performance")
    refused = create_quote(driver, api, {"X-Requested-With": "XMLHttpRequest"})
    assert refused["reached"] is False, refused  # TypeError: Failed to fetch
    read = page_fetch(driver, f"{api.base}/users/me")
    assert read["reached"] is False, read  # a simple GET: sent, but its answer withheld
    denied = [p for p in preflights(driver) if p["url"] == f"{api.base}/quotes"]
    assert denied, "the other origin's change caused no preflight"
    assert denied[0]["origin"] == other_origin.origin
    assert "access-control-allow-origin" not in denied[0]["headers"]
    assert denied[0]["status"] == 400

    # ... and no quote was made by it
    open_page(driver, spa, api)
    assert quote_rows(driver) == before + 1


def test_a_change_made_with_the_cookie_needs_x_requested_with(
    browser: Browser, api: Api, spa: Site, other_origin: Site, database: Database
) -> None:
    driver = browser.driver
    assert driver is not None
    open_page(driver, spa, api)
    log_in(driver, database)
    before = quote_rows(driver)

    refused = create_quote(driver, api, {})
    assert refused["reached"] is True and refused["status"] == 403, refused
    assert refused["body"]["type"] == "/problems/csrf-header-missing"
    made = create_quote(driver, api, {"X-Requested-With": "XMLHttpRequest"})
    assert made["reached"] is True and made["status"] == 201, made

    # A forged request from another origin of the same site: a "simple" POST (no preflight,
    # no custom header, the cookie sent since the site is the same). Its answer is withheld
    # from that page, but what counts is that the server refused it: the session lives on.
    open_page(driver, other_origin, api)
    forged = page_fetch(driver, f"{api.base}/auth/logout", method="POST", mode="no-cors")
    assert forged["reached"] is True and forged["type"] == "opaque", forged
    forged = page_fetch(
        driver,
        f"{api.base}/quotes",
        method="POST",
        mode="no-cors",
        headers={"Content-Type": "text/plain"},
        body=json.dumps(WORKED_EXAMPLE),
    )
    assert forged["reached"] is True, forged
    open_page(driver, spa, api)
    state = _body(driver, "state")
    assert state == "logged-in", f"a forged POST /auth/logout ended the session: {problem(driver)}"
    assert quote_rows(driver) == before + 1  # the one made with the header, not the forged one


def test_a_problem_is_shown_in_human_form(
    browser: Browser, api: Api, spa: Site, database: Database
) -> None:
    driver = browser.driver
    assert driver is not None
    open_page(driver, spa, api)
    log_in(driver, database)
    year = driver.find_element(By.ID, "program-year")
    year.clear()
    year.send_keys("1999")
    date = driver.find_element(By.ID, "effective-date")
    date.clear()
    date.send_keys("2025-02-30")
    driver.find_element(By.ID, "quote-button").click()

    shown = wait_for_problem(driver)
    assert shown["status"] == "422"
    assert shown["type"] == "/problems/invalid-input"
    assert shown["title"] == "The request has invalid fields"
    assert shown["detail"]
    fields = {line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in shown["errors"]}
    assert set(fields) == {"program_year", "effective_date"}, shown
    assert all(fields.values()), shown
    assert _body(driver, "state") == "logged-in"  # an invalid form does not end the session
    screenshot(driver, "02-error")


def test_after_logout_the_cookie_no_longer_authenticates(
    browser: Browser, api: Api, spa: Site, database: Database
) -> None:
    driver = browser.driver
    assert driver is not None
    open_page(driver, spa, api)
    log_in(driver, database)
    old = api_cookies(driver, api)[COOKIE]

    open_page(driver, spa, api)
    assert _body(driver, "state") == "logged-in"  # the cookie resumed the session
    driver.find_element(By.ID, "logout-button").click()
    wait(driver, lambda d: _body(d, "state") == "logged-out")
    assert driver.find_element(By.ID, "notice").text == "You are logged out."
    assert problem(driver) == {}
    assert COOKIE not in api_cookies(driver, api)  # the browser dropped it

    # The old cookie put back (as if copied before the logout): the server ended its session.
    driver.execute_cdp_cmd(
        "Network.setCookie",
        {
            "url": api.base,
            "name": COOKIE,
            "value": old["value"],
            "path": "/",
            "secure": True,
            "httpOnly": True,
            "sameSite": "Strict",
        },
    )
    assert COOKIE in api_cookies(driver, api)
    open_page(driver, spa, api)
    assert _body(driver, "state") == "logged-out"
    # the answer to the page's first request (401) made the browser forget the dead cookie
    assert COOKIE not in api_cookies(driver, api)
    # what that answer was: the session has ended (asked again with the old cookie's value)
    answer = httpx.get(f"{api.base}/users/me", headers={"Cookie": f"{COOKIE}={old['value']}"})
    assert answer.status_code == 401
    assert answer.json()["type"] == "/problems/session-revoked"
    assert "Max-Age=0" in answer.headers["set-cookie"]


def test_an_idle_session_ends_in_the_page(
    browser: Browser,
    start_api: Callable[..., Api],
    spa: Site,
    database: Database,
) -> None:
    idle = 3
    api = start_api(CORS_ORIGINS=spa.origin, SESSION_IDLE_TIMEOUT_SECONDS=str(idle))
    driver = browser.driver
    assert driver is not None
    open_page(driver, spa, api)
    log_in(driver, database)

    time.sleep(idle + 1.5)  # no request meanwhile
    driver.find_element(By.ID, "list-button").click()
    shown = wait_for_problem(driver)
    assert shown["status"] == "401", shown
    assert shown["type"] == "/problems/session-expired"
    assert _body(driver, "state") == "logged-out"
    assert driver.find_element(By.ID, "login").is_displayed()
    screenshot(driver, "04-session-expired")
