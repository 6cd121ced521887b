"""The citizen's or staff member's own address when the service runs behind a reverse proxy.

Login lockout per address and the web chat's rate limits key on ``request.remote``. Behind a
proxy that is the proxy's address for everyone, so one attacker could lock every member of staff
out. The proxy's ``X-Forwarded-For`` is believed only when the connection comes from an address
the operator listed as a trusted proxy; a client talking to the service directly cannot forge
its address with the header.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

Network = IPv4Network | IPv6Network


def client_address(
    peer: str | None, forwarded_for: str | None, trusted: Sequence[Network]
) -> str | None:
    """The first address, from the right, of the chain that is not one of the trusted proxies.

    ``peer`` is the address of the connection; ``forwarded_for`` what the proxies appended. If
    the peer is not trusted, it is the client. If every address in the chain is trusted, the
    left-most one is the best there is.
    """
    if peer is None or not _is_trusted(peer, trusted) or not forwarded_for:
        return peer
    chain = [part.strip() for part in forwarded_for.split(",") if part.strip()]
    for candidate in reversed(chain):
        if not _is_trusted(candidate, trusted):
            return candidate if _is_address(candidate) else peer
    return chain[0] if _is_address(chain[0]) else peer


def forwarded_middleware(trusted: Sequence[Network]) -> Middleware:
    """A root-app middleware that puts the client's own address into ``request.remote``."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        forwarded = ",".join(request.headers.getall("X-Forwarded-For", []))
        remote = client_address(request.remote, forwarded, trusted)
        if remote is not None and remote != request.remote:
            request = request.clone(remote=remote)
        return await handler(request)

    return middleware


def _is_address(text: str) -> bool:
    try:
        ip_address(text)
    except ValueError:
        return False
    return True


def _is_trusted(text: str, trusted: Sequence[Network]) -> bool:
    try:
        address = ip_address(text)
    except ValueError:
        return False
    return any(address in network for network in trusted)
