"""Browser and network checks on every request: a Host allow-list (DNS rebinding), same-origin
state-changing requests (a web page elsewhere cannot drive the app or its API), and security
headers on every response, with a Content-Security-Policy the Dash pages work under."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from flask import Flask, Response, jsonify, request

LOOPBACK = ("127.0.0.1", "localhost", "::1")
STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")


def host_name(host_header: str) -> str:
    """`Host` header without its port, lower-case; IPv6 without brackets."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def allowed_hosts(bind_host: str | None = None, extra: Iterable[str] = ()) -> frozenset[str]:
    """Loopback names, the interface the server binds (unless a wildcard) and `--allow-host` names."""
    names = set(LOOPBACK) | {host_name(h) for h in extra if h}
    if bind_host and bind_host not in ("0.0.0.0", "::"):
        names.add(host_name(bind_host) if not bind_host.startswith("[") else bind_host.strip("[]").lower())
    return frozenset(names)


def content_security_policy(script_hashes: Iterable[str]) -> str:
    """The policy; `script_hashes` are quoted CSP sources (Dash's `app.csp_hashes()`)."""
    scripts = " ".join(script_hashes)
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' {scripts}".strip(),
            "style-src 'self' 'unsafe-inline'",  # Plotly and AG Grid inject <style> elements
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def _refuse(status: int, message: str):
    if request.path.startswith("/api/") or request.path.startswith("/_dash"):
        return jsonify({"error": message}), status
    return Response(message + "\n", status=status, mimetype="text/plain")


def _cross_site() -> str | None:
    """Why a state-changing request is cross-site, or None when it is same-origin (or not a browser's)."""
    origin = request.headers.get("Origin")
    if origin is not None:
        if origin == "null":
            return "an opaque (null) origin"
        parts = urlsplit(origin)
        if parts.netloc.lower() != request.host.lower() or parts.scheme not in ("http", "https"):
            return f"origin {origin[:100]}"
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        return "a cross-site page"
    return None


def install(server: Flask, hosts: frozenset[str], csp: Callable[[], str]) -> None:
    """Register the checks and headers on the Flask server behind the Dash app.

    `csp` builds the Content-Security-Policy once, at the first response (after Dash has
    registered every inline script it will serve).
    """
    server.config["ALLOWED_HOSTS"] = hosts
    policy: list[str] = []

    @server.before_request
    def check_request():
        if host_name(request.host) not in server.config["ALLOWED_HOSTS"]:
            return _refuse(
                400,
                f"unknown Host {request.host[:100]!r}: this server answers only to "
                f"{', '.join(sorted(server.config['ALLOWED_HOSTS']))} (see --allow-host)",
            )
        if request.method in STATE_CHANGING:
            why = _cross_site()
            if why:
                return _refuse(403, f"cross-site request refused ({why})")
        return None

    @server.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if not policy:
            policy.append(csp())
        headers.setdefault("Content-Security-Policy", policy[0])
        return response
