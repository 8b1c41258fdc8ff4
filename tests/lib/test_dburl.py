import dj_database_url

from socialsec.lib.dburl import database_url


def test_a_tcp_database_round_trips_through_dj_database_url():
    db = {"USER": "postgres", "PASSWORD": "p@ss", "HOST": "127.0.0.1", "PORT": 5432, "NAME": "socialsec"}
    parsed = dj_database_url.parse(database_url(db))
    assert (parsed["USER"], parsed["PASSWORD"], parsed["HOST"], parsed["PORT"], parsed["NAME"]) == (
        "postgres",
        "p@ss",
        "127.0.0.1",
        5432,
        "socialsec",
    )


def test_a_unix_socket_database_round_trips_through_dj_database_url():
    db = {"USER": "postgres", "HOST": "/work/main/var/pgdata", "NAME": "test_socialsec"}
    parsed = dj_database_url.parse(database_url(db))
    assert (parsed["HOST"], parsed["NAME"]) == ("/work/main/var/pgdata", "test_socialsec")
