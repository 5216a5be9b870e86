"""Migration files are numbered, unique and discoverable from a checkout."""

from pathlib import Path

import pytest

from pdm.infra.migrations import MigrationError, discover, migrations_dir

pytestmark = pytest.mark.unit


def test_the_projects_migrations_are_found_in_order() -> None:
    found = discover()

    assert found and migrations_dir().name == "migrations"
    assert [m.version for m in found] == sorted(m.version for m in found)


def test_a_badly_named_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "1_init.sql").write_text("select 1")

    with pytest.raises(MigrationError, match="1_init.sql: name must look like"):
        discover(tmp_path)


def test_two_files_with_one_version_are_refused(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("select 1")
    (tmp_path / "0001_b.sql").write_text("select 1")

    with pytest.raises(MigrationError, match="share a version"):
        discover(tmp_path)
