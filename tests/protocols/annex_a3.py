"""EN 15722:2020 Annex A.3: the standard's example MSD and its published values."""

from __future__ import annotations

from protocols.msd import LocationDelta, Msd, Propulsion, VehicleLocation

ANNEX_A3 = bytes.fromhex(
    "0324101A01C614A2873C52ABA870010010089AF166285C59A4C86408FE29C16C01054010F010")
# As the standard decodes it, typed in from the published table.
ANNEX_A3_VALUE = Msd(
    message_identifier=1,
    automatic_activation=True,
    test_call=False,
    position_can_be_trusted=True,
    vehicle_type="passengerVehicleCategoryM1",
    vin="ECALLEXAMPLE02020",
    propulsion=Propulsion(gasoline_tank_present=True, electric_energy_storage=True),
    timestamp=1579992331,
    location=VehicleLocation(187996428, 18859320),
    direction=45,
    n1=LocationDelta(0, 10),
    n2=LocationDelta(0, 30),
    number_of_occupants=2,
)
