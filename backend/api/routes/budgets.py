"""HTTP routes of the data-volume budgets: the catalogue's figures and usage against them.

``GET /budgets`` lists every catalogue entry that states a volume figure
(docs/requirements.md#plat-r2, the catalogue's ``volume_bytes_max``) with the fleet's usage;
``GET /budgets/{vin}`` one vehicle's usage against each of them. Periods are judged at
the backend's time (``state.clock``), which follows a scenario's virtual clock, so a
"per year" budget rolls over in seconds of a test exactly as the meter does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends

from backend.api.access_deps import operator_only
from backend.api.deps import StateDep, VinPath
from backend.api.error_statuses import errors
from backend.api.schemas.budgets import (
    BudgetPublic,
    BudgetsPublic,
    FleetPublic,
    VehicleBudgetsPublic,
)
from backend.privacy.budget_store import (
    ServiceUsage,
    summary,
    usage,
    vehicle_count,
)
from backend.privacy.errors import UnknownVehicleError
from protocols.catalogue_model import CatalogueEntry

router = APIRouter(prefix="/budgets", tags=["budgets"],
                   dependencies=[Depends(operator_only("data budgets"))])


def get_catalogue() -> Sequence[CatalogueEntry]:
    """The catalogue's rows, read per request (tests override it with their own rows)."""
    from protocols.catalogue import CATALOGUE

    return CATALOGUE


CatalogueDep = Annotated[Sequence[CatalogueEntry], Depends(get_catalogue)]


def _budget(entry: CatalogueEntry) -> BudgetPublic | None:
    b = entry.budget
    if b is None:
        return None
    return BudgetPublic(key=entry.key, service=entry.service, sub_function=entry.sub_function,
                        per=b.per, per_message_bytes=b.per_message_bytes,
                        period_bytes=b.period_bytes, period_s=b.period_s,
                        exclusive=b.exclusive, approx=b.approx, wording=b.wording,
                        safety=entry.safety, source=entry.source)


def _public(rows: dict[str, ServiceUsage]) -> list[ServiceUsage]:
    """The store's rows as they are: pydantic serialises the dataclass field by field."""
    return list(rows.values())


@router.get("", response_model=BudgetsPublic)
async def read_budgets(state: StateDep, catalogue: CatalogueDep) -> BudgetsPublic:
    """Every stated budget of the catalogue, and the fleet's usage in the current period."""
    at = state.clock.now()
    budgets = [b for b in map(_budget, catalogue) if b is not None]
    fleet = await summary(state.oem, at=at, catalogue=catalogue)
    return BudgetsPublic(at=at, count=len(budgets), budgets=budgets,
                         fleet=FleetPublic(vehicles=await vehicle_count(state.oem),
                                           services=_public(fleet)))


@router.get("/{vin}", response_model=VehicleBudgetsPublic, responses=errors(UnknownVehicleError))
async def read_vehicle_budgets(vin: VinPath, state: StateDep,
                               catalogue: CatalogueDep) -> VehicleBudgetsPublic:
    """One vehicle's usage against each budget; 404 for a VIN never metered."""
    at = state.clock.now()
    rows = await usage(state.oem, vin, at=at, catalogue=catalogue)
    return VehicleBudgetsPublic(vin=vin, at=at, services=_public(rows))
