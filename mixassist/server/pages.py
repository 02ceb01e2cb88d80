"""The two HTML pages: upload (drag and drop) and job (live progress, players, report, downloads).

Plain HTML with a little inline JavaScript; no build step. Both pages talk to the JSON API only,
passing on the ``?token=`` they were opened with.
"""

from __future__ import annotations

import html
import json

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:58rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.5rem} label{display:block;margin:.6rem 0 .2rem}
#drop{border:2px dashed #888;border-radius:8px;padding:2rem;text-align:center;cursor:pointer}
#drop.over{background:#eef6ff;border-color:#2a7ae2}
.error{color:#b00020;white-space:pre-wrap} .muted{color:#666}
progress{width:100%;height:1.2rem} iframe{width:100%;height:40rem;border:1px solid #ccc}
button{margin-top:1rem;padding:.5rem 1.5rem;font-size:1rem}
"""

_API_JS = """
const TOKEN = new URLSearchParams(location.search).get('token');
const withToken = (url) => TOKEN ? url + (url.includes('?') ? '&' : '?') + 'token=' +
  encodeURIComponent(TOKEN) : url;
const headers = () => TOKEN ? {'Authorization': 'Bearer ' + TOKEN} : {};
"""


def _options(values, default: str) -> str:
    return "".join(f'<option value="{html.escape(v)}"{" selected" * (v == default)}>'
                   f"{html.escape(v)}</option>" for v in values)


_AUDIO_ACCEPT = ".wav,.flac,.aif,.aiff,.ogg,.opus,.mp3"


def upload_page(*, targets: list[str], versions: list[str], max_upload_mb: float,
                max_duration_s: float, exports: tuple[str, ...] = ("reaper", "stems-zip"),
                max_references: int = 3) -> str:
    """The upload page: one song file or a .zip of stems, the mix options, optional reference
    songs (sent as repeated ``reference`` fields) and a DAW export."""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>mixassist</title><style>{_STYLE}</style></head><body>
<h1>mixassist: mix a song</h1>
<form id="form">
<div id="drop" tabindex="0">Drop a song (WAV, FLAC, AIFF, OGG, MP3) or a <b>.zip of stems</b> here,
or click to choose.<br><span id="chosen" class="muted">no file chosen</span></div>
<input id="file" name="file" type="file" hidden accept="{_AUDIO_ACCEPT},.zip">
<p class="muted">Limits: {max_upload_mb:g} MB, {max_duration_s:g} s of audio. A song file needs a
separation model on the server; a zip of stems (one file per stem, e.g. vocals.wav) does not.</p>
<label for="target">Loudness target</label><select id="target" name="target">
{_options(targets, "spotify")}</select>
<label for="focus">Keep in front (focus)</label>
<input id="focus" name="focus" placeholder="e.g. vocals (optional)" maxlength="40">
<label for="version">Version</label><select id="version" name="version">
{_options(versions, "full")}</select>
<label for="amount">Amount of processing: <span id="amountv">1.00</span></label>
<input id="amount" name="amount" type="range" min="0" max="1" step="0.05" value="1">
<label for="references">Reference songs (optional, up to {max_references})</label>
<input id="references" name="reference" type="file" multiple accept="{_AUDIO_ACCEPT},.zip">
<span class="muted">finished songs to mix toward, at least 10 s each</span>
<label for="export">Export for a DAW</label><select id="export" name="export">
<option value="none" selected>none</option>{_options(exports, "")}</select>
<br><button id="go" type="submit">Upload and mix</button>
</form>
<p id="status" class="muted"></p><p id="error" class="error"></p>
<p class="muted"><a href="/docs">REST API (OpenAPI)</a></p>
<script>{_API_JS}
const MAX_REFERENCES = {int(max_references)};
const drop = document.getElementById('drop'), input = document.getElementById('file');
let chosen = null;
const choose = (f) => {{ chosen = f; document.getElementById('chosen').textContent = f ? f.name : 'no file chosen'; }};
drop.onclick = () => input.click();
input.onchange = () => choose(input.files[0]);
drop.ondragover = (e) => {{ e.preventDefault(); drop.classList.add('over'); }};
drop.ondragleave = () => drop.classList.remove('over');
drop.ondrop = (e) => {{ e.preventDefault(); drop.classList.remove('over'); choose(e.dataTransfer.files[0]); }};
const amount = document.getElementById('amount');
amount.oninput = () => document.getElementById('amountv').textContent = Number(amount.value).toFixed(2);
document.getElementById('form').onsubmit = async (e) => {{
  e.preventDefault();
  const err = document.getElementById('error'), status = document.getElementById('status');
  err.textContent = '';
  if (!chosen) {{ err.textContent = 'Choose a file first.'; return; }}
  const refs = Array.from(document.getElementById('references').files);
  if (refs.length > MAX_REFERENCES) {{
    err.textContent = 'Choose at most ' + MAX_REFERENCES + ' reference songs.'; return;
  }}
  const body = new FormData();
  for (const k of ['target', 'focus', 'version', 'amount', 'export']) body.append(k, document.getElementById(k).value);
  body.append('file', chosen, chosen.name);
  for (const ref of refs) body.append('reference', ref, ref.name);
  status.textContent = 'Uploading and checking ' + chosen.name + '...';
  document.getElementById('go').disabled = true;
  try {{
    const r = await fetch(withToken('/api/jobs'), {{method: 'POST', body, headers: headers()}});
    const j = await r.json();
    if (!r.ok) throw new Error(j.detail || r.statusText);
    location.href = withToken('/jobs/' + encodeURIComponent(j.id));
  }} catch (x) {{
    status.textContent = ''; err.textContent = 'Refused: ' + x.message;
    document.getElementById('go').disabled = false;
  }}
}};
</script></body></html>"""


def job_page(job_id: str, display_name: str) -> str:
    """The job page: polls the job's JSON, then shows players, the report and downloads."""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{html.escape(display_name)} - mixassist</title><style>{_STYLE}</style></head><body>
<h1>{html.escape(display_name)}</h1>
<p id="state">loading...</p><progress id="bar" max="1" value="0"></progress>
<p id="error" class="error"></p>
<div id="results" hidden>
<h2>Listen</h2><p>Mix: <audio id="player" controls preload="none"></audio></p>
<h2>Downloads</h2><ul id="downloads"></ul>
<h2>Report</h2><iframe id="report" title="report"></iframe>
</div>
<p><a id="again" href="/">Mix another song</a></p>
<script>{_API_JS}
const JOB = {json.dumps(job_id)};
document.getElementById('again').href = withToken('/');
const LABELS = {{mix: 'mix.wav', stems: 'stems (zip)', plan: 'plan.json', analysis: 'analysis.json',
                report: 'report.html', summary: 'summary.json',
                reaper: 'Reaper session (zip: session.rpp + source stems)',
                session: 'session.rpp (needs the source/ stems of the zip)',
                'stems-zip': 'stems for a DAW (zip: processed, unprocessed, plan)'}};
async function poll() {{
  let j;
  try {{
    const r = await fetch(withToken('/api/jobs/' + encodeURIComponent(JOB)), {{headers: headers()}});
    j = await r.json();
    if (!r.ok) throw new Error(j.detail || r.statusText);
  }} catch (x) {{ document.getElementById('error').textContent = x.message; return; }}
  const p = j.progress;
  document.getElementById('state').textContent = j.status + (p.step && j.status === 'running' ?
      ': ' + p.step + ' ' + Math.round(100 * p.fraction) + '%' : '');
  document.getElementById('bar').value = j.status === 'done' ? 1 : p.fraction;
  if (j.status === 'error') {{ document.getElementById('error').textContent = j.error; return; }}
  if (j.status !== 'done') {{ setTimeout(poll, 1000); return; }}
  document.getElementById('player').src = withToken(j.files.mix);
  document.getElementById('report').src = withToken(j.files.report);
  const ul = document.getElementById('downloads');
  for (const [kind, url] of Object.entries(j.files)) {{
    const a = document.createElement('a'); a.href = withToken(url); a.textContent = LABELS[kind] || kind;
    a.id = 'download-' + kind; const li = document.createElement('li'); li.append(a); ul.append(li);
  }}
  document.getElementById('results').hidden = false;
}}
poll();
</script></body></html>"""
