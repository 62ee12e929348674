"""The engine's domain, one module per resource family (as moto splits a large service's models).

Protocol-free: methods take Python (snake_case) parameters, return records in AWS's shapes and raise the
typed errors of `engine.errors`. `engine.backend.Backend` wires the families together.
"""
