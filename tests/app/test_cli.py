from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from app.cli import cli
from app.config import get_settings
from app.db import make_engine
from tests.dbtemplate import TemplateDatabase
from tests.factories import TEST_AUDIT_KEY

runner = CliRunner()


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> Iterator[str]:
    monkeypatch.setenv("WATERGUARD_DATABASE_URL", database_url)
    monkeypatch.setenv("WATERGUARD_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("WATERGUARD_LOG_JSON", "false")
    monkeypatch.setenv("WATERGUARD_AUDIT_KEY", TEST_AUDIT_KEY)  # the key the seed chained with
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


@pytest.fixture
def empty_database(
    template_db: TemplateDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """An empty database (no tables) on the test backend, set in the environment."""
    if template_db.pg:
        from tests.dbtemplate import pg_create, pg_drop

        url = pg_create(template_db.pg, "wg_cli_empty")
    else:
        url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    monkeypatch.setenv("WATERGUARD_DATABASE_URL", url)
    monkeypatch.setenv("WATERGUARD_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()
    if template_db.pg:
        pg_drop(template_db.pg, "wg_cli_empty")


def test_every_command_has_help() -> None:
    for args in (
        ["--help"],
        ["serve", "--help"],
        ["migrate", "--help"],
        ["create-user", "--help"],
        ["seed-demo", "--help"],
        ["audit", "verify", "--help"],
        ["dataset", "export", "--help"],
        ["dataset", "tile", "--help"],
    ):
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, args
        assert "Usage" in result.output


def test_the_console_script_is_installed() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "waterguard"), "--help"],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0
    assert "seed-demo" in result.stdout


def test_migrate_then_seed_on_an_empty_database(empty_database: str) -> None:
    migrated = runner.invoke(cli, ["migrate"])
    seeded = runner.invoke(cli, ["seed-demo"])
    again = runner.invoke(cli, ["seed-demo"])
    idempotent = runner.invoke(cli, ["seed-demo", "--if-missing"])

    assert migrated.exit_code == 0, migrated.output
    assert seeded.exit_code == 0, seeded.output
    assert "demo-admin-pass" in seeded.output
    assert again.exit_code == 1
    assert "already" in again.output
    assert idempotent.exit_code == 0
    engine = make_engine(empty_database)
    with engine.connect() as connection:
        counts = {
            table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("jurisdictions", "ground_units", "grid_workers", "users")
        }
    engine.dispose()
    assert counts == {"jurisdictions": 10, "ground_units": 4, "grid_workers": 6, "users": 7}


def test_dataset_export_writes_a_yolo_dataset_even_with_no_verdicts_yet(
    cli_env: str, tmp_path: Path
) -> None:
    result = runner.invoke(cli, ["dataset", "export", "--out", str(tmp_path / "ds")])

    assert result.exit_code == 0, result.output
    assert "0 confirmed person(s), 0 hard negative(s)" in result.output
    data_yaml = (tmp_path / "ds" / "data.yaml").read_text(encoding="utf-8")
    assert "train: images/train" in data_yaml
    assert "0: swimmer" in data_yaml
    assert (tmp_path / "ds" / "images" / "val").is_dir()


def test_create_user_reads_the_password_from_stdin(cli_env: str) -> None:
    ok = runner.invoke(
        cli,
        [
            "create-user",
            "zhao",
            "--role",
            "grid_worker",
            "--jurisdiction",
            "demo-xiaoyuan",
            "--password-stdin",
        ],
        input="a-long-password-1\n",
    )
    bad_role = runner.invoke(
        cli,
        ["create-user", "qian", "--role", "chief", "--jurisdiction", "demo", "--password-stdin"],
        input="x\n",
    )
    short = runner.invoke(
        cli,
        ["create-user", "sun", "--role", "command", "--jurisdiction", "demo", "--password-stdin"],
        input="short\n",
    )
    nowhere = runner.invoke(
        cli,
        [
            "create-user",
            "li",
            "--role",
            "command",
            "--jurisdiction",
            "atlantis",
            "--password-stdin",
        ],
        input="a-long-password-1\n",
    )
    taken = runner.invoke(
        cli,
        [
            "create-user",
            "zhao",
            "--role",
            "grid_worker",
            "--jurisdiction",
            "demo-xiaoyuan",
            "--password-stdin",
        ],
        input="a-long-password-1\n",
    )

    assert ok.exit_code == 0, ok.output
    assert bad_role.exit_code == 2
    assert "unknown role" in bad_role.output
    assert short.exit_code == 2
    assert "password" in short.output
    assert nowhere.exit_code == 2
    assert "atlantis" in nowhere.output
    assert taken.exit_code == 1
    assert "taken" in taken.output


def test_audit_verify_exits_non_zero_on_tampering(cli_env: str) -> None:
    intact = runner.invoke(cli, ["audit", "verify"])
    engine = make_engine(cli_env)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        else:
            connection.execute(text("DROP TRIGGER audit_events_no_update"))
        connection.execute(text("UPDATE audit_events SET action = 'read' WHERE seq = 7"))
    engine.dispose()

    broken = runner.invoke(cli, ["audit", "verify"])

    assert intact.exit_code == 0, intact.output
    assert "intact" in intact.output
    assert broken.exit_code == 1
    assert "BROKEN at row 7" in broken.output


def test_production_mode_refuses_the_demo_and_weak_keys(
    cli_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WATERGUARD_ENV", "production")
    monkeypatch.setenv("WATERGUARD_SECRET_KEY", "too-short")
    get_settings.cache_clear()

    weak = runner.invoke(cli, ["migrate"])
    monkeypatch.setenv("WATERGUARD_SECRET_KEY", "Zq3v9L0pXr7mN2bW8kTf5yH1cJ6dG4sA-eU_iO")
    get_settings.cache_clear()
    demo = runner.invoke(cli, ["seed-demo"])

    assert weak.exit_code == 2
    assert "SECRET_KEY" in weak.output
    assert demo.exit_code == 2
    assert "production" in demo.output


def test_dataset_tile_cuts_coco_frames_into_model_tiles(tmp_path: Path) -> None:
    import json

    import numpy as np
    from PIL import Image

    images = tmp_path / "images"
    images.mkdir()
    for name in ("a.jpg", "b.jpg"):
        frame = np.full((720, 1280, 3), 90, np.uint8)
        frame[300:340, 900:930] = 230
        Image.fromarray(frame).save(images / name)
    coco = {
        "images": [
            {"id": 1, "file_name": "a.jpg", "width": 1280, "height": 720},
            {"id": 2, "file_name": "b.jpg", "width": 1280, "height": 720},
        ],
        "categories": [{"id": 1, "name": "swimmer"}, {"id": 2, "name": "boat"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [900, 300, 30, 40]},
            {"id": 2, "image_id": 2, "category_id": 1, "bbox": [900, 300, 30, 40]},
            {"id": 3, "image_id": 2, "category_id": 2, "bbox": [100, 100, 200, 80]},
        ],
    }
    labels = tmp_path / "instances.json"
    labels.write_text(json.dumps(coco))

    result = runner.invoke(
        cli, ["dataset", "tile", str(labels), "--images", str(images), "--out", str(tmp_path / "o")]
    )

    assert result.exit_code == 0, result.output
    tiles = sorted((tmp_path / "o" / "tiles" / "images").rglob("*.jpg"))
    assert len(tiles) == 12  # two 1280x720 frames, six 640 px tiles each
    boxes = [
        line.split()
        for label in (tmp_path / "o" / "tiles" / "labels").rglob("*.txt")
        for line in label.read_text().splitlines()
    ]
    assert boxes
    assert {b[0] for b in boxes} == {"0"}  # swimmers only: the boat was not kept
    assert {(round(float(b[3]) * 640), round(float(b[4]) * 640)) for b in boxes} == {(30, 40)}
