"""One module per request type, each mapping a request onto core.

Every operation is ``async def run(engine, job, request) -> Reply``: it decodes
the request's buffers, runs core's stages on the engine's workers (reporting
progress through the job, which also stops the work when it is cancelled) and
returns the reply's fields and output buffers.
"""
