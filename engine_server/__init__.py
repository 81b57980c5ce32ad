"""Softcut engine server: the WebSocket protocol, job queue, security and the Python client.

``protocol`` is a codec with no I/O (standard library only, shared with the
client); ``server`` is the asyncio layer over it; ``client`` is a blocking client
that needs only the standard library, so editor plug-ins can carry it.
"""
