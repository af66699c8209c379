"""The console in a real browser (headless Chromium driven by Selenium through Debian's chromedriver):
log in, read the dashboard, triage a finding and see the figure change, approve a case step with two
accounts, rate a drill objective, download a report, switch the language. Screenshots go to
out/tests/web/ for a person to look at."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import Select, WebDriverWait
from web_helpers import PASSWORD

SHOTS = Path(__file__).resolve().parents[2] / "out" / "tests" / "web"


@pytest.fixture(scope="module")
def downloads(tmp_path_factory):
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(downloads):
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1366,768", "--lang=vi"):
        opts.add_argument(arg)
    opts.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                           "download.prompt_for_download": False})
    # Debian's chromedriver: Selenium must not try to fetch a driver of its own
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    driver.set_page_load_timeout(120)
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def shot(driver, name: str) -> None:
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def log_in(driver, base: str, name: str) -> None:
    driver.delete_all_cookies()
    driver.get(base + "/login")
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login").click()
    WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.ID, "account"))
    assert name in driver.find_element(By.ID, "account").text


def text(driver, element_id: str) -> str:
    return driver.find_element(By.ID, element_id).text


def test_a_leader_sees_the_city_dashboard_in_vietnamese(browser, console):
    log_in(browser, console.url, "lead")
    shot(browser, "dashboard-city-vi")
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "Tổng quan" in body and "Toàn thành phố" in body and "Xếp hạng" in body
    assert "Sở Tài chính" in body and "Sở Thông tin và Truyền thông" in body
    # a leader reads: no triage forms, no approval buttons anywhere
    browser.get(console.url + "/findings")
    assert "Lọc" in browser.page_source
    assert not browser.find_elements(By.ID, "false-positive")


def test_hostile_text_is_inert_on_the_pages(browser, console, city):
    _, ids = city
    log_in(browser, console.url, "soc1")
    for path in ("/", "/findings", f"/findings/{ids['fp']['av.missing/so-tc']}"):
        browser.get(console.url + path)
        assert browser.title != "pwned" and browser.title != "img", path
        assert not browser.find_elements(By.CSS_SELECTOR, "main script, main img"), path
    # the text is shown as text, control characters removed
    assert "<script>document.title='pwned'</script>" in text(browser, "message")
    assert "\x1b" not in browser.page_source


def test_an_officer_marks_a_false_positive_and_the_figure_changes(browser, console, city):
    _, ids = city
    log_in(browser, console.url, "off-tc")
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "Sở Tài chính" in body and "Sở Thông tin và Truyền thông" not in body
    before = browser.find_element(By.CSS_SELECTOR, "#tiles-so-tc #t-exposed b").text
    assert before == "1"
    browser.get(console.url + f"/findings/{ids['fp']['exposure.telnet/so-tc']}")
    browser.find_element(By.ID, "fp-reason").send_keys("Cổng 23 là thiết bị thử nghiệm được phép")
    browser.find_element(By.ID, "false-positive").click()
    WebDriverWait(browser, 30).until(lambda d: "cảnh báo sai" in d.find_element(By.ID, "decision").text)
    assert "off-tc" in text(browser, "decision")
    shot(browser, "finding-false-positive-vi")
    browser.get(console.url + "/")
    assert browser.find_element(By.CSS_SELECTOR, "#tiles-so-tc #t-exposed b").text == "0"


def test_two_accounts_approve_a_case_step(browser, console, city):
    _, ids = city
    case = ids["cases"]["so-tttt"]
    log_in(browser, console.url, "soc1")
    # the steps before the approval: a manual one, then an action that failed (its host is not reachable)
    for step in ("confirm", "listening"):
        browser.get(console.url + f"/cases/{case}")
        button = browser.find_element(By.CSS_SELECTOR, f"#step-{step} button.complete")
        button.click()
        WebDriverWait(browser, 30).until(staleness_of(button))           # the answer to the post is shown
    browser.get(console.url + f"/cases/{case}")
    assert browser.find_element(By.CSS_SELECTOR, "#step-approve-stop .state").text == "chờ phê duyệt"
    for name in ("soc1", "soc2"):
        log_in(browser, console.url, name)
        browser.get(console.url + f"/cases/{case}")
        row = browser.find_element(By.ID, "step-approve-stop")
        row.find_element(By.CSS_SELECTOR, "button.approve").click()
        WebDriverWait(browser, 30).until(staleness_of(row))
    approvals = text(browser, "approvals")
    assert "soc1" in approvals and "soc2" in approvals
    state = browser.find_element(By.CSS_SELECTOR, "#step-approve-stop .state").text
    assert state == "xong", state
    shot(browser, "case-approved-vi")


def test_one_account_cannot_approve_twice(browser, console, city):
    _, ids = city
    case = ids["cases"]["so-tc"]
    log_in(browser, console.url, "soc1")
    for _ in range(2):
        browser.get(console.url + f"/cases/{case}")
        buttons = browser.find_elements(By.CSS_SELECTOR, "#step-approve-stop button.approve")
        assert buttons
        buttons[0].click()
        WebDriverWait(browser, 30).until(staleness_of(buttons[0]))     # the answer to the post is shown
    assert "a second person must" in browser.page_source
    browser.get(console.url + f"/cases/{case}")
    assert browser.find_element(By.CSS_SELECTOR, "#step-approve-stop .state").text != "xong"


def test_an_evaluator_rates_a_drill_objective(browser, console):
    log_in(browser, console.url, "eva")
    browser.get(console.url + "/drills/drill-1")
    Select(browser.find_element(By.ID, "objective")).select_by_value("respond")
    Select(browser.find_element(By.ID, "rating")).select_by_visible_text("S")
    browser.find_element(By.ID, "rate-note").send_keys("Phối hợp tốt, báo cáo chậm 10 phút")
    browser.find_element(By.ID, "rate").click()
    WebDriverWait(browser, 30).until(lambda d: "m=saved" in d.current_url)
    ratings = text(browser, "ratings")
    assert "respond" in ratings and "eva" in ratings and "Phối hợp tốt" in ratings
    shot(browser, "drill-rated-vi")


def test_a_report_is_downloaded_as_pdf(browser, console, downloads):
    log_in(browser, console.url, "lead")
    browser.get(console.url + "/reports")
    form = browser.find_element(By.ID, "report-ranking")
    Select(form.find_element(By.NAME, "format")).select_by_value("pdf")
    form.find_element(By.CSS_SELECTOR, "button").click()
    deadline = time.monotonic() + 120
    pdfs = []
    while time.monotonic() < deadline and not pdfs:
        pdfs = [p for p in os.listdir(downloads) if p.endswith(".pdf")]
        time.sleep(0.5)
    assert pdfs, os.listdir(downloads)
    data = (downloads / pdfs[0]).read_bytes()
    assert data.startswith(b"%PDF") and pdfs[0].endswith(".vi.pdf")


def test_the_language_switch_changes_every_word(browser, console):
    log_in(browser, console.url, "soc1")
    browser.find_element(By.LINK_TEXT, "English").click()
    WebDriverWait(browser, 30).until(lambda d: "Dashboard" in d.find_element(By.TAG_NAME, "body").text)
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "Whole city" in body and "Department of Finance" in body
    for vi in ("Tổng quan", "Toàn thành phố", "Đăng xuất", "Xếp hạng", "Sở Tài chính"):
        assert vi not in body, vi
    shot(browser, "dashboard-city-en")
    browser.find_element(By.LINK_TEXT, "Tiếng Việt").click()


def test_a_phone_sized_window_still_shows_the_findings(browser, console):
    log_in(browser, console.url, "soc1")
    browser.set_window_size(390, 844)
    try:
        browser.get(console.url + "/findings")
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= 390 + 2, width
        shot(browser, "findings-phone-vi")
    finally:
        browser.set_window_size(1366, 768)


def test_the_control_room_refreshes_while_a_drill_runs(browser, console, city):
    """A running drill's page polls the server: a change in the store shows without reloading."""
    app, _ = city
    from tests.exercises.test_evaluation import make_run
    make_run(app.store, "drill-live")
    with app.store.write() as c:
        c.execute("UPDATE exercise_runs SET state='running', ended_at=NULL WHERE id='drill-live'")
        c.execute("UPDATE exercise_injects SET state='pending' WHERE run_id='drill-live' AND number=3")
    log_in(browser, console.url, "ctl")
    browser.get(console.url + "/drills/drill-live")
    rows = lambda: browser.find_elements(By.CSS_SELECTOR, "#injects tbody tr")
    assert "chờ" in rows()[2].text
    # scenario times and expectations in words, the expectation's id beside them as a code
    assert rows()[1].text.startswith("2 10 phút") and "Mở hồ sơ xử lý thay đổi giao diện: không đạt" in rows()[1].text
    assert browser.find_elements(By.ID, "abort") and browser.find_elements(By.ID, "end")
    browser.execute_script("window.__same_page = true")
    with app.store.write() as c:
        c.execute("UPDATE exercise_injects SET state='sent' WHERE run_id='drill-live' AND number=3")
    WebDriverWait(browser, 30).until(lambda d: "đã gửi" in rows()[2].text)
    assert browser.execute_script("return window.__same_page") is True      # refreshed in place, not reloaded
    shot(browser, "drill-control-room-vi")
    browser.find_element(By.ID, "pause").click()
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.ID, "drill-message"))
    assert app.store.query("SELECT control FROM exercise_runs WHERE id='drill-live'")[0][0] == "pause"
