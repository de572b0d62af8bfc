"""Probability of serious injury for Intelligent eCall (MINI Connected §7a, ECALL-R6:
"computes accident severity and the probability of injury").

Model form: Kononen D.W., Flannagan C.A.C., Wang S.C., "Identification and validation
of a logistic regression model for predicting serious injuries associated with motor
vehicle crashes", Accident Analysis and Prevention 43 (2011) 112-122,
doi:10.1016/j.aap.2010.07.018 (the OnStar AACN "injury severity prediction" model).
It predicts the probability that a crash-involved vehicle holds at least one occupant
with ISS >= 15 from delta-V (mph), crash direction (front, left, right, rear), multiple
vs. single impact, belt use and presence of an occupant aged 55 or older, for planar,
non-rollover crashes. The paper's cut point is 0.20: the National Expert Panel on Field
Triage (CDC, 2006/2011 Field Triage Decision Scheme) set a 20 % risk of ISS 15+ as the
threshold for transport to a trauma centre (sensitivity 40 %, specificity 98 %, ROC
area 0.84 in the paper).

COEFFICIENTS ARE AN APPROXIMATION. The published parameter table was not available to
us, so the values below keep the published *form* and *predictors* and are set to
reproduce the published qualitative findings, not the fitted numbers:

==================  ========  ==============================================================
term                value     why
==================  ========  ==============================================================
intercept           -6.0      a belted, single, frontal 10 mph crash stays well below 1 %
delta-V per mph     +0.11     odds x3 per 10 mph; delta-V is the strongest predictor
not all belted      +1.2      belted odds ratio ~0.30; published belt effects lie ~0.3-0.5
near side           +1.2      crash-mode order near > far > frontal > rear at equal
far side            +0.6        delta-V (Augenstein et al., AAAM 2003: MAIS3+ at 30 mph
rear                -0.6        83.8 / 47.8 / 38.9 / 19.9 %)
multiple impacts    +0.8      a second impact raises risk (Augenstein et al., ESV 2001)
older occupant      +1.0      occupant aged >= 55, the paper's age predictor
==================  ========  ==============================================================

Our reading of the model at vehicle level: the belt term applies unless every occupant
is belted, because one unbelted occupant is enough for the vehicle to hold a serious
injury. The paper's female-occupant and vehicle-type terms are left out (the car does
not know the former; the latter is fixed per car and folded into the intercept).
Rollovers are outside the model's domain (the paper asks for a separate screening
algorithm); until there is one, a rollover is scored with the near-side term, the
worst planar class, so it is never under-triaged. An empty vehicle scores 0.
"""

from __future__ import annotations

import math
from typing import Final, Literal

from protocols.envelope import IntelligentExtras
from vehicle_sim.crash import CrashDirection, CrashPulse, Occupancy

MODEL_ID: Final = "Kononen2011 AAP43:112 ISS15+ (approx. coef.)"
TRIAGE_THRESHOLD: Final = 0.20
KMH_PER_MPH: Final = 1.609344

INTERCEPT: Final = -6.0
DELTA_V_PER_MPH: Final = 0.11
NOT_ALL_BELTED: Final = 1.2
MULTIPLE_IMPACTS: Final = 0.8
OLDER_OCCUPANT: Final = 1.0
DIRECTION_TERM: Final[dict[CrashDirection, float]] = {
    "frontal": 0.0,
    "near_side": 1.2,
    "far_side": 0.6,
    "rear": -0.6,
    "rollover": 1.2,  # outside the model; scored as the worst planar class
}

Severity = Literal["minor", "moderate", "severe"]
# Delta-V bands in km/h (15 and 30 mph). Below 15 mph lies under the AACN notification
# threshold of the model's data set (delta-V >= 15 mph or airbag deployment); 30 mph is
# the reference delta-V at which crash-mode risks are usually compared.
MODERATE_FROM_KMH: Final = 15 * KMH_PER_MPH
SEVERE_FROM_KMH: Final = 30 * KMH_PER_MPH


def p_serious_injury(pulse: CrashPulse, occupancy: Occupancy, *,
                     older_occupant: bool = False) -> float:
    """Probability that at least one occupant has ISS >= 15 (see the module notes)."""
    if occupancy.occupants == 0:
        return 0.0
    direction = "rollover" if pulse.is_rollover else pulse.principal_direction
    logit = (INTERCEPT
             + DELTA_V_PER_MPH * pulse.delta_v_kmh / KMH_PER_MPH
             + DIRECTION_TERM[direction]
             + (0.0 if occupancy.all_belted else NOT_ALL_BELTED)
             + (MULTIPLE_IMPACTS if pulse.multiple_impacts else 0.0)
             + (OLDER_OCCUPANT if older_occupant else 0.0))
    return 1.0 / (1.0 + math.exp(-logit))


def is_triage(p: float) -> bool:
    """The Field Triage flag: transport to a trauma centre at 20 % risk or more."""
    return p >= TRIAGE_THRESHOLD


def severity(pulse: CrashPulse) -> Severity:
    """Crash severity class for the desk: minor < 15 mph <= moderate < 30 mph <= severe."""
    if pulse.delta_v_kmh >= SEVERE_FROM_KMH:
        return "severe"
    if pulse.delta_v_kmh >= MODERATE_FROM_KMH:
        return "moderate"
    return "minor"


def intelligent_extras(pulse: CrashPulse, occupancy: Occupancy, *,
                       older_occupant: bool = False) -> IntelligentExtras:
    """The extras of an Intelligent eCall; the flag is decided on the rounded
    probability the desk sees, so the two never disagree."""
    p = round(p_serious_injury(pulse, occupancy, older_occupant=older_occupant), 4)
    return IntelligentExtras(
        occupants=occupancy.occupants,
        belted=occupancy.belted_occupants,
        delta_v_kmh=round(float(pulse.delta_v_kmh), 1),
        principal_direction=pulse.principal_direction,
        multiple_impacts=pulse.multiple_impacts,
        rollover=pulse.is_rollover,
        severity=severity(pulse),
        p_serious_injury=p,
        triage=is_triage(p),
        model=MODEL_ID,
    )
