"""The service in a real headless browser: Debian's chromium driven by Playwright.

Upload the bundled demo (a zip of its stems) by dropping it on the page, wait for the job page to show the results,
download the mix and check its loudness, and take a screenshot. Fails (not skips) when chromium
or playwright is missing: ``apt-get install -y chromium`` and ``pip install playwright`` (never
``playwright install``).
"""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest

from mixassist.audio import load_audio
from mixassist.loudness import integrated_loudness
from mixassist.server import Settings, create_app

from .helpers import serve_in_thread


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

_DROP_JS = """([b64, name]) => {
  const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
  const dt = new DataTransfer();
  dt.items.add(new File([bytes], name, {type: 'application/zip'}));
  return dt;
}"""


def _demo_zip() -> bytes:
    """The bundled demo song's stems (data/demo) as a zip, as a producer would upload them."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for path in sorted((Path(__file__).resolve().parents[2] / "data" / "demo").iterdir()):
            zf.write(path, f"demo/{path.name}")
    return buffer.getvalue()


def _drop_on_upload_page(browser, base: str, archive: bytes, name: str):
    """A new page of the upload form at ``base`` with ``archive`` dropped on it as ``name``."""
    page = browser.new_page()
    page.goto(base + "/")
    transfer = page.evaluate_handle(_DROP_JS, [base64.b64encode(archive).decode(), name])
    page.dispatch_event("#drop", "drop", {"dataTransfer": transfer})
    assert page.text_content("#chosen") == name
    return page


@pytest.fixture
def live_server(tmp_path):
    """The service on a free local port (uvicorn in a thread, one worker process); its base URL."""
    base, server, thread = serve_in_thread(create_app(Settings(data_dir=tmp_path / "data",
                                                               workers=1)))
    yield base
    server.should_exit = True
    thread.join(30)


@pytest.mark.slow
def test_upload_in_headless_chromium(live_server, tmp_path):
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the playwright package is missing: pip install playwright "
                    "(it drives the system chromium; do not run 'playwright install')")
    archive = _demo_zip()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                    headless=True)
        try:
            page = _drop_on_upload_page(browser, live_server, archive, "demo.zip")
            page.select_option("#target", "apple")
            page.click("#go")
            page.wait_for_url("**/jobs/**", timeout=60_000)
            page.wait_for_selector("#download-mix", timeout=240_000)
            assert page.text_content("#state") == "done"
            assert page.text_content("#error") == ""
            href = page.get_attribute("#download-mix", "href")
            page.screenshot(path=str(tmp_path / "job.png"), full_page=True)
        finally:
            browser.close()
    assert (tmp_path / "job.png").stat().st_size > 10_000
    mix = httpx.get(live_server + href, timeout=60)
    assert mix.status_code == 200
    (tmp_path / "mix.wav").write_bytes(mix.content)
    audio, sr = load_audio(tmp_path / "mix.wav")
    assert integrated_loudness(audio, sr) == pytest.approx(-16.0, abs=0.5)  # apple: -16 LUFS


@pytest.mark.slow
def test_demo_report_renders_in_headless_chromium(tmp_path):
    """The README's main job on the bundled demo: its report.html renders, every inline image
    decodes, and both players find their audio."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    from mixassist.assistant import MixAssistant

    demo = Path(__file__).resolve().parents[2] / "data" / "demo"
    result = MixAssistant(cache=False).process(demo, out_dir=tmp_path / "out")
    after = result.output_loudness
    assert after["integrated_lufs"] == pytest.approx(-14.0, abs=0.5)  # spotify, the default
    assert after["true_peak_dbtp"] <= -1.0 + 0.05
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                    headless=True)
        try:
            page = browser.new_page()
            page.goto((result.folder / "report.html").as_uri())
            page.wait_for_load_state("load")
            images = page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
            durations = page.eval_on_selector_all(
                "audio", "els => Promise.all(els.map(e => e.readyState >= 1 ? e.duration : "
                "new Promise(r => { e.onloadedmetadata = () => r(e.duration); "
                "e.onerror = () => r(-1); e.load(); })))")
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
    assert len(images) >= 4 and all(width > 0 for width in images)
    assert len(durations) == 2 and all(d == pytest.approx(result.analysis.duration_s, abs=0.1)
                                       for d in durations)
    assert (tmp_path / "report.png").stat().st_size > 50_000


@pytest.mark.slow
def test_references_and_export_from_the_upload_page(live_server, tmp_path):
    """The page sends the dropped song, the chosen reference songs and the export in one request;
    the job page then links the Reaper export."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    from .helpers import song_bytes, stems_zip

    archive = stems_zip(tmp_path, seconds=4.0)
    reference = tmp_path / "refs" / "Ref Song.wav"
    reference.parent.mkdir()
    reference.write_bytes(song_bytes(tmp_path, 10.0))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                    headless=True)
        try:
            page = _drop_on_upload_page(browser, live_server, archive, "my song.zip")
            page.set_input_files("#references", [str(reference)])
            page.select_option("#export", "reaper")
            page.click("#go")
            page.wait_for_url("**/jobs/**", timeout=60_000)
            page.wait_for_selector("#download-reaper", timeout=240_000)
            assert page.text_content("#error") == ""
            href = page.get_attribute("#download-reaper", "href")
            job_url = page.url.replace("/jobs/", "/api/jobs/")
        finally:
            browser.close()
    job = httpx.get(job_url, timeout=30).json()
    assert job["options"]["export"] == "reaper"
    assert job["options"]["references"] == ["input/references/1/Ref Song.wav"]
    download = httpx.get(live_server + href, timeout=60)
    assert download.status_code == 200 and download.content[:4] == b"PK\x03\x04"
