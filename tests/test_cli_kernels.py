"""The first-run notice of `cut`/`sample` at `--refine best`: pymatting compiles its numba kernels on its
first import in a new environment (about a minute on 2 cores) and caches them; the CLI says so when
that cache is not there yet (softcut_app.commands.common)."""

from __future__ import annotations

from softcut_app.commands.common import kernels_cached, pymatting_folder


def test_a_package_without_numba_index_files_is_not_cached_and_one_with_them_is(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub" / "__pycache__").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__pycache__" / "mod.cpython-311.pyc").write_bytes(b"")
    assert not kernels_cached(package)
    (package / "sub" / "__pycache__" / "mod.kernel-12.py311.nbi").write_bytes(b"")
    assert kernels_cached(package)
    assert kernels_cached(None)  # nothing to tell: no notice


def test_the_installed_pymatting_is_found_without_importing_it_unless_numba_caches_elsewhere(monkeypatch, tmp_path):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    folder = pymatting_folder()
    assert folder is not None and (folder / "__init__.py").is_file() and folder.name == "pymatting"
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    assert pymatting_folder() is None
