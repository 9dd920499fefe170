"""`ferry serve`, the dashboard, from the outside: the token guards every
request, the server listens on loopback only, a taken port is a clear error,
and a browser (headless Chromium through chromedriver) watches a real apply
on the emulator turn the service sections from queued to done, then finds a
migrated VPC in the mapping. Screenshots go to $FERRY_ARTIFACTS (default
tests/artifacts/), kept for people to look at.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import REPO_ROOT, ferry_binary, ferry_env, write_config
from migration import mapping, prepare

ARTIFACTS = Path(os.environ.get("FERRY_ARTIFACTS") or REPO_ROOT / "tests" / "artifacts")
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
URL_LINE = re.compile(r"^ferry dashboard: (http://127\.0\.0\.1:(\d+)/\?token=([A-Za-z0-9._~-]+))$")


class Dashboard:
    """A running `ferry serve` in `workdir`."""

    def __init__(self, workdir: Path, *args: str, env: dict[str, str] | None = None):
        self.proc = subprocess.Popen(
            [str(ferry_binary()), "serve", "--port", "0", *args],
            cwd=workdir,
            env={**ferry_env(workdir), **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline().strip()
        match = URL_LINE.match(line)
        if not match:
            self.stop()
            raise AssertionError(f"unexpected first line {line!r}; stderr: {self.proc.stderr.read()}")
        self.url, port, self.token = match.groups()
        self.port = int(port)
        self.base = f"http://127.0.0.1:{self.port}"

    def get(self, path: str, headers: dict[str, str] | None = None, method: str = "GET"):
        """(status, headers, body) of one request."""
        req = urllib.request.Request(self.base + path, headers=headers or {}, method=method)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.headers, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode()

    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


@pytest.fixture
def config(accounts, emulator, workdir) -> Path:
    return write_config(workdir, accounts.source, accounts.destination, "us-east-1", "us-east-1", emulator)


@pytest.fixture
def serve(workdir):
    started: list[Dashboard] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Dashboard:
        d = Dashboard(workdir, *args, env=env)
        started.append(d)
        return d

    yield start
    for d in started:
        d.stop()


def listening_addresses(port: int) -> list[str]:
    """Local addresses of the sockets listening on `port`, from /proc/net."""
    out = []
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            addr, hexport = fields[1].split(":")
            if int(hexport, 16) == port and fields[3] == "0A":  # LISTEN
                if width == 8:
                    out.append(socket.inet_ntop(socket.AF_INET, bytes.fromhex(addr)[::-1]))
                else:
                    raw = b"".join(bytes.fromhex(addr[i : i + 8])[::-1] for i in range(0, 32, 8))
                    out.append(socket.inet_ntop(socket.AF_INET6, raw))
    return out


def other_local_addresses() -> list[str]:
    """Addresses of this machine besides 127.0.0.1: another loopback address
    (Linux routes all of 127/8 to lo) and the interfaces' own addresses."""
    found = {"127.0.0.2"}
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5).stdout
        found.update(a for a in out.split() if ":" not in a)
    except (OSError, subprocess.SubprocessError):
        pass
    found.discard("127.0.0.1")
    return sorted(found)


def test_every_request_needs_the_token(config, serve):
    d = serve()
    assert len(d.token) == 64, "a random 256-bit token in hex"
    for path in ["/", "/runs/1", "/mapping", "/verify", "/plan", "/apply", "/events",
                 "/assets/app.js", "/assets/style.css", "/api/runs", "/api/job", "/nowhere"]:
        status, headers, body = d.get(path)
        assert status == 401, path
        assert headers["WWW-Authenticate"] == "Bearer"
        assert d.token not in body
        assert d.get(path + "?token=" + "0" * 64)[0] == 401
        assert d.get(path, {"Authorization": "Bearer wrong"})[0] == 401
    assert d.get("/api/plan", method="POST")[0] == 401
    assert d.get("/api/apply", {"X-Ferry-Request": "1"}, method="POST")[0] == 401

    status, headers, body = d.get(f"/?token={d.token}")
    assert status == 200
    assert "<h1>Runs</h1>" in body and "No runs yet" in body
    cookie = headers["Set-Cookie"]
    assert cookie.startswith(f"ferry_token_{d.port}={d.token};") and "HttpOnly" in cookie
    cookie_header = {"Cookie": cookie.split(";")[0]}
    for path in ["/", "/mapping", "/verify", "/plan", "/apply", "/assets/app.js", "/assets/style.css", "/api/runs"]:
        assert d.get(path, cookie_header)[0] == 200, path
        assert d.get(path, d.bearer())[0] == 200, path
    assert d.get("/api/runs", d.bearer())[2].strip() == "[]"
    # A page elsewhere on localhost could make the browser send the cookie
    # with a POST, but not the dashboard's own header.
    assert d.get("/api/verify", cookie_header, method="POST")[0] == 403
    # The assets are served by ferry itself: no CDN, nothing from elsewhere.
    html = d.get("/", d.bearer())[2]
    assert re.findall(r'(?:src|href)="(https?:)?//', html) == []


def test_the_server_listens_on_loopback_only(config, serve):
    d = serve()
    assert listening_addresses(d.port) == ["127.0.0.1"]
    assert d.get("/", d.bearer())[0] == 200
    for addr in other_local_addresses():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(3)
            try:
                s.connect((addr, d.port))
            except OSError:
                continue
            pytest.fail(f"the dashboard answers on {addr}")


def test_a_taken_port_a_short_token_and_the_token_from_the_environment(config, serve, workdir, ferry):
    d = serve()
    again = ferry(f"serve --port {d.port}", timeout=30)
    assert again.returncode == 2
    assert f"127.0.0.1:{d.port} is already in use" in again.stderr
    assert again.stdout == ""

    short = ferry("serve --port 0 --token abc", timeout=30)
    assert short.returncode == 2
    assert "at least 16 characters" in short.stderr

    chosen = "team-dashboard-token-0123"
    e = serve(env={"FERRY_TOKEN": chosen})
    assert e.token == chosen
    assert e.get("/", {"Authorization": f"Bearer {chosen}"})[0] == 200
    assert e.get("/", d.bearer())[0] == 401
    helped = ferry("serve --help", env={"FERRY_TOKEN": chosen})
    assert helped.returncode == 0 and chosen not in helped.stdout
    assert "127.0.0.1" in helped.stdout and "--token" in helped.stdout


def test_a_cli_apply_is_followed_from_the_state_database(session, accounts, emulator, workdir, ferry, serve):
    m = prepare(session, accounts, emulator, workdir, "us-east-1")
    d = serve()
    # Follow run 1 before it exists: the server polls its journal.
    req = urllib.request.Request(d.base + "/events?run=1", headers=d.bearer())
    events = urllib.request.urlopen(req, timeout=300)
    applied = ferry("apply --yes", timeout=300)
    assert applied.returncode == 0, applied.stderr
    finished, state, polled = set(), None, True
    name = None
    deadline = time.monotonic() + 60
    while state != "succeeded" and time.monotonic() < deadline:
        line = events.readline().decode().rstrip("\n")
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data = json.loads(line[6:])
            if data.get("run") == 1:
                polled &= data.get("polled") is True
                if name == "finished":
                    finished.add(data["node"])
                if name == "run_state":
                    state = data["state"]
    events.close()
    assert state == "succeeded"
    assert polled

    run = json.loads(d.get("/api/runs/1", d.bearer())[2])
    assert run["state"] == "succeeded" and run["live"] is False
    assert finished == set(run["nodes"]), "every node of the plan was reported done"
    assert set(run["nodes"].values()) == {"done"}
    services = {s["service"]: s["status"] for s in run["services"]}
    assert services["ec2"] == "done"
    assert set(services.values()) <= {"done", "skipped"}
    # The finished run's page shows the final state from the database.
    status, _, html = d.get("/runs/1", d.bearer())
    assert status == 200
    assert 'data-service="ec2" data-status="done"' in html
    assert 'data-status="queued"' not in html and "st-queued\" data-key" not in html
    assert m.created["vpc_app"] in html
    runs = json.loads(d.get("/api/runs", d.bearer())[2])
    assert runs[0]["id"] == 1 and runs[0]["state"] == "succeeded"
    assert runs[0]["counts"].startswith(f"{run['summary']['created']} created")
    svg = d.get("/runs/1/graph.svg", d.bearer())
    assert svg[0] == 200 and svg[1]["Content-Type"].startswith("image/svg+xml")
    assert f'data-key="vpc/{m.created["vpc_app"]}"' in svg[2]
    assert "st-queued" not in svg[2].split("</g>\n", 1)[1], "every box is done"

    # The rollback state: what `ferry rollback 1` would delete, nothing
    # temporary left.
    status, _, html = d.get("/runs/1/rollback", d.bearer())
    assert status == 200
    steps = re.findall(r"<li><code>delete  (\S+)  \(from ([a-z_]+/\S+)\)</code></li>", html)
    assert len(steps) == run["summary"]["created"]
    assert (ids := mapping(ferry))[m.created["vpc_app"]] in [dest for dest, _ in steps]
    assert "None: every temporary grant" in html

    # Verify and Plan, as the buttons do them (Bearer: a script's way).
    def job(action: str) -> dict:
        status, _, body = d.get(f"/api/{action}", d.bearer(), method="POST")
        assert status == 202, body
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            j = json.loads(d.get("/api/job", d.bearer())[2])
            if j["kind"] == action and j["state"] in ("done", "failed"):
                return j
            time.sleep(0.2)
        raise AssertionError(f"{action} did not finish")

    j = job("verify")
    assert j["state"] == "done" and "equivalent" in j["message"], j
    report = json.loads(d.get("/api/verify", d.bearer())[2])
    assert report["equivalent"] is True and report["counts"]["equivalent"] > 0
    assert 'badge st-equivalent' in d.get("/verify", d.bearer())[2]
    j = job("plan")
    assert j["state"] == "done", j
    plan = json.loads(d.get("/api/plan", d.bearer())[2])
    assert {i["action"] for i in plan["items"]} == {"skip"}, "nothing left to do"
    assert 'data-service="ec2" data-status="skipped"' in d.get("/plan", d.bearer())[2]
    # A second job waits for the first.
    assert d.get("/api/plan", d.bearer(), method="POST")[0] == 202
    status, _, body = d.get("/api/verify", d.bearer(), method="POST")
    assert status == 409 and "a plan is running" in json.loads(body)["error"]


# --- the browser ----------------------------------------------------------


@pytest.fixture
def browser(tmp_path):
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail(f"{CHROMIUM} and {CHROMEDRIVER} are needed (apt-get install chromium chromium-driver; test.sh does it)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1400,1000", f"--user-data-dir={tmp_path / 'chromium'}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def screenshot(driver, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    driver.save_screenshot(str(path))
    print(f"screenshot: {path}")
    return path


def section_statuses(driver) -> dict[str, str]:
    return driver.execute_script(
        "const o = {}; document.querySelectorAll('section.service').forEach(s => o[s.dataset.service] = s.dataset.status); return o;"
    )


def wait_for(what, fn, timeout: float, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


class _Hook(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (the http.server name)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.received.append(json.loads(body))  # type: ignore[attr-defined]
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    """A webhook receiver on loopback; `.received` holds the JSON bodies."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    server.received = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_browser_watches_an_apply_from_the_dashboard(session, accounts, emulator, workdir, ferry, serve, browser, webhook):
    from selenium.webdriver.common.by import By

    # [notify] applies to the dashboard's applies as to the CLI's.
    hook = f'[notify]\nwebhook_url = "http://127.0.0.1:{webhook.server_address[1]}/hooks/secret-path"\n'
    m = prepare(session, accounts, emulator, workdir, "us-east-1", extra_toml=hook)
    d = serve()
    browser.get(d.url)
    assert "No runs yet" in browser.find_element(By.TAG_NAME, "main").text
    assert "token" not in browser.current_url, "the page drops the token from the address bar"

    # Apply: the page asks, the server plans and shows the plan to confirm.
    browser.find_element(By.CSS_SELECTOR, 'button[data-action="apply"]').click()
    browser.switch_to.alert.accept()
    wait_for("the plan to confirm", lambda: browser.find_elements(By.ID, "confirm-apply"), 180)
    assert browser.current_url.endswith("/apply")
    before = section_statuses(browser)
    assert before["ec2"] == "queued"
    assert set(before.values()) <= {"queued", "skipped"}
    ec2 = browser.find_element(By.CSS_SELECTOR, 'section.service[data-service="ec2"]')
    assert "(220, 38, 38" in ec2.value_of_css_property("border-left-color"), "queued is red"
    assert "Apply" in browser.find_element(By.ID, "confirm").text
    screenshot(browser, "dashboard-confirm.png")
    # Like `ferry apply` at its prompt, the dashboard holds the state lock.
    cli = ferry("apply --yes", timeout=60)
    assert cli.returncode == 2 and "ferry serve" in cli.stderr, cli.stderr

    # Confirm, then watch the sections move without the page reloading.
    browser.execute_script("window.__sameDocument = true;")
    browser.find_element(By.ID, "confirm-apply").click()
    seen = {service: [status] for service, status in before.items()}

    def all_done():
        now = section_statuses(browser)
        for service, status in now.items():
            if not seen.get(service) or seen[service][-1] != status:
                seen.setdefault(service, []).append(status)
        return now and all(s in ("done", "skipped") for s in now.values()) and now

    wait_for("every section to be done", all_done, 300)
    assert seen["ec2"][0] == "queued" and seen["ec2"][-1] == "done", seen
    assert "running" in seen["ec2"], f"the section went through running: {seen}"
    assert browser.execute_script("return window.__sameDocument === true;"), "no page reload"
    wait_for("the run to succeed", lambda: browser.find_element(By.ID, "run-state").text == "succeeded", 60)
    ec2 = browser.find_element(By.CSS_SELECTOR, 'section.service[data-service="ec2"]')
    assert "(21, 128, 61" in ec2.value_of_css_property("border-left-color"), "done is green"
    rows = browser.find_elements(By.CSS_SELECTOR, 'section.service[data-service="ec2"] tr.item[data-work="true"]')
    assert rows and all(r.get_attribute("class") == "item st-done" for r in rows)
    graph_boxes = browser.find_elements(By.CSS_SELECTOR, "#graph g.node[data-key]")
    assert graph_boxes and all("st-done" in g.get_attribute("class") for g in graph_boxes)
    screenshot(browser, "dashboard-apply-done.png")
    wait_for("the run's notifications", lambda: len(webhook.received) >= 2, 15)
    assert [b["event"] for b in webhook.received] == ["run_started", "run_ended"]
    assert webhook.received[1]["state"] == "succeeded" and webhook.received[1]["run"] == 1
    assert "secret-path" not in browser.page_source

    # The mapping: search for a migrated VPC and find both its IDs.
    vpc = m.created["vpc_app"]
    ids = mapping(ferry)
    browser.find_element(By.LINK_TEXT, "Mapping").click()
    search = wait_for("the mapping page", lambda: browser.find_elements(By.ID, "mapping-search"), 30)[0]
    search.send_keys(vpc)
    visible = wait_for(
        "the VPC's row alone",
        lambda: [r for r in browser.find_elements(By.CSS_SELECTOR, "#mapping tr.entry") if r.is_displayed()],
        10,
    )
    assert len(visible) == 1
    assert visible[0].find_element(By.CSS_SELECTOR, "td.source").text == vpc
    dest = visible[0].find_element(By.CSS_SELECTOR, "td.dest").text
    assert dest == ids[vpc] and dest.startswith("vpc-") and dest != vpc
    assert m.dst.client("ec2").describe_vpcs(VpcIds=[dest])["Vpcs"], "the destination VPC exists"
    screenshot(browser, "dashboard-mapping.png")

    # The run's own page, from the runs list.
    browser.find_element(By.LINK_TEXT, "Runs").click()
    browser.find_element(By.LINK_TEXT, "run 1").click()
    wait_for("the run page", lambda: browser.find_elements(By.ID, "graph"), 30)
    assert section_statuses(browser)["ec2"] == "done"
    assert browser.find_element(By.ID, "run-state").text == "succeeded"
    screenshot(browser, "dashboard-run.png")
