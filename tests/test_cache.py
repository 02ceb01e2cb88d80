"""The cache key covers the code that made the result: the sources of the cached stages."""

from __future__ import annotations

from mixassist.cache import CACHED_CODE, code_digest


def test_code_digest_follows_the_sources(tmp_path):
    (tmp_path / "analysis").mkdir()
    (tmp_path / "analysis" / "measure.py").write_text("X = 1\n")
    (tmp_path / "vocab.py").write_text("V = ()\n")
    parts = ("analysis", "vocab.py")
    before = code_digest(parts, str(tmp_path))
    assert code_digest(parts, str(tmp_path)) == before  # deterministic
    (tmp_path / "analysis" / "measure.py").write_text("X = 2\n")
    code_digest.cache_clear()
    assert code_digest(parts, str(tmp_path)) != before


def test_code_digest_of_this_package():
    digest = code_digest()
    assert len(digest) == 16 and int(digest, 16) >= 0
    assert "analysis" in CACHED_CODE and "separation" in CACHED_CODE
