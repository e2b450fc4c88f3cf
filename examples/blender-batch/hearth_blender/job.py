"""What the add-on sends: a Hearth job rendering a saved .blend's frames.

No bpy here: the operator reads the scene and calls these, so the rules
(frame range inside the file's, a name the server accepts) are one place.
"""

import os
import re

# The task's command, as the shipped template (runner/templates/blender.toml)
# has it. Blender resolves relative paths against $PWD, which a task inherits
# from whoever started Hearth: sh resets it and every path Blender sees is
# absolute. {items} is the task's frames comma-separated, as -f takes them;
# -o comes after the .blend (loading the file resets it).
COMMAND = 'exec blender -b "$PWD/{name}" -o "$PWD/frame_####" -F PNG -f {{items}}'
COLLECT = ["frame_*.png"]


class JobError(ValueError):
    """A setting the add-on refuses before anything is sent."""


def job_name(blend_path):
    """A job label from the file name: letters, digits, '.', '_', '-'."""
    stem = os.path.splitext(os.path.basename(blend_path))[0]
    return (re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-") or "blend")[:64]


def check_frames(first, last, scene_first, scene_last):
    if first > last:
        raise JobError(f"frames {first}-{last} run backwards; set the first frame at or before the last")
    if first < scene_first or last > scene_last:
        raise JobError(f"frames {first}-{last} are outside the scene's frames {scene_first}-{scene_last}; "
                       "pick frames in that range (or change the scene's frame range)")


def submission(blend_path, first, last, scene_first, scene_last, chunk, tenant, priority):
    """The keyword arguments of hearth.Client.submit for this render."""
    if not blend_path:
        raise JobError("the file has never been saved; save it (File > Save) so the farm has a .blend to render")
    if not os.path.isfile(blend_path):
        raise JobError(f"'{blend_path}' does not exist; save the file again")
    check_frames(first, last, scene_first, scene_last)
    if chunk < 1:
        raise JobError(f"chunk {chunk}: a task needs at least one frame; use 1 or more")
    if not -1000 <= priority <= 1000:
        raise JobError(f"priority {priority} is out of range; use -1000 to 1000")
    name = os.path.basename(blend_path)
    return {
        "command": ["sh", "-c", COMMAND.format(name=name)],
        "frames": f"{first}-{last}",
        "chunk": chunk,
        "stage": [blend_path],
        "collect": list(COLLECT),
        "tenant": tenant or None,
        "priority": priority,
        "name": job_name(blend_path),
    }


def progress_line(job):
    """'j-000004 running: 3/6 tasks done, 1 running, 0 failed'."""
    line = f"{job.id} {job.state}: {job.committed}/{job.total} tasks done"
    if job.running:
        line += f", {job.running} running"
    if job.failed:
        line += f", {job.failed} failed"
    return line
