"""A buyer's shared location as a link a merchant (or a courier) can open on a phone."""

from __future__ import annotations


def map_link(latitude: float | None, longitude: float | None, language: str) -> str | None:
    """A map with a pin at the point, or None when no location was shared.

    Telegram gives GPS (WGS-84) coordinates. Chinese merchants get Amap (高德), which opens on
    their phones without a VPN and is told the coordinates are GPS ones (China's maps use a
    shifted system, so an unmarked point lands hundreds of metres off); others get OpenStreetMap.
    """
    if latitude is None or longitude is None:
        return None
    lat, lon = f"{latitude:.6f}", f"{longitude:.6f}"
    if language == "zh":
        return f"https://uri.amap.com/marker?position={lon},{lat}&coordinate=wgs84"
    return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}"
