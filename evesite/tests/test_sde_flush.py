"""The suite's ``flush`` keeps the SDE's tables only for a test that reads them, and only while nothing wrote them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import transaction

from evesite.testing.sde import sde_tables_clean_mark, sde_tables_keepable, sde_tables_kept
from universe.models import Region

pytestmark = pytest.mark.django_db(transaction=True)


def _restored() -> None:
    """Only one region and one user, committed; the region counts as restored (no write noted)."""
    _flush(keep=False)  # an earlier test may have left the real SDE
    Region.objects.create(id=99000001, name="Restored", x=0, y=0, z=0)
    User.objects.create(username="left-over")
    sde_tables_clean_mark()


def _flush(*, keep: bool) -> None:
    with sde_tables_kept(keep=keep):
        call_command("flush", interactive=False, verbosity=0)


def test_unwritten_sde_tables_stay_for_a_test_that_reads_them() -> None:
    _restored()
    _flush(keep=True)
    assert list(Region.objects.values_list("name", flat=True)) == ["Restored"]
    assert not User.objects.exists()
    _flush(keep=False)
    assert not Region.objects.exists()


def test_a_write_since_the_restore_empties_them() -> None:
    _restored()
    Region.objects.filter(id=99000001).update(name="Changed")
    with sde_tables_kept(keep=True):
        assert not sde_tables_keepable()
    _flush(keep=True)
    assert not Region.objects.exists()
    with sde_tables_kept(keep=True):
        assert sde_tables_keepable()  # emptied: clean again


def test_the_writes_of_a_rolled_back_transaction_are_not_noted() -> None:
    _restored()
    with transaction.atomic():
        Region.objects.filter(id=99000001).update(name="Rolled back")
        transaction.set_rollback(True)
    _flush(keep=True)
    assert list(Region.objects.values_list("name", flat=True)) == ["Restored"]
    _flush(keep=False)
