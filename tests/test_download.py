"""`homeclip download`: against a local HTTP server on 127.0.0.1 serving archives built here."""
from __future__ import annotations

import argparse
import functools
import hashlib
import http.server
import io
import json
import socket
import stat
import threading
import time
import zipfile
from pathlib import Path

import pytest

from homeclip.commands import download as download_command
from homeclip.data.download import CASAS_URLS, RECORD_NAME, Limits, download_casas, extract_zip
from homeclip.errors import UserError

LOG = "2009-10-16 00:01:04.000059 M017 ON Sleep begin\n2009-10-16 00:01:05 M017 OFF Sleep end\n"


def make_zip(entries: list[tuple[str | zipfile.ZipInfo, str]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in entries:
            zf.writestr(name, content)
    return buf.getvalue()


def symlink_entry(name: str, target: str) -> tuple[zipfile.ZipInfo, str]:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target


GOOD = make_zip([("milan/data", LOG), ("milan/README", "Milan readme\n"), ("milan/sub/notes.txt", "x\n")])


def corrupt_crc(archive: bytes) -> bytes:
    """Flip one byte of the stored data so that the CRC check fails (the zip structure stays valid)."""
    stored = io.BytesIO()
    with zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("data", "A" * 100)
    raw = bytearray(stored.getvalue())
    raw[raw.index(b"A" * 100) + 10] = ord("B")
    return bytes(raw)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Serve a folder of archives on 127.0.0.1; yields (base URL, folder)."""
    root = tmp_path_factory.mktemp("www")
    files = {
        "milan.zip": GOOD,
        "traversal.zip": make_zip([("milan/data", LOG), ("../evil.txt", "pwned\n")]),
        "absolute.zip": make_zip([("/tmp/evil.txt", "pwned\n")]),
        "symlink.zip": make_zip([("data", LOG), symlink_entry("passwd", "/etc/passwd")]),
        "corrupt.zip": b"this is not a zip archive at all\n" * 10,
        "badcrc.zip": corrupt_crc(GOOD),
        "empty.zip": make_zip([]),
    }
    for name, content in files.items():
        (root / name).write_bytes(content)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        """The folder's files, plus misbehaving answers: a body shorter than its Content-Length, a Content-Length
        far over the cap, and an endless body without a Content-Length."""

        def log_message(self, *args):
            pass

        def do_GET(self):
            special = {"/short.zip": (len(GOOD) + 1000, GOOD), "/huge.zip": (10 << 30, GOOD[:100]),
                       "/endless.zip": (None, None)}
            if self.path not in special:
                return super().do_GET()
            length, body = special[self.path]
            self.send_response(200)
            if length is not None:
                self.send_header("Content-Length", str(length))
            self.end_headers()
            if body is None:            # no length: stream zeros until the client hangs up
                try:
                    for _ in range(64):
                        self.wfile.write(b"\0" * (1 << 20))
                except (BrokenPipeError, ConnectionResetError):
                    pass
            else:
                self.wfile.write(body)
            self.close_connection = True

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_good_archive_is_verified_extracted_and_recorded(server, tmp_path):
    base, _ = server
    out = tmp_path / "milan"
    digest = hashlib.sha256(GOOD).hexdigest()
    result = download_casas("milan", out, url=f"{base}/milan.zip", sha256=digest.upper(), progress=False)
    assert result.sha256 == digest and result.n_bytes == len(GOOD)
    assert result.files == ["data", "README", "sub/notes.txt"]          # single top folder stripped
    assert (out / "data").read_text() == LOG and (out / "sub" / "notes.txt").read_text() == "x\n"
    assert result.log_file == out / "data"
    record = json.loads((out / RECORD_NAME).read_text())
    assert record["sha256"] == digest and record["url"] == f"{base}/milan.zip" and record["files"] == result.files
    assert listing(out) == sorted(["README", "data", "sub/notes.txt", RECORD_NAME])
    assert [p.name for p in tmp_path.iterdir()] == ["milan"]             # no temp folders left behind
    from homeclip.data.readers import read_log

    assert list(read_log(result.log_file).frame["label"]) == ["Sleep", "Sleep"]


def test_existing_files_are_never_overwritten_without_force(server, tmp_path):
    base, _ = server
    out = tmp_path / "milan"
    out.mkdir()
    (out / "data").write_text("my own edits\n")
    with pytest.raises(UserError, match=r"would overwrite 1 existing file\(s\), e.g. data; nothing was extracted"):
        download_casas("milan", out, url=f"{base}/milan.zip", progress=False)
    assert listing(out) == ["data"] and (out / "data").read_text() == "my own edits\n"
    # --force replaces the whole folder, so it refuses one that no download made (it may be anything).
    with pytest.raises(UserError, match="was not made by `homeclip download`"):
        download_casas("milan", out, url=f"{base}/milan.zip", force=True, progress=False)
    assert listing(out) == ["data"] and (out / "data").read_text() == "my own edits\n"
    (out / "data").unlink()
    download_casas("milan", out, url=f"{base}/milan.zip", progress=False)
    (out / "data").write_text("edited after the download\n")
    (out / "stray.txt").write_text("not in the archive\n")
    with pytest.raises(UserError, match="use --force"):
        download_casas("milan", out, url=f"{base}/milan.zip", progress=False)
    download_casas("milan", out, url=f"{base}/milan.zip", force=True, progress=False)
    assert (out / "data").read_text() == LOG
    assert listing(out) == sorted(["README", "data", "sub/notes.txt", RECORD_NAME])     # the folder was replaced
    assert sorted(p.name for p in tmp_path.iterdir()) == ["milan"]                     # no staging left


@pytest.mark.parametrize("name, message", [
    ("traversal.zip", "member '../evil.txt' would be written outside the output folder; nothing was extracted"),
    ("absolute.zip", "member '/tmp/evil.txt' has an absolute path"),
    ("symlink.zip", "member 'passwd' is a symbolic link"),
    ("corrupt.zip", "is not a valid zip archive"),
    ("badcrc.zip", "is corrupt (bad CRC in 'data')"),
    ("empty.zip", "contains no files"),
])
def test_unsafe_or_broken_archives_extract_nothing(server, tmp_path, name, message):
    base, _ = server
    out = tmp_path / "out"
    with pytest.raises(UserError) as err:
        download_casas("milan", out, url=f"{base}/{name}", progress=False)
    assert message in str(err.value) and f"{base}/{name}" in str(err.value)
    assert listing(tmp_path) == []
    assert not (tmp_path.parent / "evil.txt").exists()


def test_wrong_sha256_extracts_nothing(server, tmp_path):
    base, _ = server
    with pytest.raises(UserError, match=f"sha256 mismatch .* got {hashlib.sha256(GOOD).hexdigest()}"):
        download_casas("milan", tmp_path / "out", url=f"{base}/milan.zip", sha256="0" * 64, progress=False)
    assert listing(tmp_path) == []
    with pytest.raises(UserError, match="expected a sha256 digest of 64 hex digits"):
        download_casas("milan", tmp_path / "out", url=f"{base}/milan.zip", sha256="abc", progress=False)


def test_http_404_and_offline_fail_fast_with_one_sentence(server, tmp_path):
    base, _ = server
    with pytest.raises(UserError, match=r"answered HTTP 404"):
        download_casas("milan", tmp_path / "out", url=f"{base}/missing.zip", progress=False)
    with socket.socket() as sock:            # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    start = time.monotonic()
    with pytest.raises(UserError, match=r"cannot reach .* are you offline\?"):
        download_casas("milan", tmp_path / "out", url=f"http://127.0.0.1:{port}/milan.zip", timeout=3,
                       progress=False)
    assert time.monotonic() - start < 5
    with pytest.raises(UserError, match="cannot download 'not a url'"):
        download_casas("milan", tmp_path / "out", url="not a url", progress=False)
    assert listing(tmp_path) == []


def test_unknown_home_and_official_urls(tmp_path):
    with pytest.raises(UserError, match="unknown CASAS home 'atlantis'; expected one of milan, aruba, cairo, kyoto"):
        download_casas("atlantis", tmp_path)
    assert CASAS_URLS["kyoto"] == "https://casas.wsu.edu/datasets/twor.2009.zip"
    assert all(url.startswith("https://casas.wsu.edu/datasets/") for url in CASAS_URLS.values())


def test_local_file_url_and_extract_zip_directly(tmp_path):
    archive = tmp_path / "milan.zip"
    archive.write_bytes(GOOD)
    result = download_casas("milan", tmp_path / "a", url=archive.as_uri(), progress=False)
    assert result.files == ["data", "README", "sub/notes.txt"]
    assert extract_zip(archive, tmp_path / "b") == ["data", "README", "sub/notes.txt"]


def test_command_prints_digest_and_next_step(server, tmp_path, capsys):
    base, _ = server
    parser = argparse.ArgumentParser()
    download_command.add_arguments(parser)
    out = tmp_path / "milan"
    args = parser.parse_args(["casas", "milan", "--out", str(out), "--url", f"{base}/milan.zip"])
    assert download_command.run(args) == 0
    printed = capsys.readouterr().out
    assert f"sha256 {hashlib.sha256(GOOD).hexdigest()}" in printed
    assert f"next: homeclip prepare --raw {out / 'data'} --home milan" in printed
    args = parser.parse_args(["casas", "milan", "--out", str(out), "--url", f"{base}/milan.zip"])
    with pytest.raises(UserError, match="use --force"):
        download_command.run(args)
    with pytest.raises(SystemExit):
        parser.parse_args(["kaggle", "milan"])


def test_cli_offline_exits_2_with_one_line(tmp_path, capsys):
    from homeclip import cli

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code = cli.main(["download", "casas", "milan", "--out", str(tmp_path / "x"), "--timeout", "3",
                     "--url", f"http://127.0.0.1:{port}/milan.zip"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("homeclip download: error: cannot reach") and err.count("\n") == 1
    assert listing(tmp_path) == []


def zip_bomb(mib: int) -> bytes:
    """A small archive whose one member inflates to `mib` MiB of zeros (about 1000-fold)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        with zf.open("milan/data", "w") as fh:
            for _ in range(mib):
                fh.write(b"\0" * (1 << 20))
    return buf.getvalue()


def test_zip_bomb_is_refused_before_anything_is_written(tmp_path, capsys):
    from homeclip import cli

    archive = tmp_path / "bomb.zip"
    archive.write_bytes(zip_bomb(32))
    assert archive.stat().st_size < 64 * 1024
    out = tmp_path / "out"
    with pytest.raises(UserError, match=r"member 'milan/data' expands \d+-fold \(cap 100, --max-ratio\), like a zip bomb"):
        extract_zip(archive, out)
    with pytest.raises(UserError, match=r"would extract to 32.0 MiB, more than the cap of 8.0 MiB"):
        extract_zip(archive, out, limits=Limits(max_extracted=8 << 20, max_ratio=1e9))
    assert listing(tmp_path) == ["bomb.zip"]
    code = cli.main(["download", "casas", "milan", "--url", archive.as_uri(), "--out", str(out)])
    last = capsys.readouterr().err.splitlines()[-1]          # after the download progress bar
    assert code == 2 and last.startswith("homeclip download: error: ") and "like a zip bomb" in last
    assert listing(tmp_path) == ["bomb.zip"]
    code = cli.main(["download", "casas", "milan", "--url", archive.as_uri(), "--out", str(out),
                     "--max-ratio", "0"])
    assert code == 2 and "--max-ratio must be positive" in capsys.readouterr().err


def test_extraction_within_the_caps_streams_in_bounded_memory(tmp_path):
    import tracemalloc

    archive = tmp_path / "big.zip"
    archive.write_bytes(zip_bomb(32))
    tracemalloc.start()
    try:
        files = extract_zip(archive, tmp_path / "out", limits=Limits(max_extracted=64 << 20, max_ratio=1e9))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert files == ["data"] and (tmp_path / "out" / "data").stat().st_size == 32 << 20
    assert peak < 8 << 20          # a few 1 MiB blocks, never the 32 MiB member


@pytest.mark.parametrize("name, message", [
    ("short.zip", rf"is incomplete: .*{len(GOOD)} of {len(GOOD) + 1000} bytes"),
    ("huge.zip", r"is 10240.0 MiB \(its Content-Length\), more than the download cap of 256.0 MiB"),
    ("endless.zip", r"passed the cap of 2.0 MiB \(raise it with --max-download-mb\)"),
])
def test_download_length_is_checked_and_capped(server, tmp_path, name, message):
    base, _ = server
    limits = Limits(max_download=2 << 20) if name == "endless.zip" else Limits()
    with pytest.raises(UserError, match=message):
        download_casas("milan", tmp_path / "out", url=f"{base}/{name}", limits=limits, progress=False)
    assert listing(tmp_path) == []


def test_force_replaces_the_folder_atomically(server, tmp_path, monkeypatch):
    import os

    import homeclip.io as hio

    base, root = server
    out = tmp_path / "milan"
    download_casas("milan", out, url=f"{base}/milan.zip", progress=False)
    before = {f: (out / f).read_bytes() for f in listing(out)}
    (root / "other.zip").write_bytes(make_zip([("milan/data", "2009-10-16 00:01:04 M001 ON\n")]))
    real_replace, calls = os.replace, []

    def failing_swap(src, dst):      # the staging folder cannot be renamed into place (e.g. a lost mount)
        calls.append((Path(src).name, Path(dst).name))
        if Path(dst) == out and hio.is_temp_name(Path(src).name) and Path(src).name.endswith(".tmp"):
            raise OSError(5, "Input/output error")
        return real_replace(src, dst)

    monkeypatch.setattr(hio.os, "replace", failing_swap)
    with pytest.raises(OSError, match="Input/output error"):
        download_casas("milan", out, url=f"{base}/other.zip", force=True, progress=False)
    monkeypatch.undo()
    assert any(dst == "milan" for _, dst in calls)                      # the swap was reached, then failed
    assert {f: (out / f).read_bytes() for f in listing(out)} == before  # the old folder, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["milan"]       # old copy and staging put away
    download_casas("milan", out, url=f"{base}/other.zip", force=True, progress=False)
    assert listing(out) == ["data", RECORD_NAME]                         # the new folder, whole


def test_never_writes_through_a_symlink_inside_the_target(server, tmp_path):
    base, _ = server
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "milan"
    out.mkdir()
    (out / "sub").symlink_to(outside, target_is_directory=True)
    with pytest.raises(UserError, match=r"sub: is a symbolic link inside the output folder; refusing"):
        download_casas("milan", out, url=f"{base}/milan.zip", progress=False)
    assert listing(outside) == [] and sorted(p.name for p in out.iterdir()) == ["sub"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["milan", "outside"]


def test_a_home_name_that_is_not_plain_is_refused(tmp_path, monkeypatch, capsys):
    from homeclip import cli

    archive = tmp_path / "milan.zip"
    archive.write_bytes(GOOD)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    code = cli.main(["download", "casas", "../../../escape", "--url", archive.as_uri()])
    err = capsys.readouterr().err
    assert code == 2 and "the home must be a plain name" in err and "'../../../escape'" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["milan.zip", "work"] and listing(work) == []
