"""``report.html``: a self-contained page (inline images) that explains a mix to a producer.

It opens with a mix check of the input (clipping, true-peak overs, loudness against every
platform, dynamics, mono compatibility, stereo balance, muddy or harsh bands, lead level), each
with a concrete suggestion; then loudness before/after against every platform, stem levels
(current vs target), tonal balance before/after, the sections, and every plan decision with its
reason.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import numpy as np

from .planning.targets import PRESETS
from .utils.atomic import write_text_atomic

#: Octave bands used for the tonal balance (Hz, centres).
OCTAVES_HZ = (31.5, 63, 125, 250, 500, 1000, 2000, 4000, 8000, 16000)


def octave_balance(audio: np.ndarray, sr: int) -> np.ndarray:
    """Octave-band levels (dB re the total power) of ``(channels, samples)`` audio."""
    mono = audio.mean(axis=0)
    n = 1 << 14
    frames = max(1, len(mono) // n)
    window = np.hanning(n)
    power = np.zeros(n // 2 + 1)
    for k in range(frames):
        seg = mono[k * n:(k + 1) * n]
        if len(seg) < n:
            seg = np.pad(seg, (0, n - len(seg)))
        power += np.abs(np.fft.rfft(seg * window)) ** 2
    freqs = np.fft.rfftfreq(n, 1 / sr)
    total = power.sum() + 1e-30
    out = []
    for centre in OCTAVES_HZ:
        band = (freqs >= centre / np.sqrt(2)) & (freqs < centre * np.sqrt(2))
        out.append(10 * np.log10(power[band].sum() / total + 1e-12))
    return np.array(out)


def mix_check(audio: np.ndarray, sr: int, loudness: dict, analysis) -> list[tuple[str, str, str]]:
    """Findings on the input mix: ``[(status, finding, suggestion)]``, status ok/warn/problem."""

    rows = []
    clipped = int(np.sum(np.abs(audio) >= 0.999))
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
    mono_loss = _mono_loss_db(audio)
    rows.append(("problem" if corr < 0 else "warn" if mono_loss > 3 else "ok",
                 f"stereo correlation {corr:+.2f}; mono fold-down changes the level by "
                 f"{-mono_loss:+.1f} dB",
                 "parts are out of phase: check polarity and stereo wideners" if corr < 0 else
                 "check the mix in mono: wide elements lose level" if mono_loss > 3 else "-"))
    if audio.shape[0] >= 2:
        left, right = (10 * np.log10(np.mean(c ** 2) + 1e-20) for c in audio[:2])
        rows.append(("warn" if abs(left - right) > 1.5 else "ok",
                     f"left/right balance {left - right:+.1f} dB",
                     "re-centre the mix: one side is clearly louder" if abs(left - right) > 1.5
                     else "-"))
    bands = octave_balance(audio, sr)
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


def _mono_loss_db(audio: np.ndarray) -> float:
    """How many dB quieter the mono fold-down is than the stereo mix (power per channel)."""
    if audio.shape[0] < 2:
        return 0.0
    stereo = np.mean(audio[:2] ** 2)
    mono = np.mean(((audio[0] + audio[1]) / 2) ** 2)
    return float(10 * np.log10((stereo + 1e-20) / (mono + 1e-20)))


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


def render_report(result, *, input_mix: np.ndarray) -> str:
    """The report page of a :class:`mixassist.assistant.MixResult` as HTML text."""

    analysis, plan, sr = result.analysis, result.plan, result.sr
    before, after = result.input_loudness, result.output_loudness
    check = mix_check(input_mix, sr, before, analysis)
    platforms = [[t.name, f"{t.lufs:g} / {t.true_peak_dbtp:g}",
                  f"{before['integrated_lufs']:.1f} / {before['true_peak_dbtp']:+.1f}",
                  f"{after['integrated_lufs']:.1f} / {after['true_peak_dbtp']:+.1f}",
                  f"{t.lufs - after['integrated_lufs']:+.1f} dB"] for t in PRESETS.values()]
    levels = [[s.name, s.instrument, s.role, s.source, _fmt(s.level_db), _fmt(s.target_level_db),
               _fmt(plan.stems[s.name].gain_db) if s.name in plan.stems else "-"]
              for s in analysis.stems]
    band_before, band_after = octave_balance(input_mix, sr), octave_balance(result.mix, sr)

    def tonal(ax):
        x = np.arange(len(OCTAVES_HZ))
        ax.plot(x, band_before, "o-", label="input")
        ax.plot(x, band_after, "o-", label="mix")
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

    sections = [[f"{s.start_s:.1f}", f"{s.end_s:.1f}", s.label,
                 ", ".join(s.stems or [])] for s in analysis.sections]
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
th{{background:#f4f4f4}}img{{max-width:100%}}</style></head><body>
<h1>mixassist report: {html.escape(result.name)}</h1>
<p>Target: {html.escape(plan.target.name)} ({plan.target.lufs:g} LUFS, true peak
&le; {plan.target.true_peak_dbtp:g} dBTP). Version: {html.escape(plan.arrangement.version)}.
Sample rate {sr} Hz, {analysis.duration_s:.1f} s, tempo {_fmt(analysis.tempo_bpm, '.1f')} BPM,
key {html.escape(str(analysis.key))}.</p>
<h2>Mix check of the input</h2>{_table(["status", "finding", "suggestion"], check_rows)}
<h2>Listen</h2><p>Before (the input as it came): <audio controls src="input.wav"></audio></p>
<p>After (mixassist): <audio controls src="mix.wav"></audio></p>
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
{_table(["start (s)", "end (s)", "label", "stems playing"], sections)}
<h2>Decisions</h2>{decisions}<h3>master</h3><ul>{master}</ul>
<h3>arrangement</h3><ul>{arrangement or "<li>as the song is</li>"}</ul>
</body></html>
"""


def write_report(path: str | Path, result, *, input_mix: np.ndarray) -> Path:
    """Write ``report.html`` for ``result`` atomically."""
    write_text_atomic(path, render_report(result, input_mix=input_mix))
    return Path(path)
