"""pytest plugin: the ``smtp_sink`` fixture (installed with mailfmt).

Point the code under test at ``smtp_sink.host``/``smtp_sink.port``; every
message it sends is stored, parsed and linted::

    def test_signup_mail(smtp_sink):
        app.send_welcome(host=smtp_sink.host, port=smtp_sink.port)
        [msg] = smtp_sink.messages
        assert msg.rcpt_to == ["new@example.org"]
        smtp_sink.assert_clean()      # fails with every rule the mail breaks
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .sink import Sink

__all__ = ["smtp_sink"]


@pytest.fixture
def smtp_sink(tmp_path: Path) -> Iterator[Sink]:
    """A linting SMTP sink on a free loopback port, for one test."""
    from .sink import Sink  # aiosmtpd is only needed when the fixture is used

    sink = Sink(maildir=tmp_path / "smtp-sink")
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()
