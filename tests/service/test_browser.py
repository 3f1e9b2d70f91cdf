"""The pages in headless Chromium (Playwright), against the real app, PostgreSQL, Redis and worker:
a student uploads Homework 1 and watches it being graded; a TA finds it on the dashboard; an
instructor publishes a suite with an error (shown by line number), then a fixed one, once a worker
has dry-run its reference solution.
Screenshots are saved under a temporary directory and their paths printed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from grader_api.services.suites import SUITES_DIR

from .conftest import PASSWORD, REFERENCE_HW1, make_student

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
GRADING_TIMEOUT_MS = 90_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is required at {CHROMIUM} (scripts/bootstrap.sh installs it)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


def _shot(page: Page, folder: Path, name: str) -> None:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"\nscreenshot: {path}")


def _page(browser: Browser, live_url: str, email: str) -> Page:
    page = browser.new_context(base_url=live_url, viewport={"width": 1280, "height": 900}).new_page()
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login")
    expect(page.locator(".who")).to_be_visible()
    return page


def test_student_uploads_and_watches_the_grading(browser, live_url, rt, course, worker, shots):  # type: ignore[no-untyped-def]
    student = make_student(rt, course["course"], name="browser-student", password=True)
    page = _page(browser, live_url, student.email)
    page.click("text=Homework 1")
    expect(page.locator("h1")).to_have_text(re.compile("Homework 1"))
    page.set_input_files("#file", str(REFERENCE_HW1))
    page.click("#upload")
    expect(page).to_have_url(re.compile(r"/submissions/\d+$"))
    status = page.locator("#status")
    expect(status).to_have_text(re.compile("queued|running|graded"))
    first_status = status.text_content()
    expect(status).to_have_text("graded", timeout=GRADING_TIMEOUT_MS)  # the page polls, then reloads
    submission_id = int(page.url.rsplit("/", 1)[1])
    api = page.request.get(f"/api/v1/submissions/{submission_id}").json()
    score = page.locator("#score").text_content()
    assert score == f"{api['final_score']:g}" and api["final_score"] > 0
    assert {t["status"] for t in api["tests"]} <= {"passed", "pending"}  # the reference: all but the proof (by hand)
    assert page.locator("tr.test").count() == len(api["tests"]) and api["withheld_tests"] > 0
    assert page.get_by_text("Q5 mutually independent").count() == 0  # a hidden test
    print(f"\nstatus went {first_status} → graded; score {score} / {api['max_score']:g}")
    _shot(page, shots, "student-result")
    page.context.close()


def test_ta_finds_it_on_the_dashboard(browser, live_url, shots):  # type: ignore[no-untyped-def]
    page = _page(browser, live_url, "ta@test")
    page.goto("/staff/dashboard")
    row = page.locator('tr[data-student="browser-student@test"]')
    expect(row).to_have_count(1)
    _shot(page, shots, "ta-dashboard")
    row.locator("a[href^='/staff/submissions/']").first.click()
    expect(page.locator("h1")).to_contain_text("browser-student")
    expect(page.get_by_text("Q5 mutually independent")).to_be_visible()  # staff see hidden tests
    expect(page.get_by_role("heading", name="Environment")).to_be_visible()  # staff only
    page.context.close()


def test_instructor_publishes_a_suite_after_fixing_it(browser, live_url, worker, tmp_path, shots):  # type: ignore[no-untyped-def]
    fixed = (SUITES_DIR / "hw1.yaml").read_text().replace("id: hw1\n", "id: hw1-browser\n", 1)
    lines = fixed.splitlines(keepends=True)
    bad_line = next(i for i, line in enumerate(lines) if "check: numeric_answer" in line)
    lines[bad_line] = lines[bad_line].replace("check: numeric_answer", "check: no_such_check", 1)
    (tmp_path / "broken.yaml").write_text("".join(lines))
    (tmp_path / "fixed.yaml").write_text(fixed)

    page = _page(browser, live_url, "instructor@test")
    page.goto("/instructor/suites")
    page.set_input_files("#suite-file", str(tmp_path / "broken.yaml"))
    page.click("#check-suite")
    issues = page.locator("#issues")
    expect(issues).to_contain_text(f"line {bad_line + 1}:")
    expect(issues).to_contain_text("no_such_check")
    expect(page.locator("#publish")).to_have_count(0)
    _shot(page, shots, "instructor-suite-error")

    page.set_input_files("#suite-file", str(tmp_path / "fixed.yaml"))
    page.click("#check-suite")
    expect(page.locator("#issues")).to_have_count(0)
    expect(page.locator("#dry-run-score")).to_be_visible(timeout=GRADING_TIMEOUT_MS)  # a worker dry-runs it; the page polls
    score = page.locator("#dry-run-score").text_content() or ""
    earned, total = (part.strip() for part in score.split("/"))
    assert earned == total and float(total) > 0
    page.click("#publish")
    expect(page.locator("#published")).to_contain_text("Published hw1-browser as version 1")
    expect(page.locator("table")).to_contain_text("(hw1-browser)")
    _shot(page, shots, "instructor-published")
    page.context.close()
