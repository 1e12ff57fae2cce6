"""Four-letter words through kazoo's command() (needs 4lw.commands.whitelist to include them)."""


def test_four_letter_ruok(zk):
    assert zk.command(b"ruok") == "imok"


def test_four_letter_srvr(zk):
    out = zk.command(b"srvr")
    assert "Zookeeper version: 3." in out
    assert "Mode: " in out
    assert "Node count: " in out
