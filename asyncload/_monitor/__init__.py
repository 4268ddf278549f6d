"""The load monitor (one per client, shared polls) and its pure parts.

``policy`` is the pure polling schedule (no I/O, no clock); ``monitor`` runs it for every watched
target in the client's task group; ``batch`` shares whole-collection polls in one RPC; ``ratelimit``
caps a client's progress polls.
"""
