"""hearth: the Python client of Hearth's scheduler (`hearth serve`).

Standard library only; Python 3.9 or later (Blender's Python imports it).

    import hearth
    c = hearth.Client()               # HEARTH_SERVER, HEARTH_TOKEN / _FILE / ~/.config/hearth/token
    job = c.submit(["./risk_mc", "--blocks", "{first}-{last}", "--paths", "20000"],
                   seeds="0-63", stage=["risk_mc"], collect=["block_*.bin"], name="risk")
    job = c.wait(job)
    c.download(job, "out")
    print(c.energy(job))

See runner/python/README.md and hearth-api(7).
"""

from .client import FINAL_STATES, Client, Energy, Job, Output, Task, load_token
from .errors import (BadRequest, Conflict, Forbidden, HearthError, NotFound, ServerError, Unauthorized,
                     Unreachable, UsageError)

__version__ = "0.1.0"

__all__ = [
    "Client", "Job", "Task", "Output", "Energy", "FINAL_STATES", "load_token",
    "HearthError", "BadRequest", "Unauthorized", "Forbidden", "NotFound", "Conflict", "ServerError",
    "Unreachable", "UsageError",
]
