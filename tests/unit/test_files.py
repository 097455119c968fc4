"""unitctl.files.write_atomic: a reader sees the old file or the new one, whole."""

from __future__ import annotations

import os

import pytest

from unitctl.files import write_atomic


def test_the_new_content_replaces_the_old_with_the_mode_asked(tmp_path):
    report = tmp_path / "evaluation.html"
    report.write_text("old report")
    reader = report.open()  # a web server still sending the old report keeps reading it whole
    write_atomic(report, "new report".encode(), mode=0o640)
    assert report.read_text() == "new report" and reader.read() == "old report"
    assert report.stat().st_mode & 0o777 == 0o640
    assert os.listdir(tmp_path) == ["evaluation.html"]  # no temporary file left


def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(tmp_path, monkeypatch):
    report = tmp_path / "evaluation.json"
    report.write_text('{"old": true}')

    def disk_full(_descriptor):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_atomic(report, b'{"new": tr')
    assert report.read_text() == '{"old": true}'
    assert os.listdir(tmp_path) == ["evaluation.json"]


def test_without_a_mode_the_file_keeps_its_own_or_gets_the_umasks(tmp_path):
    kept = tmp_path / "evaluation.json"
    kept.write_text("old")
    kept.chmod(0o640)  # a technician narrowed it: the next report stays as narrow
    write_atomic(kept, b"new")
    assert kept.stat().st_mode & 0o777 == 0o640
    umask = os.umask(0o027)
    try:
        write_atomic(tmp_path / "new.html", b"<html>")
    finally:
        os.umask(umask)
    assert (tmp_path / "new.html").stat().st_mode & 0o777 == 0o640
