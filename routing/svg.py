"""Pictures of routes: the route drawn on the map of the regions it crosses (SVG, from the SDE's 2D positions)."""

from __future__ import annotations

from xml.sax.saxutils import escape

from routing.selectors import Route
from universe.models import SolarSystem, SolarSystemJump

WIDTH, HEIGHT, PAD = 1000.0, 760.0, 40.0
# EVE's security colours, from 1.0 down to 0.0 and below.
SECURITY_COLOURS = {
    1.0: "#2fefef",
    0.9: "#48f0c0",
    0.8: "#00ef47",
    0.7: "#00f000",
    0.6: "#8fef2f",
    0.5: "#efef00",
    0.4: "#d77700",
    0.3: "#f06000",
    0.2: "#f04800",
    0.1: "#d73000",
}
NULL_SEC_COLOUR = "#f00000"
RISK_COLOURS = {"critical": "#ff00ff", "high": "#ff8800", "elevated": "#ffee55"}


def security_colour(display: float) -> str:
    """Return EVE's colour of a displayed security value.

    Args:
        display: Security as shown (one decimal).

    Returns:
        A CSS colour.
    """
    return SECURITY_COLOURS.get(round(display, 1), NULL_SEC_COLOUR)


def _points(route: Route) -> tuple[dict[int, tuple[float, float]], list[tuple[int, int]], dict[int, str]]:
    """Load 2D positions of every system of the route's regions, their gates, and names, from PostgreSQL."""
    regions = {s.region_id for s in route.systems if s.region_id is not None}
    rows = SolarSystem.objects.filter(region_id__in=regions).values_list("id", "name", "x_2d", "y_2d", "x", "z")
    positions: dict[int, tuple[float, float]] = {}
    names: dict[int, str] = {}
    for system_id, name, x2, y2, x, z in rows:
        positions[system_id] = (x2, -y2) if x2 is not None and y2 is not None else (x, -z)
        names[system_id] = name
    gates = [
        (a, b)
        for a, b in SolarSystemJump.objects.filter(
            from_system__region_id__in=regions, to_system__region_id__in=regions
        ).values_list("from_system_id", "to_system_id")
        if a < b
    ]
    # Systems of the route missing from the SDE tables (a scratch graph) are laid out on a line.
    for index, system in enumerate(route.systems):
        positions.setdefault(system.id, (float(index), 0.0))
        names.setdefault(system.id, system.name)
    return positions, gates, names


def route_svg_render(*, route: Route) -> str:
    """Draw a route on the map of the regions it crosses.

    Systems of those regions are grey dots joined by their gates; the route's
    systems are coloured by security, ringed by their risk level, and labelled.

    Args:
        route: The route.

    Returns:
        An SVG document.
    """
    positions, gates, names = _points(route)
    xs = [p[0] for p in positions.values()]
    ys = [p[1] for p in positions.values()]
    span_x = (max(xs) - min(xs)) or 1.0
    span_y = (max(ys) - min(ys)) or 1.0
    scale = min((WIDTH - 2 * PAD) / span_x, (HEIGHT - 2 * PAD - 40) / span_y)

    def at(system_id: int) -> tuple[float, float]:
        """Map a system to picture coordinates."""
        x, y = positions[system_id]
        return PAD + (x - min(xs)) * scale, PAD + 40 + (y - min(ys)) * scale

    title = f"{route.origin.name} to {route.destination.name}: {route.jumps} jumps, {route.mode}" + (
        ", avoiding risk" if route.avoid_risk else ""
    )
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH:g}" height="{HEIGHT:g}" '
        f'viewBox="0 0 {WIDTH:g} {HEIGHT:g}" font-family="sans-serif">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH:g}" height="{HEIGHT:g}" fill="#0b0f14"/>',
        f'<text x="{PAD:g}" y="28" fill="#e6e6e6" font-size="18">{escape(title)}</text>',
        '<g stroke="#2a3440" stroke-width="1">',
    ]
    for a, b in gates:
        (x1, y1), (x2, y2) = at(a), at(b)
        out.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"/>')
    out.append('</g><g fill="#4a5560">')
    on_route = {s.id for s in route.systems}
    for system_id in positions:
        if system_id not in on_route:
            x, y = at(system_id)
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2"><title>{escape(names[system_id])}</title></circle>')
    out.append("</g>")
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (at(s.id) for s in route.systems))
    out.append(f'<polyline points="{path}" fill="none" stroke="#9fd3ff" stroke-width="3" stroke-opacity="0.8"/>')
    for system in route.systems:
        x, y = at(system.id)
        tip = f"{system.name} {system.security_display:.1f}" + (
            f" {system.risk}: {'; '.join(system.risk_reasons)}" if system.risk else ""
        )
        ring = (
            f' stroke="{RISK_COLOURS[system.risk]}" stroke-width="3"'
            if system.risk in RISK_COLOURS
            else ' stroke="#0b0f14" stroke-width="1"'
        )
        out.append(
            f'<circle class="system risk-{system.risk or "none"}" data-id="{system.id}" cx="{x:.1f}" cy="{y:.1f}" '
            f'r="6" fill="{security_colour(system.security_display)}"{ring}><title>{escape(tip)}</title></circle>'
        )
        out.append(
            f'<text x="{x + 8:.1f}" y="{y - 8:.1f}" fill="#e6e6e6" font-size="11">'
            f"{escape(system.name)} {system.security_display:.1f}</text>"
        )
    out.append("</svg>")
    return "\n".join(out)
