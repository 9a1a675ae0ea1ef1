"""Which database the bot uses (a SQLite file or a PostgreSQL URL), and the one place where the two
engines' SQL differs (storage/dialect.py). These run in every pass: no server needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import ConfigError, parse_config
from storage.dialect import to_postgres
from storage.engine import is_postgres
from tests.harness import TEST_TOKEN

URL = "postgresql://livecart@/livecart?host=/run/postgresql"


def config(database: str | None = None, env: dict[str, str] | None = None, **telegram: object):
    raw: dict = {"bot": {"token": TEST_TOKEN}, "telegram": telegram}
    if database is not None:
        raw["storage"] = {"database": database}
    return parse_config(raw, env=env or {}, base_dir=Path("/srv/shop"))


def test_a_postgresql_url_is_kept_as_the_database_and_a_file_path_stays_a_path():
    assert config(URL).database == URL and is_postgres(config(URL).database)
    assert config("livecart.sqlite3").database == Path("/srv/shop/livecart.sqlite3")
    assert not is_postgres(config("livecart.sqlite3").database)


def test_livecart_database_in_the_environment_wins_over_the_config():
    assert config("livecart.sqlite3", env={"LIVECART_DATABASE": URL}).database == URL


def test_a_database_url_of_another_engine_is_refused_naming_the_setting():
    with pytest.raises(ConfigError) as refused:
        config("mysql://shop@localhost/shop")
    assert refused.value.setting == "storage.database" and "postgresql://" in refused.value.problem


def test_each_worker_takes_its_webhook_port_from_livecart_port():
    hook = {"mode": "webhook", "webhook_url": "https://shop.example/hook", "secret_token": "s" * 32}
    assert config(URL, env={"LIVECART_PORT": "8442"}, **hook).webhook.port == 8442
    with pytest.raises(ConfigError, match="LIVECART_PORT"):
        config(URL, env={"LIVECART_PORT": "eighty"}, **hook)


def test_placeholders_become_numbered_and_named_ones_keep_one_number():
    assert to_postgres("SELECT a FROM t WHERE b = ? AND c > ?").sql == "SELECT a FROM t WHERE b = $1 AND c > $2"
    named = to_postgres("SELECT 1 FROM t WHERE a = :s AND b = :at AND c = :s")
    assert named.sql == "SELECT 1 FROM t WHERE a = $1 AND b = $2 AND c = $1"
    assert named.args({"at": 5, "s": "x"}) == ["x", 5]


def test_question_marks_colons_and_sqlite_words_inside_strings_and_comments_are_left_alone():
    translated = to_postgres("SELECT '?', 'a:b', 'min(1, 2)', x::text FROM t -- what? :no\nWHERE y = ?")
    assert translated.sql == "SELECT '?', 'a:b', 'min(1, 2)', x::text FROM t \nWHERE y = $1"
    assert to_postgres("SELECT 'it''s ?' WHERE a = ?").sql == "SELECT 'it''s ?' WHERE a = $1"


def test_sqlites_scalar_min_max_is_and_functions_become_postgresqls():
    assert to_postgres("UPDATE d SET taken = max(0, taken - ?)").sql == "UPDATE d SET taken = GREATEST(0, taken - $1)"
    assert to_postgres("SELECT max(id), min(a, (b + 1)) FROM t").sql == "SELECT max(id), LEAST(a, (b + 1)) FROM t"
    assert to_postgres("SELECT 1 FROM a JOIN b ON a.x IS b.x WHERE a.y IS NULL AND a.z IS NOT ?").sql == \
        "SELECT 1 FROM a JOIN b ON a.x IS NOT DISTINCT FROM b.x WHERE a.y IS NULL AND a.z IS NOT $1"
    assert to_postgres("SELECT group_concat(n, ', '), instr(p, ?), json_object('k', v)").sql == \
        "SELECT string_agg(n, ', '), strpos(p, $1), json_build_object('k', v)"


def test_statements_that_return_rows_are_told_apart_from_those_that_do_not():
    assert to_postgres("SELECT 1").returns_rows and to_postgres("WITH a AS (SELECT 1) SELECT * FROM a").returns_rows
    assert to_postgres("INSERT INTO t (a) VALUES (?) RETURNING id").returns_rows
    assert not to_postgres("UPDATE t SET a = ? WHERE id = ?").returns_rows


def test_a_statement_mixing_both_placeholder_kinds_is_refused():
    with pytest.raises(ValueError, match="mixes"):
        to_postgres("SELECT 1 WHERE a = ? AND b = :b")


def test_a_database_password_never_reaches_a_log_line():
    from storage.engine import redacted

    assert redacted("postgresql://shop:s3cret@db.local:5432/livecart") == "postgresql://shop:***@db.local:5432/livecart"
    assert redacted("postgresql://shop@/livecart?host=/run/postgresql&password=s3cret&sslmode=require") == \
        "postgresql://shop@/livecart?host=/run/postgresql&password=***&sslmode=require"
    assert redacted(URL) == URL
