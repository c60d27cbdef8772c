"""Where the demo company sells: four regions of two teams each, and real US ZIP codes."""

from dataclasses import dataclass
from functools import cache

import zipcodes

# Region -> its two teams -> the states each team covers (50 states and DC, each once).
REGIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "West": {
        "Pacific": ("WA", "OR", "CA", "AK", "HI"),
        "Mountain": ("NV", "ID", "MT", "WY", "UT", "CO", "AZ", "NM"),
    },
    "Central": {
        "Great Lakes": ("WI", "IL", "MI", "IN", "OH"),
        "Plains": ("ND", "SD", "NE", "KS", "MN", "IA", "MO"),
    },
    "South": {
        "Texas & Gulf": ("TX", "OK", "AR", "LA", "MS"),
        "Southeast": ("AL", "TN", "KY", "GA", "FL", "SC", "NC"),
    },
    "East": {
        "Mid-Atlantic": ("VA", "WV", "MD", "DE", "DC", "PA"),
        "Northeast": ("NJ", "NY", "CT", "RI", "MA", "VT", "NH", "ME"),
    },
}

TEAM_OF_STATE: dict[str, str] = {
    state: team for teams in REGIONS.values() for team, states in teams.items()
    for state in states
}


@dataclass(frozen=True)
class Place:
    """One real ZIP code with its town and centre point."""

    zip_code: str
    city: str
    state: str
    county: str
    latitude: float
    longitude: float
    area_code: str


@cache
def places() -> tuple[Place, ...]:
    """Active standard (street-address, non-military, non-PO-box) ZIP codes in the states
    the demo company covers, in ZIP order so a seed always picks the same places."""
    result = []
    for z in zipcodes.list_all():
        if not z["active"] or z["zip_code_type"] != "STANDARD" or z["state"] not in TEAM_OF_STATE:
            continue
        if not z["lat"] or not z["long"]:
            continue
        area_codes = z.get("area_codes") or ["555"]
        result.append(Place(z["zip_code"], z["city"], z["state"], z["county"] or "",
                            float(z["lat"]), float(z["long"]), area_codes[0]))
    result.sort(key=lambda p: p.zip_code)
    return tuple(result)
