"""The report's A/B player: loudness-matched previews, the page, the toggle in headless Chromium.

Signals are seeded white noise at known integrated loudness (-30, -12 and -9 LUFS), so the
matching is checked in LU against the meter, not against stored numbers.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from types import SimpleNamespace as NS
from urllib.parse import urlsplit

import numpy as np
import pytest
import soundfile as sf

from mixassist.audio import load_audio, save_audio
from mixassist.errors import AudioContentError, ParameterError
from mixassist.loudness import integrated_loudness, measure_loudness, true_peak_dbtp
from mixassist.report import (Preview, comparison_tracks, loudness_matched, render_report,
                              write_previews, write_report)

from .server.helpers import serve_in_thread

SR = 44100
DOCS_IMAGE = Path(__file__).resolve().parents[1] / "docs" / "images" / "report_ab.png"


def noise_at(lufs: float, seconds: float, *, channels: int = 2, seed: int = 0) -> np.ndarray:
    """Seeded white noise at ``lufs`` integrated loudness, float32 ``(channels, samples)``."""
    x = np.random.default_rng(seed).standard_normal((channels, int(seconds * SR)))
    x = x.astype(np.float32)
    return (x * 10 ** ((lufs - integrated_loudness(x, SR)) / 20)).astype(np.float32)


def fake_result(mix: np.ndarray, input_mix: np.ndarray, sr: int = SR, name: str = "song"):
    """The attributes of a :class:`~mixassist.assistant.MixResult` that the report reads."""
    duration = mix.shape[1] / sr
    stem = NS(name="mix", instrument="keys", role="harmony", source="network", level_db=0.0,
              target_level_db=0.0, features=NS(level_vs_rest_db=None),
              activity=[NS(start_s=0.0, end_s=duration)])
    analysis = NS(stems=[stem], masking=[], duration_s=duration, tempo_bpm=120.0, key="C major",
                  sections=[NS(start_s=0.0, end_s=duration, label="verse", stems=["mix"])])
    plan = NS(stems={"mix": NS(gain_db=0.0, reasons=["left as it is"])},
              master=NS(reasons=["limited to the target"]),
              arrangement=NS(version="full", reasons=[]),
              target=NS(name="spotify", lufs=-14.0, true_peak_dbtp=-1.0), extra={})
    return NS(name=name, sr=sr, analysis=analysis, plan=plan, mix=mix,
              input_loudness=measure_loudness(input_mix, sr),
              output_loudness=measure_loudness(mix, sr))


def report_folder(folder: Path, *, seconds: float = 6.0) -> list[Preview]:
    """A result folder as the assistant writes it (input.wav, mix.wav, preview/, report.html) for
    a -30 LUFS "before", a -12 LUFS "after" and a shorter, mono -9 LUFS reference."""
    before = noise_at(-30, seconds, seed=1)
    after = noise_at(-12, seconds, seed=2)
    reference = noise_at(-9, seconds - 1, channels=1, seed=3)
    folder.mkdir(parents=True, exist_ok=True)
    save_audio(folder / "input.wav", before, SR)
    save_audio(folder / "mix.wav", after, SR)
    previews = write_previews(folder, comparison_tracks(before, after, [reference]), SR)
    write_report(folder / "report.html", fake_result(after, before), input_mix=before,
                 previews=previews)
    return previews


# --- loudness matching ----------------------------------------------------------------------------

def test_loudness_matched_puts_very_different_tracks_at_the_quietest_loudness():
    tracks = {"before": noise_at(-30, 4, seed=1), "after": noise_at(-12, 4, seed=2),
              "reference 1": noise_at(-6, 3, channels=1, seed=3),
              "reference 2": noise_at(-20, 5, seed=4)}
    matched = loudness_matched(tracks, SR)
    assert list(matched) == list(tracks)
    measured = {label: integrated_loudness(audio, SR) for label, (audio, _, _) in matched.items()}
    assert max(measured.values()) - min(measured.values()) < 0.1
    assert all(v == pytest.approx(-30.0, abs=0.05) for v in measured.values())  # the quietest's
    for label, (audio, gain_db, original_lufs) in matched.items():
        assert audio.dtype == np.float32 and audio.shape == tracks[label].shape
        assert original_lufs == pytest.approx(integrated_loudness(tracks[label], SR), abs=1e-6)
        # the gain reported is the gain applied
        assert np.allclose(audio, tracks[label] * 10 ** (gain_db / 20), rtol=1e-5, atol=1e-9)
        assert measured[label] - original_lufs == pytest.approx(gain_db, abs=0.01)
        assert gain_db <= 0.0  # nothing is raised
    assert matched["after"][1] == pytest.approx(-18.0, abs=0.05)
    assert matched["reference 1"][1] == pytest.approx(-24.0, abs=0.05)


def test_a_silent_track_is_an_error_naming_it():
    tracks = {"before": noise_at(-20, 2), "after": np.zeros((2, 2 * SR), np.float32)}
    with pytest.raises(AudioContentError, match="'after'.*silent"):
        loudness_matched(tracks, SR)
    with pytest.raises(AudioContentError, match="'reference'"):
        write_previews(Path("unused"), {"before": noise_at(-20, 2),
                                        "reference": np.zeros((2, 0), np.float32)}, SR)
    with pytest.raises(ParameterError, match="at least one track"):
        loudness_matched({}, SR)


def test_comparison_tracks_labels():
    a, b, r = (np.zeros((1, 10), np.float32),) * 3
    assert list(comparison_tracks(a, b)) == ["before", "after"]
    assert list(comparison_tracks(a, b, [r])) == ["before", "after", "reference"]
    assert list(comparison_tracks(a, b, [r, r])) == ["before", "after", "reference 1",
                                                     "reference 2"]


def test_write_previews_files_are_16_bit_and_matched(tmp_path):
    tracks = comparison_tracks(noise_at(-30, 3, seed=1), noise_at(-12, 3, seed=2),
                               [noise_at(-9, 2, channels=1, seed=3)])
    previews = write_previews(tmp_path, tracks, SR)
    assert [p.path for p in previews] == ["preview/before.wav", "preview/after.wav",
                                          "preview/reference.wav"]
    assert sorted(p.name for p in (tmp_path / "preview").iterdir()) == [
        "after.wav", "before.wav", "reference.wav"]  # nothing half-written left beside them
    loudness = []
    for preview, original in zip(previews, tracks.values()):
        path = tmp_path / preview.path
        assert sf.info(str(path)).subtype == "PCM_16" == preview.subtype
        audio, sr = load_audio(path)
        assert sr == SR and audio.shape == original.shape
        loudness.append(integrated_loudness(audio, sr))
        assert loudness[-1] == pytest.approx(preview.lufs, abs=0.05)
        assert preview.original_lufs == pytest.approx(integrated_loudness(original, SR), abs=1e-6)
        assert preview.true_peak_dbtp == pytest.approx(true_peak_dbtp(audio, sr), abs=0.1)
        assert not preview.over
    assert max(loudness) - min(loudness) < 0.1
    after = previews[1]
    assert after.gain_db == pytest.approx(-18.0, abs=0.05)
    assert after.note == "after: -12.0 LUFS, played -18.0 dB for the comparison"
    assert previews[0].note == "before: -30.0 LUFS, played as it is (0.0 dB) for the comparison"
    assert after.to_dict()["over"] is False


def test_a_version_over_full_scale_is_flagged_and_not_clipped(tmp_path):
    hot = noise_at(-30, 3, seed=1)
    hot[0, 1000] = 1.5  # the quietest version already exceeds full scale: nothing may clip it
    previews = write_previews(tmp_path, {"before": hot, "after": noise_at(-12, 3, seed=2)}, SR)
    before = previews[0]
    assert before.over and before.subtype == "FLOAT" and before.true_peak_dbtp > 3.0
    assert "above -1 dBTP" in before.note
    audio, _ = load_audio(tmp_path / before.path)
    assert audio[0, 1000] == pytest.approx(1.5)
    assert sf.info(str(tmp_path / previews[1].path)).subtype == "PCM_16"


def test_labels_that_name_the_same_file_are_refused(tmp_path):
    tracks = {"reference 1": noise_at(-20, 1), "Reference-1": noise_at(-20, 1)}
    with pytest.raises(ParameterError, match="same file name"):
        write_previews(tmp_path, tracks, SR)
    with pytest.raises(ParameterError, match="letter or a digit"):
        write_previews(tmp_path, {"--": noise_at(-20, 1)}, SR)


# --- the page -------------------------------------------------------------------------------------

def test_report_with_previews_has_the_ab_player(tmp_path):
    previews = report_folder(tmp_path, seconds=3.0)
    page = (tmp_path / "report.html").read_text()
    for slug, name in [("before", "Before"), ("after", "After"), ("reference", "Reference")]:
        assert f'data-version="{slug}" aria-pressed=' in page and f">{name}</button>" in page
        assert f'src="preview/{slug}.wav"' in page
    assert page.count("<audio") == 3 and 'id="ab-play"' in page and 'id="ab-position"' in page
    assert "Louder always sounds better" in page
    assert "after: -12.0 LUFS, played -18.0 dB for the comparison" in page
    assert "reference: -9.0 LUFS, played -21.0 dB for the comparison" in page
    # the unmatched files stay linked; nothing external is loaded
    assert 'href="input.wav"' in page and 'href="mix.wav"' in page
    assert "http://" not in page and "https://" not in page


def test_report_without_previews_keeps_the_plain_players():
    before, after = noise_at(-30, 2, seed=1), noise_at(-12, 2, seed=2)
    page = render_report(fake_result(after, before), input_mix=before)
    assert 'src="input.wav"' in page and 'src="mix.wav"' in page
    assert 'id="ab"' not in page and "<script" not in page
    with pytest.raises(ParameterError, match="at least one preview"):
        render_report(fake_result(after, before), input_mix=before, previews=[])


def test_report_shows_section_letters_and_why():
    """A lettered section shows its letter and the analysis' reason; a named one its name."""
    before, after = noise_at(-30, 2, seed=1), noise_at(-12, 2, seed=2)
    result = fake_result(after, before)
    result.analysis.sections = [
        NS(start_s=0.0, end_s=1.0, label="A", stems=["mix"], extra={
            "letter": "A", "named": False, "label_reason": "no sung part: sections lettered"}),
        NS(start_s=1.0, end_s=2.0, label="outro", stems=["mix"],
           extra={"letter": "B", "named": True, "label_reason": "outro: heard once, unsung"})]
    page = render_report(result, input_mix=before)
    assert "<td>A</td><td>A</td><td>no sung part: sections lettered</td>" in page
    assert "<td>outro</td><td>B</td><td>outro: heard once, unsung</td>" in page
    assert "A' a varied repeat of A" in page
    named = render_report(fake_result(after, before), input_mix=before)  # older files: no extra
    assert "<td>verse</td><td></td><td></td>" in named and "varied repeat" not in named


# --- in a real browser ----------------------------------------------------------------------------

@pytest.fixture(params=["static", "service"])
def served_report(request, tmp_path):
    """The URL of a report with an A/B player (see :func:`report_folder`), served over HTTP with
    range requests: "static", the result folder as plain files (Starlette's StaticFiles);
    "service", a finished job of the web service with a token, the report at its files URL."""
    from starlette.applications import Starlette
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    if request.param == "static":
        folder = tmp_path / "song"
        report_folder(folder)
        app, path = Starlette(routes=[Mount("/", StaticFiles(directory=folder))]), "/report.html"
    else:
        from mixassist.server import Settings, create_app
        from mixassist.server.jobs import new_job_id
        from mixassist.server.worker import job_output

        app = create_app(Settings(data_dir=tmp_path / "data", workers=0, token="s3cret"))
        job_id = new_job_id()
        app.state.store.add(job_id, kind="stems", display_name="song.zip", options={})
        report_folder(job_output(tmp_path / "data", job_id))
        app.state.store.claim("test")
        app.state.store.finish(job_id)
        path = f"/api/jobs/{job_id}/files/report?token=s3cret"
    base, server, thread = serve_in_thread(app)
    yield base + path
    server.should_exit = True
    thread.join(30)


#: The state of the A/B player's audio elements: [{version, paused, time}].
_STATE_JS = """() => Array.from(document.querySelectorAll('#ab audio')).map(
  a => ({version: a.dataset.version, paused: a.paused, time: a.currentTime}))"""
#: Note the audible version's currentTime at the moment a version button is clicked (capture
#: phase, before the page's own handler runs).
_RECORD_CLICK_JS = """() => document.querySelectorAll('#ab button[data-version]').forEach(b =>
  b.addEventListener('click', () => { window.__clicked = Array.from(document.querySelectorAll(
    '#ab audio')).filter(a => !a.paused).map(a => a.currentTime); }, {capture: true}))"""


@pytest.mark.slow
def test_ab_toggle_in_headless_chromium(served_report, tmp_path):
    """Play, switch Before -> After -> Reference -> Before -> After: each click keeps the playback position
    (within 0.3 s), only one version plays, and the served previews are within 0.5 LU."""
    import httpx

    from .server.test_browser import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium "
                    "(apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the playwright package is missing: pip install playwright "
                    "(it drives the system chromium; do not run 'playwright install')")
    with sync_playwright() as p:
        args = CHROMIUM_ARGS + ["--autoplay-policy=no-user-gesture-required"]
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
        try:
            page = browser.new_page(viewport={"width": 960, "height": 700})
            errors = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(served_report)
            page.wait_for_function("Array.from(document.querySelectorAll('#ab audio'))"
                                   ".every(a => a.readyState >= 1)", timeout=30_000)
            sources = page.eval_on_selector_all("#ab audio", "els => els.map(e => e.src)")
            page.evaluate(_RECORD_CLICK_JS)
            page.click("#ab-play")
            page.wait_for_function("document.getElementById('ab-before').currentTime > 1.0",
                                   timeout=15_000)
            switches = []
            for version in ("after", "reference", "before", "after"):
                page.click(f'#ab button[data-version="{version}"]')
                clicked = page.evaluate("window.__clicked")
                state = page.evaluate(_STATE_JS)
                pressed = page.get_attribute(f'#ab button[data-version="{version}"]',
                                             "aria-pressed")
                time.sleep(0.6)
                later = page.evaluate(_STATE_JS)
                switches.append((version, clicked, state, pressed, later))
            page.wait_for_timeout(200)
            page.locator("#ab").screenshot(path=str(tmp_path / "report_ab.png"))
            now_text = page.text_content("#ab-now")
        finally:
            browser.close()
    assert not errors, errors
    for version, clicked, state, pressed, later in switches:
        assert len(clicked) == 1, (version, clicked)  # one version was audible at the click
        playing = [s for s in state if not s["paused"]]
        assert [s["version"] for s in playing] == [version], (version, state)
        assert abs(playing[0]["time"] - clicked[0]) < 0.3, (version, clicked, state)
        assert pressed == "true"
        after = next(s for s in later if s["version"] == version)
        assert [s["version"] for s in later if not s["paused"]] == [version]
        assert after["time"] > playing[0]["time"] + 0.2, (version, state, later)  # it plays on
    assert now_text == "after: -12.0 LUFS, played -18.0 dB for the comparison"
    assert (tmp_path / "report_ab.png").stat().st_size > 5_000
    if os.environ.get("MIXASSIST_UPDATE_DOCS_IMAGES") and "token" not in served_report:
        DOCS_IMAGE.parent.mkdir(exist_ok=True)
        shutil.copyfile(tmp_path / "report_ab.png", DOCS_IMAGE)

    # what the browser played, fetched from the server: every version within 0.5 LU
    report_dir = urlsplit(served_report).path.rsplit("/", 1)[0]
    assert [urlsplit(s).path for s in sources] == [
        f"{report_dir}/preview/{name}.wav" for name in ("before", "after", "reference")]
    loudness = []
    for k, url in enumerate(sources):
        response = httpx.get(url, timeout=30)
        assert response.status_code == 200
        (tmp_path / f"served-{k}.wav").write_bytes(response.content)
        loudness.append(integrated_loudness(*load_audio(tmp_path / f"served-{k}.wav")))
    assert max(loudness) - min(loudness) <= 0.5, loudness
    assert loudness[0] == pytest.approx(-30.0, abs=0.5)
