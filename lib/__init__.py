"""Glassbox logic: every module here imports without Streamlit (the guard test
`tests/test_architecture.py` checks it).

Set before torch is first imported: on a busy 2-core machine (a classroom
server, CI) OpenMP threads that spin while waiting for each other made a
MiniLM forward pass 10-25× slower than passive waiting (measured).
"""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
