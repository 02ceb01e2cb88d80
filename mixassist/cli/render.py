"""``mixassist render PLAN.json --stems DIR -o OUT``: render an (edited) plan again."""

from __future__ import annotations

import warnings
from pathlib import Path

import typer

from ..errors import MixAssistWarning, PlanError
from ..utils.atomic import work_folder
from .app import app, console, progress_bar


@app.command()
def render(
    plan_file: Path = typer.Argument(..., help="plan.json, as written by `mixassist mix` and "
                                               "edited by hand."),
    stems: Path = typer.Option(..., "--stems", help="Folder with one audio file per plan stem "
                                                    "(the unprocessed stems)."),
    out: Path = typer.Option(..., "-o", "--out", help="Output folder: mix.wav, stems/, plan.json."),
    max_limiting_db: float = typer.Option(6.0, "--max-limiting-db",
                                          help="Most peak limiting (dB) used to reach the target."),
) -> None:
    """Render PLAN_FILE on the stems in --stems: writes OUT/mix.wav, OUT/stems/<name>.wav
    (processed) and OUT/plan.json (the plan as rendered)."""
    try:
        text = plan_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(f"{plan_file}: cannot read the plan ({exc})") from None
    with work_folder(out) as work:
        _render(plan_file, text, stems, out, work, max_limiting_db)


def _render(plan_file: Path, text: str, stems: Path, out: Path, work: Path,
            max_limiting_db: float) -> None:
    """The render command with a work folder: the stems stream from their files, the render
    into ``work``, then into ``out``."""
    from ..audio.stems import save_mix_folder, stem_signals
    from ..planning.plan import Plan
    from ..rendering.render import render as render_plan

    try:
        plan = Plan.from_json(text)
        audio, sr = stem_signals(stems, work / "converted")
        if sr != plan.sample_rate:
            warnings.warn(f"{plan_file}: plan is for {plan.sample_rate} Hz but the stems are "
                          f"{sr} Hz; rendering at {sr} Hz", MixAssistWarning, stacklevel=1)
            plan.sample_rate = sr
            plan.validate()
        with progress_bar(f"rendering {plan_file.name}") as bar:
            result = render_plan(plan, audio, sr, progress=bar, max_limiting_db=max_limiting_db,
                                 out_dir=work / "rendered")
    except PlanError as exc:
        raise PlanError(f"{plan_file}: {exc}") from None
    save_mix_folder(out, result.mix, result.stems_processed, sr, result.plan.to_json())
    for reason in result.mastering.reasons:
        console.print(reason, markup=False, highlight=False)
    console.print(f"{plan_file.name} -> {out}/ (mix.wav, {len(result.stems_processed)} stems, "
                  "plan.json)", highlight=False)
