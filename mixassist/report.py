"""``report.html``: a self-contained page (inline images) that explains a mix to a producer.

It opens with a mix check of the input (clipping, true-peak overs, loudness against every
platform, dynamics, mono compatibility, stereo balance, muddy or harsh bands, lead level), each
with a concrete suggestion; then loudness before/after against every platform, stem levels
(current vs target), tonal balance before/after, the sections (named where the evidence holds,
else lettered A, B, A' and told why), and every plan decision with its
reason.

Its "Listen" section is an A/B player: before, after and any reference, each loudness-matched
(:func:`loudness_matched`, written by :func:`write_previews` as ``preview/<slug>.wav``), one
transport, and one click switches the audible version at the same playback position.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import io
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from .analysis.segmentation import SECTION_LABELS
from .errors import AudioContentError, ParameterError
from .planning.targets import PRESETS
from .utils.atomic import write_text_atomic

#: Octave bands used for the tonal balance (Hz, centres).
OCTAVES_HZ = (31.5, 63, 125, 250, 500, 1000, 2000, 4000, 8000, 16000)


#: Frame of the octave-band spectrum (samples, no overlap, Hann).
_OCTAVE_FRAME = 1 << 14


@dataclasses.dataclass
class _MixStats:
    """What the mix check and the tonal plot need of a signal, from one pass over its blocks:
    samples at or above full scale, mean square per channel and of the mono fold-down
    ``(L + R) / 2``, and the mono power spectrum summed over :data:`_OCTAVE_FRAME` frames."""

    clipped: int
    channel_ms: np.ndarray
    mono_ms: float
    power: np.ndarray
    sr: int


def _mix_stats(audio, sr: int) -> _MixStats:
    from .audio.signal import as_signal

    signal = as_signal(audio, sr)
    n = _OCTAVE_FRAME
    window = np.hanning(n)
    power = np.zeros(n // 2 + 1)
    clipped, squares, mono_sq = 0, np.zeros(signal.channels), 0.0
    for _, block in signal.blocks(16 * n):  # whole frames per block; the last may be short
        clipped += int(np.count_nonzero(np.abs(block) >= 0.999))
        wide = block.astype(np.float64)
        squares += np.einsum("ij,ij->i", wide, wide)
        if signal.channels >= 2:
            mono_sq += float(np.sum(((wide[0] + wide[1]) / 2) ** 2))
        mono = block.mean(axis=0)
        if signal.samples < n:  # one zero-padded frame
            mono = np.pad(mono, (0, n - mono.size))
        frames = mono[:mono.size // n * n].reshape(-1, n)
        power += (np.abs(np.fft.rfft(frames * window, axis=1)) ** 2).sum(axis=0)
    count = max(signal.samples, 1)
    return _MixStats(clipped, squares / count, mono_sq / count, power, signal.sr)


def _octave_levels(stats: _MixStats) -> np.ndarray:
    freqs = np.fft.rfftfreq(_OCTAVE_FRAME, 1 / stats.sr)
    total = stats.power.sum() + 1e-30
    return np.array([10 * np.log10(stats.power[(freqs >= c / np.sqrt(2))
                                               & (freqs < c * np.sqrt(2))].sum() / total + 1e-12)
                     for c in OCTAVES_HZ])


def octave_balance(audio, sr: int) -> np.ndarray:
    """Octave-band levels (dB re the total power) of ``(channels, samples)`` audio or a
    :class:`~mixassist.audio.signal.Signal` (read in blocks)."""
    return _octave_levels(_mix_stats(audio, sr))


def mix_check(audio, sr: int, loudness: dict, analysis) -> list[tuple[str, str, str]]:
    """Findings on the input mix (an array or a signal, read once in blocks):
    ``[(status, finding, suggestion)]``, status ok/warn/problem."""
    return _check(_mix_stats(audio, sr), loudness, analysis)


def _check(stats: _MixStats, loudness: dict, analysis) -> list[tuple[str, str, str]]:
    rows = []
    clipped = stats.clipped
    rows.append(("problem" if clipped else "ok",
                 f"{clipped} samples at or above full scale" if clipped else "no clipped samples",
                 "lower the master fader or the loudest stems before the limiter" if clipped
                 else "-"))
    tp = loudness["true_peak_dbtp"]
    rows.append(("problem" if tp > 0 else "warn" if tp > -1 else "ok",
                 f"true peak {tp:+.1f} dBTP",
                 "inter-sample overs distort after lossy encoding; keep true peak at or below "
                 "-1 dBTP" if tp > -1 else "-"))
    lufs = loudness["integrated_lufs"]
    quietest = min(PRESETS.values(), key=lambda t: t.lufs)
    turned = [f"{t.name} {t.lufs - lufs:+.1f} dB" for t in PRESETS.values()]
    rows.append(("warn" if lufs > -9 or lufs < quietest.lufs - 6 else "ok",
                 f"integrated loudness {lufs:.1f} LUFS; platforms will apply: " + ", ".join(turned),
                 "streaming platforms turn loud masters down: pushing past about -14 LUFS buys "
                 "no loudness there, only lost dynamics" if lufs > -11 else "-"))
    lra = loudness["lra_lu"]
    rows.append(("warn" if lra < 3 or lra > 15 else "ok", f"loudness range {lra:.1f} LU",
                 "very compressed: ease off bus compression or limiting" if lra < 3 else
                 "very wide: automate the quiet passages up or compress gently" if lra > 15
                 else "-"))
    corr = loudness.get("stereo_correlation", 1.0)
    mono_loss = _mono_loss_db(stats)
    rows.append(("problem" if corr < 0 else "warn" if mono_loss > 3 else "ok",
                 f"stereo correlation {corr:+.2f}; mono fold-down changes the level by "
                 f"{-mono_loss:+.1f} dB",
                 "parts are out of phase: check polarity and stereo wideners" if corr < 0 else
                 "check the mix in mono: wide elements lose level" if mono_loss > 3 else "-"))
    if stats.channel_ms.size >= 2:
        left, right = (10 * np.log10(ms + 1e-20) for ms in stats.channel_ms[:2])
        rows.append(("warn" if abs(left - right) > 1.5 else "ok",
                     f"left/right balance {left - right:+.1f} dB",
                     "re-centre the mix: one side is clearly louder" if abs(left - right) > 1.5
                     else "-"))
    bands = _octave_levels(stats)
    mud = bands[OCTAVES_HZ.index(250)] - bands[OCTAVES_HZ.index(1000)]
    harsh = bands[OCTAVES_HZ.index(4000)] - bands[OCTAVES_HZ.index(1000)]
    rows.append(("warn" if mud > 8 else "ok", f"250 Hz octave {mud:+.1f} dB re 1 kHz",
                 "muddy low mids: cut 200-400 Hz on pads, guitars and keys" if mud > 8 else "-"))
    rows.append(("warn" if harsh > 0 else "ok", f"4 kHz octave {harsh:+.1f} dB re 1 kHz",
                 "harsh upper mids: tame 2-5 kHz on the brightest stems" if harsh > 0 else "-"))
    for stem in analysis.stems:
        if stem.instrument == "vocals" and stem.features.level_vs_rest_db is not None:
            gap = stem.features.level_vs_rest_db
            rows.append(("warn" if abs(gap + 3) > 3 else "ok",
                         f"{stem.name}: {gap:+.1f} LU against the rest of the mix",
                         "lead vocals usually sit about 3 LU below the rest; "
                         + ("raise" if gap < -3 else "lower") + " them" if abs(gap + 3) > 3
                         else "-"))
    return rows


def _mono_loss_db(stats: _MixStats) -> float:
    """How many dB quieter the mono fold-down is than the stereo mix (power per channel)."""
    if stats.channel_ms.size < 2:
        return 0.0
    stereo = float(stats.channel_ms[:2].mean())
    return float(10 * np.log10((stereo + 1e-20) / (stats.mono_ms + 1e-20)))


def _figure_png(draw) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3), dpi=100)
    draw(ax)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _table(header: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _fmt(value, spec: str = "+.1f") -> str:
    return "-" if value is None else format(value, spec)


def _tempo(analysis) -> str:
    """``"120.0 BPM"``, or both likeliest tempi when the analysis is unsure of the metrical
    level (``tempo_candidates_bpm``): ``"120 or 80 BPM (unsure)"``."""
    candidates = getattr(analysis, "tempo_candidates_bpm", None) or []
    if len(candidates) >= 2:
        return f"{candidates[0]:.0f} or {candidates[1]:.0f} BPM (unsure)"
    return f"{_fmt(analysis.tempo_bpm, '.1f')} BPM"


# --- the A/B player: loudness-matched previews ---------------------------------------------------

#: Folder of the result that holds the A/B player's files, and what their names may look like
#: (the web service serves exactly these names next to the report).
PREVIEW_DIR = "preview"
PREVIEW_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}\.wav$")
#: A preview whose true peak (as played) is above this is flagged, never clipped.
PREVIEW_MAX_TRUE_PEAK_DBTP = -1.0
_MATCH_TOLERANCE_LU = 0.001


@dataclasses.dataclass(frozen=True)
class Preview:
    """One version of the report's A/B player, as written by :func:`write_previews`.

    label : "before", "after", "reference", "reference 1", ...
    path : the file, relative to the result folder (``"preview/after.wav"``).
    original_lufs : the version's own integrated loudness (LUFS).
    gain_db : the gain applied for the comparison (dB; 0 or negative).
    lufs : its integrated loudness as played (the common loudness, LUFS).
    true_peak_dbtp : its true peak as played (dBTP); see :attr:`over`.
    duration_s : its length (s).
    subtype : how the WAV stores samples ("PCM_16", or "FLOAT" where the audio exceeds full scale).
    """

    label: str
    path: str
    original_lufs: float
    gain_db: float
    lufs: float
    true_peak_dbtp: float
    duration_s: float
    subtype: str = "PCM_16"

    @property
    def over(self) -> bool:
        """True when the version still exceeds -1 dBTP as played (it is flagged, not clipped)."""
        return self.true_peak_dbtp > PREVIEW_MAX_TRUE_PEAK_DBTP

    @property
    def note(self) -> str:
        """``"after: -14.0 LUFS, played -6.2 dB for the comparison"``."""
        played = ("played as it is (0.0 dB)" if abs(self.gain_db) < 0.05
                  else f"played {self.gain_db:+.1f} dB")
        text = f"{self.label}: {self.original_lufs:.1f} LUFS, {played} for the comparison"
        if self.over:
            text += (f"; true peak {self.true_peak_dbtp:+.1f} dBTP as played, above "
                     f"{PREVIEW_MAX_TRUE_PEAK_DBTP:g} dBTP: it may distort (not clipped here)")
        return text

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "over": self.over}


def comparison_tracks(before: np.ndarray, after: np.ndarray,
                      references: Iterable[np.ndarray] = ()) -> dict[str, np.ndarray]:
    """The labelled versions of the A/B player: ``{"before", "after"}`` and ``"reference"`` for
    one reference, ``"reference 1"``, ``"reference 2"``, ... for several (all at one rate)."""
    tracks = {"before": before, "after": after}
    references = list(references)
    for k, reference in enumerate(references, 1):
        tracks["reference" if len(references) == 1 else f"reference {k}"] = reference
    return tracks


def preview_slug(label: str) -> str:
    """File stem of a version's preview: ``"reference 2"`` -> ``"reference-2"``."""
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:62]
    if not slug:
        raise ParameterError(f"the version label {label!r} needs a letter or a digit (it names "
                             f"its file {PREVIEW_DIR}/<label>.wav)")
    return slug


def _matched(tracks: Mapping, sr: int):
    """``{label: (signal, cache, gain_db, original_lufs)}`` with every version at the quietest's
    integrated loudness; the gain is refined on the gated block powers, so blocks that cross the
    -70 LUFS absolute gate under the gain do not leave a version off the common loudness."""
    from .audio.signal import as_signal
    from .loudness import LoudnessCache

    if not tracks:
        raise ParameterError("loudness matching needs at least one track, e.g. "
                             "{'before': input_mix, 'after': mix}")
    caches, original, signals = {}, {}, {}
    for label, audio in tracks.items():
        signals[label] = as_signal(audio, sr, name=f"the {label!r} track")
        try:
            cache = LoudnessCache(signals[label], sr)
        except AudioContentError as exc:
            raise AudioContentError(f"the {label!r} track: {exc}") from None
        lufs = cache.integrated_lufs()
        if not math.isfinite(lufs):
            raise AudioContentError(f"the {label!r} track is silent (no 400 ms block above the "
                                    f"-70 LUFS gate): it has no loudness to match; leave it out")
        caches[label], original[label] = cache, lufs
    common = min(original.values())
    out = {}
    for label, cache in caches.items():
        gain = common - original[label]
        for _ in range(8):  # a few Newton steps at most; one where no block crosses the gate
            error = common - cache.integrated_lufs(gain)
            if not math.isfinite(error) or abs(error) <= _MATCH_TOLERANCE_LU:
                break
            gain += error
        out[label] = (signals[label], cache, gain, original[label])
    return out


def loudness_matched(tracks: Mapping,
                     sr: int) -> dict[str, tuple[np.ndarray, float, float]]:
    """Every version at one integrated loudness, for a fair comparison.

    Parameters
    ----------
    tracks : ``{label: np.ndarray [shape=(channels, samples)] or Signal}``, e.g. ``{"before": input_mix,
        "after": mix, "reference": ref}`` (see :func:`comparison_tracks`); lengths and channel
        counts may differ, the sample rate may not (resample a reference first).
    sr : sample rate (Hz).

    Returns
    -------
    ``{label: (audio, gain_db, original_lufs)}`` in the order given: ``audio`` (float32) is the
    version gained by ``gain_db`` to the quietest version's integrated loudness (BS.1770-4), so
    nothing is raised and nothing clips that did not already; ``original_lufs`` is its own
    loudness. A version that still exceeds -1 dBTP is left as it is (never clipped):
    :func:`write_previews` flags it (:attr:`Preview.over`).

    Raises :class:`~mixassist.errors.AudioContentError` naming a silent track.
    """
    out = {}
    for label, (signal, _, gain, lufs) in _matched(tracks, sr).items():
        out[label] = ((signal.to_array() * np.float32(10.0 ** (gain / 20.0))).astype(np.float32),
                      float(gain), float(lufs))
    return out


def write_previews(folder: str | Path, tracks: Mapping, sr: int) -> list[Preview]:
    """Write the A/B player's loudness-matched versions to ``folder/preview/<slug>.wav``.

    ``tracks`` as for :func:`loudness_matched`; ``folder`` is the result folder (the caller's
    atomic temporary one: each file is also written atomically). Returns the
    :class:`Preview` of each version, in order, for :func:`render_report`.

    The files are 16-bit PCM WAV: a preview is only listened to, 16 bits keep its noise floor
    about 96 dB below full scale (more than 60 dB under even a -30 LUFS version), every browser
    decodes it, and it is half the size of the 32-bit float ``mix.wav``. A version whose samples
    exceed full scale (possible only where the quietest version already did, since nothing is
    raised) is written as 32-bit float instead, so the file never clips it. Tracks may be
    signals (:mod:`mixassist.audio.signal`): they are read and written block by block.
    """
    from .audio.signal import write_signal

    slugs = [preview_slug(label) for label in tracks]
    if len(set(slugs)) < len(slugs):
        raise ParameterError(f"the version labels {list(tracks)} give the same file name twice; "
                             f"make them differ in a letter or a digit")
    matched = _matched(tracks, sr)
    target = Path(folder) / PREVIEW_DIR
    target.mkdir(parents=True, exist_ok=True)
    previews = []
    for slug, (label, (signal, cache, gain, lufs)) in zip(slugs, matched.items()):
        played = cache.report(gain)
        subtype = "FLOAT" if played["sample_peak_dbfs"] > 0.0 else "PCM_16"
        write_signal(target / f"{slug}.wav", signal, subtype=subtype,
                     gain=float(10.0 ** (gain / 20.0)))
        previews.append(Preview(label=label, path=f"{PREVIEW_DIR}/{slug}.wav",
                                original_lufs=float(lufs), gain_db=float(gain),
                                lufs=float(played["integrated_lufs"]),
                                true_peak_dbtp=float(played["true_peak_dbtp"]),
                                duration_s=float(played["duration_s"]), subtype=subtype))
    return previews


#: The A/B player's script (plain, inline). One transport (play/pause, position slider) drives
#: the active version; choosing another pauses the active one, moves the new one to the same
#: ``currentTime`` and, if playback was running, starts it, so only one version is ever audible.
#: Under the web service a ``?token=`` of the page is passed on to the audio files and links.
_AB_JS = """(() => {
  const root = document.getElementById('ab');
  const players = Array.from(root.querySelectorAll('audio'));
  const choices = Array.from(root.querySelectorAll('button[data-version]'));
  const play = document.getElementById('ab-play');
  const position = document.getElementById('ab-position');
  const clock = document.getElementById('ab-time');
  const now = document.getElementById('ab-now');
  const token = new URLSearchParams(location.search).get('token');
  if (token) {
    const q = '?token=' + encodeURIComponent(token);
    players.forEach(p => { p.src = p.getAttribute('src') + q; });
    root.querySelectorAll('a[href]').forEach(a => { a.href = a.getAttribute('href') + q; });
  }
  let active = players[0];
  const fmt = s => isFinite(s) ? Math.floor(s / 60) + ':' + String(Math.floor(s % 60)).padStart(2, '0') : '-:--';
  function show() {
    play.textContent = active.paused ? 'Play' : 'Pause';
    if (isFinite(active.duration)) position.max = active.duration;
    position.value = active.currentTime;
    clock.textContent = fmt(active.currentTime) + ' / ' + fmt(active.duration);
    now.textContent = active.dataset.note;
    choices.forEach(b => b.setAttribute('aria-pressed', String(b.dataset.version === active.dataset.version)));
  }
  function choose(version) {
    const next = players.find(p => p.dataset.version === version);
    if (!next || next === active) return;
    const time = active.currentTime, playing = !active.paused;
    active.pause();
    next.currentTime = isFinite(next.duration) ? Math.min(time, next.duration) : time;
    active = next;
    if (playing) next.play();
    show();
  }
  players.forEach(p => {
    p.addEventListener('play', () => players.forEach(o => { if (o !== p) o.pause(); }));
    for (const e of ['play', 'pause', 'ended', 'timeupdate', 'loadedmetadata', 'seeked'])
      p.addEventListener(e, () => { if (p === active) show(); });
  });
  choices.forEach(b => b.addEventListener('click', () => choose(b.dataset.version)));
  play.addEventListener('click', () => { if (active.paused) active.play(); else active.pause(); });
  position.addEventListener('input', () => { active.currentTime = Number(position.value); });
  show();
})();"""

_PLAIN_FILES = ('<p>The files at their own level, unmatched: '
                '<a href="input.wav" download>input.wav</a> (before, the input as it came) and '
                '<a href="mix.wav" download>mix.wav</a> (after, mixassist).</p>')


def _duration(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


def _listen_section(previews: list[Preview] | None) -> str:
    """The "Listen" section: the A/B player of ``previews``, or (None) two plain players."""
    if previews is None:
        return ('<h2>Listen</h2><p>Before (the input as it came): '
                '<audio controls src="input.wav"></audio></p>\n'
                '<p>After (mixassist): <audio controls src="mix.wav"></audio></p>')
    if not previews:
        raise ParameterError("the A/B player needs at least one preview (see write_previews), "
                             "or previews=None for the plain players")
    common = min(p.lufs for p in previews)
    longest = max(p.duration_s for p in previews)
    e = html.escape
    buttons, players, rows = [], [], []
    for k, p in enumerate(previews):
        slug = e(Path(p.path).stem)
        name = e(p.label[:1].upper() + p.label[1:])
        buttons.append(f'<button type="button" data-version="{slug}" '
                       f'aria-pressed="{"true" if k == 0 else "false"}">{name}</button>')
        players.append(f'<audio id="ab-{slug}" data-version="{slug}" data-note="{e(p.note)}" '
                       f'preload="auto" src="{e(p.path)}"></audio>')
        rows.append([p.label, f"{p.original_lufs:.1f}", f"{p.gain_db:+.1f}", f"{p.lufs:.1f}",
                     f"{p.true_peak_dbtp:+.1f}" + (" (above -1 dBTP: may distort)" if p.over
                                                   else "")])
    table = _table(["version", "own loudness (LUFS)", "gain for the comparison (dB)",
                    "as played (LUFS)", "true peak as played (dBTP)"], rows)
    links = ", ".join(f'<a href="{e(p.path)}">{e(p.label)}</a>' for p in previews)
    return f"""<h2>Listen</h2><div id="ab">
<p class="ab-note">Louder always sounds better: a version played a few dB louder seems fuller,
brighter and closer even when it is not the better mix. So every version here plays at one
integrated loudness, {common:.1f} LUFS (the quietest one's, so nothing is raised into clipping),
and each shows its own loudness and the true gain applied for the comparison. One click switches
the version you hear at the same playback time (in an edited version, a radio edit or a loop,
the same time is not the same point of the song).</p>
<div class="ab-choices" role="group" aria-label="version">{"".join(buttons)}</div>
<div class="ab-transport"><button type="button" id="ab-play">Play</button>
<input type="range" id="ab-position" min="0" max="{longest:.2f}" step="0.01" value="0"
aria-label="position"> <span id="ab-time">0:00 / {_duration(previews[0].duration_s)}</span></div>
<p id="ab-now" aria-live="polite">{e(previews[0].note)}</p>
{"".join(players)}
{table}
<noscript><p>The player needs JavaScript; the matched files: {links}.</p></noscript>
{_PLAIN_FILES}
</div><script>{_AB_JS}</script>"""


def _reference_section(plan) -> str:
    """The moves toward the references (``plan.extra["reference"]``), or nothing without any."""
    summary = plan.extra.get("reference")
    if not summary:
        return ""
    rows = [[unit, ", ".join(u["stems"]), _fmt(u["level_db"]), _fmt(u["reference_level_db"]),
             format(u["spread_db"], ".1f"), _fmt(u["gain_db"])]
            for unit, u in summary["units"].items()]
    warnings = "".join(f"<li>{html.escape(w)}</li>" for w in summary.get("warnings", []))
    names = ", ".join(html.escape(n) for n in summary["references"])
    return (f"<h2>Toward the references</h2><p>References: {names}. Levels in LU re the mix; "
            "spread: standard deviation over the references that have the part.</p>"
            + _table(["part", "stems", "here", "references", "spread", "gain"], rows)
            + (f"<p>Warnings:</p><ul>{warnings}</ul>" if warnings else "")
            + "<p>Their tonal balance is drawn with the song's under Tonal balance.</p>")


def render_report(result, *, input_mix: np.ndarray, previews: list[Preview] | None = None) -> str:
    """The report page of a :class:`mixassist.assistant.MixResult` as HTML text.

    ``previews`` (from :func:`write_previews`, files next to the report) make the "Listen"
    section an A/B player of the loudness-matched versions; None gives two plain players of
    ``input.wav`` and ``mix.wav``.
    """

    analysis, plan, sr = result.analysis, result.plan, result.sr
    before, after = result.input_loudness, result.output_loudness
    input_stats = _mix_stats(input_mix, sr)  # one pass serves the check and the tonal plot
    check = _check(input_stats, before, analysis)
    platforms = [[t.name, f"{t.lufs:g} / {t.true_peak_dbtp:g}",
                  f"{before['integrated_lufs']:.1f} / {before['true_peak_dbtp']:+.1f}",
                  f"{after['integrated_lufs']:.1f} / {after['true_peak_dbtp']:+.1f}",
                  f"{t.lufs - after['integrated_lufs']:+.1f} dB"] for t in PRESETS.values()]
    levels = [[s.name, s.instrument, s.role, s.source, _fmt(s.level_db), _fmt(s.target_level_db),
               _fmt(plan.stems[s.name].gain_db) if s.name in plan.stems else "-"]
              for s in analysis.stems]
    band_before, band_after = _octave_levels(input_stats), octave_balance(result.mix, sr)

    def tonal(ax):
        x = np.arange(len(OCTAVES_HZ))
        ax.plot(x, band_before, "o-", label="input")
        ax.plot(x, band_after, "o-", label="mix")
        for name, (audio, rate) in getattr(result, "references", {}).items():
            ax.plot(x, octave_balance(audio, rate), "o--", label=f"reference: {name}")
        ax.set_xticks(x, [f"{f:g}" for f in OCTAVES_HZ])
        ax.set_xlabel("octave band (Hz)")
        ax.set_ylabel("dB re total")
        ax.legend()

    def stem_levels(ax):
        names = [s.name for s in analysis.stems]
        x = np.arange(len(names))
        ax.bar(x - 0.2, [s.level_db or np.nan for s in analysis.stems], 0.4, label="current")
        ax.bar(x + 0.2, [s.target_level_db or np.nan for s in analysis.stems], 0.4,
               label="target")
        ax.set_xticks(x, names)
        ax.set_ylabel("LU re mix")
        ax.legend()

    def masking_map(ax):
        names = [s.name for s in analysis.stems]
        grid = np.full((len(names), len(names)), np.nan)
        for m in analysis.masking:
            if m.masker in names and m.target in names:
                grid[names.index(m.masker), names.index(m.target)] = 100 * m.masked_fraction
        image = ax.imshow(grid, cmap="Reds", vmin=0, vmax=100)
        ax.set_xticks(range(len(names)), names, rotation=30)
        ax.set_yticks(range(len(names)), names)
        ax.set_xlabel("masked stem")
        ax.set_ylabel("masking stem")
        ax.figure.colorbar(image, ax=ax, label="% of active time masked")

    def timeline(ax):
        names = [s.name for s in analysis.stems]
        for row, stem in enumerate(analysis.stems):
            ax.broken_barh([(r.start_s, r.end_s - r.start_s) for r in stem.activity],
                           (row - 0.35, 0.7), color="tab:blue")
        for section in analysis.sections:
            ax.axvline(section.start_s, color="0.3", lw=0.8)
            ax.text(section.start_s, len(names) - 0.4, f" {section.label}", fontsize=8)
        ax.set_yticks(range(len(names)), names)
        ax.set_xlim(0, analysis.duration_s)
        ax.set_ylim(-0.6, len(names) + 0.2)
        ax.set_xlabel("time (s)")

    sections = [[f"{s.start_s:.1f}", f"{s.end_s:.1f}", s.label, _extra(s).get("letter", ""),
                 _extra(s).get("label_reason", ""), ", ".join(s.stems or [])]
                for s in analysis.sections]
    decisions = "".join(
        f"<h3>{html.escape(name)}</h3><ul>"
        + "".join(f"<li>{html.escape(r)}</li>" for r in stem.reasons) + "</ul>"
        for name, stem in plan.stems.items())
    master = "".join(f"<li>{html.escape(r)}</li>" for r in plan.master.reasons)
    arrangement = "".join(f"<li>{html.escape(str(r))}</li>"
                          for r in getattr(plan.arrangement, "reasons", []) or [])
    check_rows = [[status.upper(), finding, suggestion] for status, finding, suggestion in check]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mixassist report: {html.escape(result.name)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:left}}
th{{background:#f4f4f4}}img{{max-width:100%}}
#ab button{{font:inherit;padding:.3em .9em;margin:0 .3em .3em 0;border:1px solid #888;
border-radius:.3em;background:#fff}}
#ab button[aria-pressed=true]{{background:#246;color:#fff;border-color:#246}}
.ab-transport{{display:flex;align-items:center;gap:.6em}}#ab-position{{flex:1}}
.ab-note{{color:#444}}</style></head><body>
<h1>mixassist report: {html.escape(result.name)}</h1>
<p>Target: {html.escape(plan.target.name)} ({plan.target.lufs:g} LUFS, true peak
&le; {plan.target.true_peak_dbtp:g} dBTP). Version: {html.escape(plan.arrangement.version)}.
Sample rate {sr} Hz, {analysis.duration_s:.1f} s, tempo {_tempo(analysis)},
key {html.escape(str(analysis.key))}.</p>
<h2>Mix check of the input</h2>{_table(["status", "finding", "suggestion"], check_rows)}
{_listen_section(previews)}
{_reference_section(plan)}
<h2>Loudness against every platform (LUFS / dBTP)</h2>
{_table(["platform", "target", "input", "mix", "platform gain on the mix"], platforms)}
<h2>Stem levels (LU relative to the mix)</h2>
{_table(["stem", "instrument", "role", "labelled by", "current", "target", "gain"], levels)}
<img alt="stem levels" src="{_figure_png(stem_levels)}">
<h2>Tonal balance</h2><img alt="tonal balance" src="{_figure_png(tonal)}">
<h2>Masking map</h2><p>How much of each stem's active time another stem masks it (critical bands,
masker-to-signal ratio; cuts on the masking stems are in the decisions below).</p>
<img alt="masking map" src="{_figure_png(masking_map)}">
<h2>Sections and arrangement</h2><img alt="timeline" src="{_figure_png(timeline)}">
{_table(["start (s)", "end (s)", "label", "letter", "why this label", "stems playing"], sections)}
{_naming_note(analysis.sections)}
<h2>Decisions</h2>{decisions}<h3>master</h3><ul>{master}</ul>
<h3>arrangement</h3><ul>{arrangement or "<li>as the song is</li>"}</ul>
</body></html>
"""


def _naming_note(sections) -> str:
    """What the letters mean, when a section carries one for its label (no section name the
    evidence supports; the table's "why this label" says why); empty when every one is named."""
    if all(s.label in SECTION_LABELS for s in sections):
        return ""
    return ("<p>A section is named (verse, chorus, ...) only where the evidence supports the "
            "name; the others carry letters: the same letter is the same material, A' a varied "
            "repeat of A.</p>")


def _extra(section) -> dict:
    """A section's extension fields (``letter``, ``label_reason``; none in older files)."""
    return getattr(section, "extra", None) or {}


def write_report(path: str | Path, result, *, input_mix: np.ndarray,
                 previews: list[Preview] | None = None) -> Path:
    """Write ``report.html`` for ``result`` atomically (``previews``: see :func:`render_report`)."""
    write_text_atomic(path, render_report(result, input_mix=input_mix, previews=previews))
    return Path(path)
