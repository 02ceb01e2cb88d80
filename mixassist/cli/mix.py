"""``mixassist mix`` and ``mixassist analyze``: the assistant's main jobs."""

from __future__ import annotations

from pathlib import Path

import typer

from ..utils.atomic import work_folder, write_text_atomic
from . import options
from .app import app, console, progress_bar


def _check_input(path: Path) -> None:
    """Fail early, with the file named, on a missing or unusable input."""
    from ..audio.io import check_file
    from ..audio.stems import stem_files

    if path.is_dir():
        stem_files(path)
    else:
        check_file(path)


def _progress(bar):
    return lambda step, done, total: bar(done, total, step)


@app.command()
def mix(
    source: Path = typer.Argument(..., help="A song file (separated first) or a folder of stems."),
    out: Path = typer.Option(..., "-o", "--out", help="Output folder; results go to OUT/<name>/."),
    target: str = options.TARGET,
    focus: str = options.FOCUS,
    amount: float = options.AMOUNT,
    version: str = options.VERSION,
    length: float = typer.Option(210.0, "--length", help="Length of the radio version, seconds."),
    bars: int = typer.Option(8, "--bars", help="Length of the loop version, bars."),
    dj_bars: int = typer.Option(16, "--dj-bars", help="DJ intro/outro of the extended version: "
                                                      "16 or 32 bars."),
    plan: Path = typer.Option(None, "--plan", help="Apply a saved or edited plan.json."),
    reference: list[Path] = typer.Option(
        None, "--reference", help="A song (file or stem folder) to mix toward: its stem balance "
                                  "and tonal balance; repeat for several (averaged)."),
    export: str = typer.Option(None, "--export", help="Also write a DAW session: reaper "
                                                      "(session.rpp) or stems-zip (stems.zip)."),
    model: str = options.MODEL,
    analysis_model: str = options.ANALYSIS_MODEL,
    device: str = options.DEVICE,
) -> None:
    """Analyse SOURCE, predict a mix and arrangement, render and master it.

    Writes OUT/<name>/ with mix.wav, stems/*.wav (processed), analysis.json, plan.json and
    report.html (and session.rpp or stems.zip with --export).
    """
    from ..assistant import MixAssistant
    from ..options import MixOptions

    _check_input(source)
    assistant = MixAssistant(MixOptions(
        separation_model=model, analysis_model=analysis_model, device=device, target=target, focus=focus, amount=amount,
        version=version, radio_length_s=length, loop_bars=bars, dj_bars=dj_bars,
        references=tuple(str(r) for r in reference or ()), export=export))
    with progress_bar(f"mixing {source.name}") as bar:
        result = assistant.process(source, out_dir=out, plan_file=plan, progress=_progress(bar))
    after = result.output_loudness
    console.print(f"{source.name} -> {result.folder}/ (mix {after['integrated_lufs']:.1f} LUFS, "
                  f"true peak {after['true_peak_dbtp']:+.1f} dBTP)", highlight=False)


@app.command()
def analyze(
    source: Path = typer.Argument(..., help="A song file (separated first) or a folder of stems."),
    out: Path = typer.Option(..., "-o", "--out", help="The analysis JSON file to write."),
    model: str = options.MODEL,
    analysis_model: str = options.ANALYSIS_MODEL,
    device: str = options.DEVICE,
) -> None:
    """Analyse SOURCE (tempo, beats, key, sections, loudness, every stem) into a JSON file."""
    from ..assistant import MixAssistant
    from ..options import MixOptions

    _check_input(source)
    assistant = MixAssistant(MixOptions(separation_model=model, analysis_model=analysis_model,
                                        device=device))
    # the stems stream through a work folder beside the output, so memory stays flat
    with progress_bar(f"analysing {source.name}") as bar, work_folder(out.parent) as work:
        analysis = assistant.analysed(source, progress=_progress(bar), work=work)[3]
    write_text_atomic(out, analysis.to_json() + "\n")
    console.print(f"{source.name} -> {out}", highlight=False)
