"""Finding and loading separation models, without ever hanging on the network.

A model spec is resolved in this order:

1. ``None`` -> the default: a pretrained ``htdemucs`` already in the local Hugging Face cache, else
   the bundled compact model in ``mixassist/models/``; if neither exists, a :class:`ModelError` says how to
   get one.
2. An existing path: a demucs checkpoint file (``.th`` as written by ``demucs.states``, or demucs'
   ``.safetensors`` with ``klass``/``args``/``kwargs`` metadata as in ``demucs/hf.py``), or a local
   demucs repository folder (``.th`` files and bag ``.yaml`` files; the folder's single model or bag,
   or ``FOLDER:NAME``).
3. A bundled model name (a ``mixassist/models/NAME.safetensors`` file, package data).
4. A pretrained demucs name (``htdemucs``, ``htdemucs_ft``, ``htdemucs_6s``, ``hdemucs_mmi``, ...):
   loaded from the Hugging Face cache; downloaded only by ``mixassist models pull NAME`` or when
   online and allowed. ``MIXASSIST_OFFLINE=1`` or ``HF_HUB_OFFLINE=1`` forbid any network access.
"""

from __future__ import annotations

import dataclasses
import json
import os
from fractions import Fraction
from pathlib import Path

from ..errors import ModelError
from ..resources import ANALYSIS_MODEL, models_dir
from ..utils.atomic import atomic_path

#: Pretrained demucs names (demucs' remote files list); the first is the preferred default.
PRETRAINED = ("htdemucs", "htdemucs_ft", "htdemucs_6s", "hdemucs_mmi", "mdx", "mdx_extra",
              "mdx_q", "mdx_extra_q")
DEFAULT_PRETRAINED = "htdemucs"
#: Bundled models ship in this folder (package data, ``mixassist/models``).
BUNDLED_DIR = models_dir()
DEFAULT_BUNDLED = "mixassist-compact"


@dataclasses.dataclass
class LoadedModel:
    """A ready-to-run demucs model (or bag) and where it came from."""

    model: object
    name: str
    source: str  # "pretrained-cache", "pretrained-download", "bundled", "file", "repo"

    @property
    def samplerate(self) -> int:
        return int(self.model.samplerate)

    @property
    def sources(self) -> list[str]:
        return list(self.model.sources)


def is_offline() -> bool:
    """True when ``MIXASSIST_OFFLINE`` or ``HF_HUB_OFFLINE`` is set to a true value."""
    return any(os.environ.get(var, "").strip().lower() in ("1", "true", "yes", "on")
               for var in ("MIXASSIST_OFFLINE", "HF_HUB_OFFLINE"))


def _hf_files(name: str, *, local_only: bool) -> tuple[Path, list[Path]]:
    """The bag yaml and safetensors files of pretrained ``name`` (cache only if ``local_only``)."""
    import yaml
    from demucs.hf import DEFAULT_NAMESPACE, hf_repo_name
    from huggingface_hub import hf_hub_download

    repo_id = f"{DEFAULT_NAMESPACE}/{hf_repo_name(name)}"
    options = {"local_files_only": local_only, "etag_timeout": 10}
    bag_file = Path(hf_hub_download(repo_id, f"{name}.yaml", **options))
    bag = yaml.safe_load(bag_file.read_text())
    files = [Path(hf_hub_download(repo_id, f"{sig}.safetensors", **options))
             for sig in bag["models"]]
    return bag_file, files


def _load_pretrained(name: str, *, local_only: bool):
    import yaml
    from demucs.apply import BagOfModels
    from demucs.hf import load_safetensors_model

    bag_file, files = _hf_files(name, local_only=local_only)
    bag = yaml.safe_load(bag_file.read_text())
    model = BagOfModels([load_safetensors_model(f) for f in files], bag.get("weights"),
                        bag.get("segment"))
    return model.eval()


def cached_pretrained(name: str) -> bool:
    """Whether pretrained ``name`` is complete in the local Hugging Face cache (no network)."""
    try:
        _hf_files(name, local_only=True)
    except Exception:  # noqa: BLE001 - any failure means "not usable from the cache"
        return False
    return True


def pull(name: str) -> LoadedModel:
    """Download pretrained ``name`` into the Hugging Face cache (needs the network)."""
    if name not in PRETRAINED:
        raise ModelError(f"unknown pretrained model '{name}'; choose one of {', '.join(PRETRAINED)}")
    if is_offline():
        raise ModelError(f"cannot download '{name}': offline mode is on (MIXASSIST_OFFLINE or "
                         "HF_HUB_OFFLINE); unset it and retry")
    try:
        model = _load_pretrained(name, local_only=False)
    except Exception as exc:  # noqa: BLE001
        raise ModelError(f"downloading '{name}' failed: {str(exc).splitlines()[0][:200]}") from None
    return LoadedModel(model, name, "pretrained-download")


def _load_file(path: Path):
    """Load a single demucs checkpoint (.th or .safetensors)."""
    from demucs.hf import load_safetensors_model
    from demucs.states import load_model

    try:
        if path.suffix == ".safetensors":
            model = load_safetensors_model(path)
        else:
            model = load_model(path)
    except Exception as exc:  # noqa: BLE001
        raise ModelError(f"{path}: not a loadable demucs checkpoint "
                         f"({type(exc).__name__}: {str(exc).splitlines()[0][:160]})") from None
    return model.eval()


def _load_repo(folder: Path, name: str | None):
    """Load a model or bag from a local demucs repository folder."""
    from demucs.pretrained import get_model
    from demucs.repo import ModelLoadingError

    candidates = sorted({p.stem.split("-")[0] for p in folder.glob("*.th")}
                        | {p.stem for p in folder.glob("*.yaml")})
    if name is None:
        bags = sorted(p.stem for p in folder.glob("*.yaml"))
        if len(bags) == 1 or len(candidates) == 1:
            name = bags[0] if len(bags) == 1 else candidates[0]
        else:
            raise ModelError(f"{folder}: holds {len(candidates)} models; choose one with "
                             f"'{folder}:NAME' (one of {', '.join(candidates) or 'none'})")
    try:
        return get_model(name, repo=folder).eval(), name
    except (ModelLoadingError, SystemExit, Exception) as exc:  # noqa: BLE001
        raise ModelError(f"{folder}: cannot load '{name}' from this demucs repository "
                         f"({str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__})"
                         ) from None


def bundled_models() -> dict[str, Path]:
    """Bundled model names -> files in :data:`BUNDLED_DIR` (``mixassist/models/``)."""
    if not BUNDLED_DIR.is_dir():
        return {}
    return {p.stem: p for p in sorted(BUNDLED_DIR.glob("*.safetensors"))
            if p.name != ANALYSIS_MODEL}  # the analysis network ships there too


def _no_model_message() -> str:
    how = ("run 'mixassist models pull htdemucs'" if not is_offline()
           else "go online, unset MIXASSIST_OFFLINE/HF_HUB_OFFLINE and run "
                "'mixassist models pull htdemucs'")
    return (f"no separation model available: htdemucs is not in the local cache and the bundled "
            f"'{DEFAULT_BUNDLED}' model is not installed; {how}, or pass --model PATH to a "
            "demucs checkpoint (.th/.safetensors) or repository folder")


def resolve_model(spec: str | os.PathLike | None = None) -> LoadedModel:
    """Load the separation model named by ``spec`` (see the module docstring for the order)."""
    if spec is None:
        if cached_pretrained(DEFAULT_PRETRAINED):
            return LoadedModel(_load_pretrained(DEFAULT_PRETRAINED, local_only=True),
                               DEFAULT_PRETRAINED, "pretrained-cache")
        bundled = bundled_models()
        if DEFAULT_BUNDLED in bundled:
            return LoadedModel(_load_file(bundled[DEFAULT_BUNDLED]), DEFAULT_BUNDLED, "bundled")
        raise ModelError(_no_model_message())
    text = os.fspath(spec)
    folder, _, sub = text.rpartition(":")
    path = Path(text)
    if path.is_file():
        return LoadedModel(_load_file(path), path.stem, "file")
    if path.is_dir():
        model, name = _load_repo(path, None)
        return LoadedModel(model, name, "repo")
    if folder and Path(folder).is_dir():
        model, name = _load_repo(Path(folder), sub)
        return LoadedModel(model, name, "repo")
    bundled = bundled_models()
    if text in bundled:
        return LoadedModel(_load_file(bundled[text]), text, "bundled")
    if text in PRETRAINED:
        if cached_pretrained(text):
            return LoadedModel(_load_pretrained(text, local_only=True), text, "pretrained-cache")
        if is_offline():
            raise ModelError(f"pretrained model '{text}' is not in the local cache and offline mode "
                             f"is on; run 'mixassist models pull {text}' while online")
        return pull(text)
    if any(sep in text for sep in ("/", "\\")) or Path(text).suffix:
        raise ModelError(f"{text}: no such model file or folder")
    raise ModelError(f"unknown model '{text}'; use a pretrained name ({', '.join(PRETRAINED)}), a "
                     f"bundled name ({', '.join(bundled) or 'none installed'}) or a path")


def list_models() -> list[dict]:
    """Every known model: name, kind, where it loads from, availability, and which is the default."""
    rows = []
    default = None
    if cached_pretrained(DEFAULT_PRETRAINED):
        default = DEFAULT_PRETRAINED
    elif DEFAULT_BUNDLED in bundled_models():
        default = DEFAULT_BUNDLED
    for name, path in bundled_models().items():
        rows.append({"name": name, "kind": "separation", "source": "bundled", "location": str(path),
                     "available": True, "default": name == default})
    for name in PRETRAINED:
        cached = cached_pretrained(name)
        rows.append({"name": name, "kind": "separation", "source": "pretrained",
                     "location": "HF cache" if cached else "not downloaded",
                     "available": cached, "default": name == default})
    return rows


def _encode_json(value):
    """JSON encoding of init arguments with fractions, as ``demucs.hf`` decodes them."""
    if isinstance(value, Fraction):
        return {"_type": "fraction", "numerator": value.numerator, "denominator": value.denominator}
    if isinstance(value, dict):
        return {k: _encode_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode_json(v) for v in value]
    return value


def save_safetensors(model, path: str | os.PathLike, *, extra: dict | None = None) -> Path:
    """Save a demucs model in demucs' safetensors format (class, init arguments and weights).

    The file loads with ``demucs.hf.load_safetensors_model`` and with :func:`resolve_model`.
    ``extra`` is stored as JSON in the metadata key ``mixassist`` (training facts, metrics).
    """
    from safetensors.torch import save_file


    args, kwargs = model._init_args_kwargs
    klass = type(model)
    metadata = {"klass": f"{klass.__module__}.{klass.__name__}",
                "args": json.dumps(_encode_json(list(args))),
                "kwargs": json.dumps(_encode_json(dict(kwargs)))}
    if extra:
        metadata["mixassist"] = json.dumps(extra)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    with atomic_path(path) as tmp:
        save_file(state, str(tmp), metadata=metadata)
    return Path(path)
