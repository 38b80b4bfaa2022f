"""One headless Chromium per test module (Debian's package, driven by Playwright), and the
check after every test that no page showed an error it should not have."""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterator

import pytest
import pytest_asyncio
from playwright.async_api import Browser, async_playwright

from tests.widget.browser import CHROMIUM, CHROMIUM_ARGS, OPENED


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@pytest.fixture(autouse=True)
def no_error_shown(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail the test if any page it opened received an error frame it did not expect
    (``Tab.expect_errors``), logged a console error, or still showed an error state when
    it closed: a flow that completes while the page shows an error is not a pass."""
    OPENED.clear()
    yield
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        return  # the test's own failure says more
    problems = [f"tab {i}: {p}" for i, t in enumerate(OPENED) for p in t.problems()]
    OPENED.clear()
    assert not problems, "errors shown in the browser:\n" + "\n".join(problems)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the item, so the fixture above knows whether the test
    body failed."""
    rep = yield
    setattr(item, f"rep_{rep.when}", rep)
    return rep
