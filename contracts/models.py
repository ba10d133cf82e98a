"""Database models of contracts: cached public contracts, their items, and remembered fetch failures.

PostgreSQL keeps what ESI sent so that a restart never refetches it; Redis
holds the same data until the contract expires (never longer than
``CONTRACTS_MAX_CACHE_DAYS``). The valuation columns are written by
:func:`contracts.valuation.contracts_valuate` after every refresh.
"""

from __future__ import annotations

from django.db import models


class ContractType(models.TextChoices):
    """ESI's contract types."""

    UNKNOWN = "unknown"
    ITEM_EXCHANGE = "item_exchange"
    AUCTION = "auction"
    COURIER = "courier"
    LOAN = "loan"


class ItemsStatus(models.TextChoices):
    """Where a contract's items stand."""

    PENDING = "pending", "not fetched yet"
    FETCHED = "fetched", "fetched"
    FAILED = "failed", "fetch failed (remembered)"
    NONE = "none", "no items (courier, loan, ...)"


class Contract(models.Model):
    """One public contract as ESI listed it, with its valuation against the Jita split."""

    contract_id = models.BigIntegerField(primary_key=True)
    region_id = models.IntegerField()
    type = models.CharField(max_length=16, choices=ContractType.choices)
    issuer_id = models.BigIntegerField()
    issuer_corporation_id = models.BigIntegerField()
    for_corporation = models.BooleanField(default=False)
    title = models.CharField(max_length=255, blank=True, default="")
    date_issued = models.DateTimeField()
    date_expired = models.DateTimeField(db_index=True)
    days_to_complete = models.IntegerField(null=True, blank=True)
    start_location_id = models.BigIntegerField(null=True, blank=True)
    end_location_id = models.BigIntegerField(null=True, blank=True)
    price = models.FloatField(default=0.0)
    buyout = models.FloatField(null=True, blank=True)
    reward = models.FloatField(default=0.0)
    collateral = models.FloatField(default=0.0)
    volume = models.FloatField(null=True, blank=True)
    # Auctions: the highest bid seen (None without bids or before the bids were fetched).
    current_bid = models.FloatField(null=True, blank=True)
    bids_fetched_at = models.DateTimeField(null=True, blank=True)
    items_status = models.CharField(max_length=8, choices=ItemsStatus.choices, default=ItemsStatus.PENDING)
    items_fetched_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()
    # False once the contract is missing from its region's latest listing (accepted, deleted).
    is_active = models.BooleanField(default=True)

    # Valuation (NULL until valued; see contracts.valuation). These columns carry no index, and the
    # table keeps free space in each page (fillfactor 70, migration 0002), so revaluing a region is a
    # heap-only update that writes no index entry.
    included_value = models.FloatField(null=True, blank=True)
    requested_value = models.FloatField(null=True, blank=True)
    items_value = models.FloatField(null=True, blank=True)
    profit = models.FloatField(null=True, blank=True)
    profit_pct = models.FloatField(null=True, blank=True)
    item_lines = models.IntegerField(default=0)
    no_price_lines = models.IntegerField(default=0)
    blueprint_copy_lines = models.IntegerField(default=0)
    one_sided_lines = models.IntegerField(default=0)
    valued_at = models.DateTimeField(null=True, blank=True)
    # Couriers: gate jumps between the start and end systems (routing engine), None when unknown.
    route_jumps = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["contract_id"]
        indexes = [models.Index(fields=["region_id", "type", "is_active"], name="contract_region_type_active")]

    def __str__(self) -> str:
        """Name the contract.

        Returns:
            ``<type> <id>``.
        """
        return f"{self.type} {self.contract_id}"


class ContractItem(models.Model):
    """One item line of a contract (``GET /contracts/public/items/{contract_id}``); never changes."""

    record_id = models.BigIntegerField(primary_key=True)
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="items")
    type_id = models.IntegerField(db_index=True)
    quantity = models.BigIntegerField()
    is_included = models.BooleanField()
    is_blueprint_copy = models.BooleanField(default=False)
    item_id = models.BigIntegerField(null=True, blank=True)
    material_efficiency = models.IntegerField(null=True, blank=True)
    time_efficiency = models.IntegerField(null=True, blank=True)
    runs = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["contract_id", "record_id"]

    def __str__(self) -> str:
        """Name the line.

        Returns:
            ``<quantity> x <type id>``.
        """
        return f"{self.quantity} x {self.type_id}"


class FailureReason(models.TextChoices):
    """The known ESI faults of the contract item (and bid) routes."""

    NOT_PUBLIC = "not_public", '403 "Contract not public"'
    ACCEPTED = "accepted", '403 "Contract accepted by player"'
    FORBIDDEN = "forbidden", "403 (other text)"
    NOT_FOUND = "not_found", "404"
    EMPTY = "empty", "204 empty (expired or recently accepted)"


class FetchKind(models.TextChoices):
    """Which per-contract ESI call failed."""

    ITEMS = "items"
    BIDS = "bids"


class ContractFetchFailure(models.Model):
    """A per-contract ESI call that failed in a known way: it is never made again.

    Keyed by contract id (not a foreign key) so the memory outlives the contract
    row; it is purged after ``expires_at`` (the contract's expiry).
    """

    contract_id = models.BigIntegerField()
    kind = models.CharField(max_length=8, choices=FetchKind.choices, default=FetchKind.ITEMS)
    reason = models.CharField(max_length=16, choices=FailureReason.choices)
    status = models.IntegerField()
    detail = models.CharField(max_length=255, blank=True, default="")
    failed_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["contract_id", "kind"], name="contract_failure_unique")]

    def __str__(self) -> str:
        """Name the failure.

        Returns:
            ``<contract id> <kind>: <reason>``.
        """
        return f"{self.contract_id} {self.kind}: {self.reason}"
