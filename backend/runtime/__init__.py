"""The roles as processes (``python -m backend ROLE``) and the supervisor that starts them,
watches their liveness and restarts what stops working.

May import everything in the backend; nothing imports it back.
"""
