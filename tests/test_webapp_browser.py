"""The reference front end (/app) in a real browser with no network: Debian's chromium, driven
by playwright, against the demo world served on a loopback port (every other request is
blocked). One demo for the whole story, to keep the browser tests short:

- a TA signs in by picking the role, sees its four programs (each row naming the sectors that
  know it), opens one (the first meaningful paint is printed), adds a QIP task on the board
  and finds it in the audit log; a stale update of that task is shown as a conflict and
  overwrites nothing; a file attached to the task is listed and downloads intact;
- a provider signs in with the keyboard only and sees only its own program; another
  program's page is "not found";
- the state administrator pages through the programs and filters them, confirms a crosswalk
  suggestion (the program shows both sectors) and merges two programs;
- the analyst lands on the funding report: totals, no lines, what its role may not read said;
- the QRIS API is stopped: the profile says so in its panels and renders the rest;
- axe-core (npm, pinned in tests/webapp_axe/) finds no serious or critical violation on the
  profile, the QIP board, the funding report and the crosswalk queue.

Needs /usr/bin/chromium (skipped off CI without it, failed under CI=true), and node + npm for
axe-core (likewise). ECEHUB_WEBAPP_SCREENSHOTS=docs renews the README's screenshots.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import (
    BrowserContext,
    FilePayload,
    Page,
    Request,
    Route,
    ViewportSize,
    async_playwright,
    expect,
)

from tests.conftest import ON_CI
from tests.test_graphiql_browser import CHROMIUM, CHROMIUM_ARGS, require_chromium
from tests.test_graphql_http import npm_ci
from tests.webapp_demo import ServedDemo, served_demo

AXE_DIR = Path(__file__).resolve().parent / "webapp_axe"
TABLET: ViewportSize = {"width": 1024, "height": 768}


def axe_source() -> str | None:
    """axe-core's script (``npm ci`` in tests/webapp_axe once), or ``None`` with node/npm
    missing off CI (under CI=true that fails)."""
    import shutil

    npm = shutil.which("npm")
    if npm is None:
        if ON_CI:
            pytest.fail("CI=true and no npm for axe-core (apt-get install npm)")
        return None
    npm_ci(npm, AXE_DIR)
    return (AXE_DIR / "node_modules" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")


async def axe_violations(page: Page, axe: str | None) -> list[str]:
    """Serious and critical axe-core violations on the page as it is now."""
    if axe is None:
        return []
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        # Through the debugger protocol: the page's own policy (no inline script) forbids a
        # <script> tag, and the test must not loosen it.
        await page.evaluate(f"{axe}\n;undefined")
    found: list[dict[str, Any]] = await page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


async def graphql(served: ServedDemo, role: str, query: str, **variables: Any) -> Any:
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            f"{served.url}graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {served.roster.token(role)}"},
        )
    body = answer.json()
    assert "errors" not in body, body
    return body["data"]


async def signed_in(context: BrowserContext, served: ServedDemo, label: str) -> Page:
    page = await context.new_page()
    page.set_default_timeout(20_000)
    await page.goto(f"{served.url}app/")
    await page.get_by_label("Role").select_option(label=label)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Programs", exact=True)).to_be_visible()
    return page


async def signed_in_by_keyboard(context: BrowserContext, served: ServedDemo, label: str) -> Page:
    """Sign-in with the keyboard only: Tab to the role, arrows to the choice, Enter."""
    page = await context.new_page()
    page.set_default_timeout(20_000)
    await page.goto(f"{served.url}app/")
    await expect(page.get_by_label("Role")).to_be_visible()
    for _ in range(10):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.name") == "role":
            break
    else:
        raise AssertionError("the role picker is not reachable with Tab")
    for _ in range(10):
        chosen = await page.evaluate("document.activeElement.selectedOptions[0].text")
        if chosen == label:
            break
        await page.keyboard.press("ArrowDown")
    else:
        raise AssertionError(f"{label} is not reachable with the arrow keys")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Sign in"
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="Programs", exact=True)).to_be_visible()
    return page


def contents(path: Path) -> bytes:
    return path.read_bytes()


def shot_path(tmp_path: Path, name: str) -> Path:
    folder = os.environ.get("ECEHUB_WEBAPP_SCREENSHOTS")
    return Path(folder) / f"webapp-{name}.png" if folder else tmp_path / f"{name}.png"


async def test_the_front_end_in_a_browser(tmp_path: Path) -> None:
    require_chromium()
    axe = axe_source()
    blocked: list[str] = []
    page_errors: list[str] = []
    violations: dict[str, list[str]] = {}
    async with served_demo(tmp_path / "demo") as served:
        users = {u.role: u for u in served.roster.users}
        labels = {u.role: f"{u.label} — {u.sub}" for u in served.roster.users}

        async def only_the_demo(route: Route, request: Request) -> None:
            if request.url.startswith(served.url):
                await route.continue_()
            else:
                blocked.append(request.url)
                await route.abort("blockedbyclient")

        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=30_000
            )
            try:

                async def new_context() -> BrowserContext:
                    context = await browser.new_context(viewport=TABLET)
                    await context.route("**/*", only_the_demo)
                    return context

                # --- The TA: its programs, a profile, a task on the QIP board, the audit.
                ta_context = await new_context()
                page = await signed_in(ta_context, served, labels["ta_staff"])
                page.on("pageerror", lambda error: page_errors.append(str(error)))
                rows = page.locator("main table tbody tr")
                await expect(rows).to_have_count(len(users["ta_staff"].programs))
                # each row names the sectors that know the program
                await expect(rows.first.locator(".tag.source").first).to_be_visible()
                first = rows.first.get_by_role("link")
                name = (await first.inner_text()).strip()
                started = time.perf_counter()
                await first.click()
                await expect(
                    page.get_by_role("heading", name="Identity across sectors")
                ).to_be_visible()
                painted_ms = (time.perf_counter() - started) * 1000
                mark = await page.evaluate(
                    "performance.getEntriesByName('ecehub-profile-painted').map(m => m.startTime)"
                )
                print(f"\nprofile first meaningful paint: {painted_ms:.0f} ms from the click")
                await expect(page.get_by_role("heading", level=1)).to_have_text(name)
                await expect(page).to_have_title(f"{name} · ecehub")
                assert await page.evaluate("document.activeElement.id") == "main"
                for panel in (
                    "License",
                    "QRIS rating",
                    "Staff",
                    "Enrollment by support type and age",
                ):
                    await expect(page.get_by_role("region", name=panel)).to_be_visible()
                program_id = page.url.rsplit("/", 1)[1]
                violations["profile"] = await axe_violations(page, axe)
                await page.screenshot(
                    path=str(shot_path(tmp_path, "profile")),
                    full_page=True,
                    clip={"x": 0, "y": 0, "width": TABLET["width"], "height": 1300},
                )

                await page.get_by_role("link", name="QIP, notes and activity").click()
                await expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
                goal = page.locator("section.goal").first
                await goal.locator("summary", has_text="Add a task").click()
                title = f"Observe circle time {int(time.time())}"
                form = goal.locator("form.new-task")
                await form.get_by_label("Title").fill(title)
                await form.get_by_label("Owner").fill(users["ta_staff"].sub)
                await form.get_by_label("Due date").fill("2027-01-31")
                await form.get_by_role("button", name="Add task").click()
                card = page.locator("li.card", has_text=title)
                await expect(card).to_be_visible()
                audit = page.get_by_role("region", name="Audit log")
                created_row = audit.locator("tr", has_text=title)
                await expect(created_row).to_have_count(1)
                await expect(created_row).to_contain_text("CREATE")
                await expect(created_row).to_contain_text(users["ta_staff"].sub)
                await page.evaluate("window.scrollTo(0, 0)")
                await page.screenshot(path=str(shot_path(tmp_path, "qip")))
                task_id = await card.get_attribute("data-task")
                assert task_id
                # Someone else updates the task meanwhile: the board's stale save is refused.
                await graphql(
                    served,
                    "state_admin",
                    "mutation($id: ID!) { updateQipTask(id: $id, version: 1, "
                    "patch: {status: IN_PROGRESS}) { version } }",
                    id=task_id,
                )
                await card.locator("summary", has_text="Update").click()
                await card.get_by_label("Status").select_option("DONE")
                await card.get_by_role("button", name="Save").click()
                await expect(card.get_by_role("alert")).to_contain_text("not saved")
                await expect(card.get_by_role("alert")).to_contain_text("Now: status IN_PROGRESS")

                async def task_now() -> tuple[str, int]:
                    after = await graphql(
                        served,
                        "state_admin",
                        "query($id: ID!) { program(id: $id) "
                        "{ qip { goals { tasks { id status version } } } } }",
                        id=program_id,
                    )
                    [task] = [
                        t
                        for g in after["program"]["qip"]["goals"]
                        for t in g["tasks"]
                        if t["id"] == task_id
                    ]
                    return task["status"], task["version"]

                assert await task_now() == ("IN_PROGRESS", 2)  # nothing overwritten
                # The TA decides: its change on top of the current version.
                await card.get_by_role("button", name="Apply mine on version 2").click()
                await expect(page.locator("li.card", has_text=title)).to_contain_text("v3")
                assert await task_now() == ("DONE", 3)
                card = page.locator("li.card", has_text=title)
                # A note on the task.
                await card.locator("summary", has_text="Add a note").click()
                await card.get_by_label("Note").fill("Circle time observed; strong routines.")
                await card.get_by_role("button", name="Add note").click()
                await expect(card).to_contain_text("Circle time observed; strong routines.")
                # Evidence on the task: upload a file, then download it with the token.
                evidence = f"Sign-in sheet for {title}\n".encode()
                await card.locator("summary", has_text="Attach a file").click()
                upload: FilePayload = {
                    "name": "sign-in.txt",
                    "mimeType": "text/plain",
                    "buffer": evidence,
                }
                await card.get_by_label("File").set_input_files(files=upload)
                await card.get_by_role("button", name="Attach").click()
                attached = card.get_by_role("button", name="sign-in.txt")
                await expect(attached).to_be_visible()
                async with page.expect_download() as downloading:
                    await attached.click()
                downloaded = await downloading.value
                assert downloaded.suggested_filename == "sign-in.txt"
                assert contents(await downloaded.path()) == evidence
                violations["qip"] = await axe_violations(page, axe)

                await page.get_by_role("link", name="Funding").click()
                await expect(page.locator("svg.chart")).to_be_visible()
                by_type = page.get_by_role("region", name="By support type")
                await expect(by_type.locator("tbody tr")).not_to_have_count(1)
                await page.get_by_label("Support type", exact=True).select_option("QRIS")
                await page.get_by_role("button", name="Show").click()
                await expect(by_type.locator("tbody tr")).to_have_count(1)
                await expect(by_type.locator("tbody tr")).to_contain_text("QRIS")
                await expect(page.get_by_role("region", name="Support summary")).to_contain_text(
                    "All sectors together"
                )
                violations["funding"] = await axe_violations(page, axe)
                await page.screenshot(path=str(shot_path(tmp_path, "funding")))

                # --- The provider: its own program only.
                provider_context = await new_context()
                provider = await signed_in_by_keyboard(provider_context, served, labels["provider"])
                provider_rows = provider.locator("main table tbody tr")
                await expect(provider_rows).to_have_count(1)
                await expect(provider_rows.first).to_contain_text(name)
                # It may write tasks but not goals: the refusal is shown, nothing is made.
                await provider.goto(f"{served.url}app/#/program/{program_id}/qip")
                await provider.locator("summary", has_text="Add a goal").click()
                await provider.get_by_label("Goal", exact=True).fill("A goal of our own")
                await provider.get_by_role("button", name="Add goal").click()
                await expect(provider.locator("main .notice.info")).to_contain_text(
                    "Not allowed for your role"
                )
                await expect(
                    provider.locator("section.goal", has_text="A goal of our own")
                ).to_have_count(0)
                other = users["ta_staff"].programs[1]
                await provider.goto(f"{served.url}app/#/program/{other}")
                await expect(provider.get_by_role("alert")).to_contain_text("NOT_FOUND")
                await provider_context.close()

                # --- Anonymous: the public directory (names, addresses, support types).
                public_context = await new_context()
                public = await public_context.new_page()
                await public.goto(f"{served.url}app/#/programs")
                await expect(public.locator("main table tbody tr")).to_have_count(20)
                await expect(public.locator("#who")).to_contain_text("Sign in")
                await expect(public.get_by_label("Support type").locator("option")).to_have_count(4)
                await public_context.close()

                # --- The analyst: aggregates only, starting on the funding report.
                analyst_context = await new_context()
                analyst = await analyst_context.new_page()
                await analyst.goto(f"{served.url}app/")
                await analyst.get_by_label("Role").select_option(label=labels["analyst"])
                await analyst.get_by_role("button", name="Sign in").click()
                await expect(
                    analyst.get_by_role("heading", name="Funding and support")
                ).to_be_visible()
                await expect(analyst.locator("main p.big")).to_contain_text("across")
                await expect(analyst.locator("main .notice.info")).to_contain_text(
                    "Not allowed for your role"
                )
                await expect(analyst.get_by_role("region", name="Lines")).to_have_count(0)
                await analyst_context.close()

                # --- The state administrator: confirm a crosswalk suggestion.
                admin_context = await new_context()
                admin = await signed_in(admin_context, served, labels["state_admin"])
                # Paged with cursors, filtered in the form.
                admin_rows = admin.locator("main table tbody tr")
                await expect(admin_rows).to_have_count(20)
                first_name = await admin_rows.first.get_by_role("link").inner_text()
                await admin.get_by_role("link", name="Next page").click()
                await expect(admin.locator('.results[data-shown*="after="]')).to_be_visible()
                await expect(admin.get_by_role("link", name="First page")).to_be_visible()
                assert await admin_rows.first.get_by_role("link").inner_text() != first_name
                await admin.get_by_label("Support type").select_option("QRIS")
                await admin.get_by_role("button", name="Search").click()
                await expect(
                    admin.locator('.results[data-shown*="supportType=QRIS"]')
                ).to_be_visible()
                await expect(admin.get_by_role("link", name="First page")).to_have_count(0)
                listed = await admin_rows.count()
                assert listed > 2
                for index in range(listed):
                    await expect(
                        admin_rows.nth(index).locator(
                            ".tag:not(.source)", has_text=re.compile("^QRIS$")
                        )
                    ).to_have_count(1)
                hrefs = [
                    await admin_rows.nth(index).get_by_role("link").get_attribute("href") or ""
                    for index in range(listed)
                ]
                spare = [
                    h.rsplit("/", 1)[1]
                    for h in hrefs
                    if h.rsplit("/", 1)[1] not in users["ta_staff"].programs
                ]

                await admin.get_by_role("link", name="Crosswalk review").click()
                suggestion = admin.locator("ol.queue > li").first
                await expect(suggestion).to_be_visible()
                violations["crosswalk"] = await axe_violations(admin, axe)
                record_line = await suggestion.locator("p strong").first.inner_text()
                source, key = record_line.rstrip(": ").split(" ", 1)
                await suggestion.get_by_role("button", name="Confirm").click()
                await expect(suggestion.locator(".notice.success")).to_contain_text(
                    "is now part of"
                )
                await expect(suggestion.locator(".notice.success")).to_contain_text(source)
                # The next one is rejected: it will not merge, nor be suggested again.
                second = admin.locator("ol.queue > li").nth(1)
                await second.get_by_role("button", name="Reject").click()
                await expect(second.locator(".notice.success")).to_contain_text("Rejected by")
                rejected = await second.get_attribute("data-link")
                queue = await graphql(
                    served, "state_admin", "{ crosswalkSuggestions(first: 500) { links { id } } }"
                )
                assert rejected and rejected not in {
                    link["id"] for link in queue["crosswalkSuggestions"]["links"]
                }
                merged_link = suggestion.locator(".notice.success a")
                merged_id = (await merged_link.get_attribute("href") or "").rsplit("/", 1)[1]
                merged = await graphql(
                    served,
                    "state_admin",
                    "query($id: ID!) { program(id: $id) { sources { source key } } }",
                    id=merged_id,
                )
                assert {"source": source, "key": key} in [
                    {"source": s["source"], "key": s["key"]} for s in merged["program"]["sources"]
                ]
                # Merge two programs by their IDs: the first now resolves to the second.
                merge = admin.get_by_role("region", name="Merge two programs")
                await merge.get_by_label("Program ID to merge").fill(spare[-1])
                await merge.get_by_label("Into program ID").fill(spare[-2])
                await merge.get_by_role("button", name="Merge programs").click()
                await expect(merge.locator(".notice.success")).to_contain_text("Merged")
                resolved = await graphql(
                    served,
                    "state_admin",
                    "query($id: ID!) { program(id: $id) { id } }",
                    id=spare[-1],
                )
                assert resolved["program"]["id"] == spare[-2]
                await admin_context.close()

                # --- The QRIS API stops: its panels say so, the rest renders.
                await served.demo.qris.stop()
                await page.goto(f"{served.url}app/#/program/{program_id}")
                await page.reload()
                await expect(page.get_by_role("heading", level=1)).to_have_text(name)
                sectors = page.get_by_role("region", name="Sectors")
                await expect(sectors.locator("tr", has_text="qris")).to_contain_text("unavailable")
                await expect(page.locator(".notice.warning").first).to_contain_text("qris")
                rating = page.get_by_role("region", name="QRIS rating")
                await expect(rating).to_contain_text("Source qris is unavailable")
                await expect(rating).not_to_contain_text("No QRIS rating on record")
                await expect(page.get_by_role("region", name="License")).to_contain_text(
                    "licensing"
                )
                await expect(page.get_by_role("region", name="Sites and rooms")).to_be_visible()
                await page.screenshot(path=str(tmp_path / "source-down.png"), full_page=True)
                # The list and the funding report name the missing source too.
                await page.get_by_role("link", name="Programs").click()
                await expect(page.locator(".results .notice.warning")).to_contain_text(
                    "Unavailable now: qris"
                )
                await page.get_by_role("link", name="Funding").click()
                await expect(
                    page.get_by_role("heading", name="Funding and support")
                ).to_be_visible()
                await expect(page.locator("main .notice.warning")).to_contain_text(
                    "Unavailable now: qris"
                )
                await ta_context.close()
            finally:
                await browser.close()
    assert blocked == [], "the app asked for something outside the server"
    assert page_errors == []
    assert mark, "the profile marks its first meaningful paint"
    if axe is None:
        pytest.skip("no npm for axe-core: accessibility not checked (everything else passed)")
    assert violations == {k: [] for k in violations}, json.dumps(violations, indent=1)
