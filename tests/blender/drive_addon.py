# Drives the Blender add-on (examples/blender-batch/hearth_blender) headless
# against a running `hearth serve` + `hearth site`:
#
#   HEARTH_SERVER=... HEARTH_TOKEN=... blender -b scene.blend --python-exit-code 1 \
#       --python tests/blender/drive_addon.py -- OUT_DIR
#
# scene.blend: make_scene.py's, frames 1-6, the token a tenant "studio"'s.
# Registers the add-on, checks its menu entry, refuses frames outside the
# file's and a tenant the token does not speak for (nothing queued), then
# renders frames 2-5 with "Render on Hearth" (chunk 2, priority 5), once
# waiting and once following with "Refresh Hearth job", and downloads them
# into OUT_DIR/wait and OUT_DIR/follow. Prints "drive_addon: OK" at the end;
# any failed check raises (exit 1).
import os
import sys
import time

import bpy

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.normpath(os.path.join(here, "..", "..", "examples", "blender-batch")))
import hearth_blender  # noqa: E402
from hearth_blender import job as addon_job  # noqa: E402

out = sys.argv[sys.argv.index("--") + 1]
hearth_blender.register()
hearth = hearth_blender._client_module()
assert hearth is not None, "the add-on did not find the hearth client"
client = hearth.Client()

# The entry in the Render menu.
draws = getattr(bpy.types.TOPBAR_MT_render.draw, "_draw_funcs", [])
assert hearth_blender.menu_entry in draws, f"no Render menu entry: {draws}"
assert bpy.ops.render.hearth_submit.get_rna_type().name == "Render on Hearth"

scene = bpy.context.scene
s = scene.hearth
s.chunk = 2
s.priority = 5


def expect_refusal(says):
    before = len(client.jobs())
    try:
        bpy.ops.render.hearth_submit()
    except RuntimeError as e:
        assert says in str(e), f"refusal without '{says}': {e}"
        print(f"drive_addon: refused: {str(e).strip()}")
    else:
        raise AssertionError(f"submitted, expected a refusal naming '{says}'")
    assert len(client.jobs()) == before, "a refused submission queued a job"


s.use_scene_range = False
s.frame_start, s.frame_end = 4, 9
expect_refusal("frames 4-9 are outside the scene's frames 1-6")
s.frame_start, s.frame_end = 2, 5
s.tenant = "bank"
expect_refusal("your token speaks for tenant 'studio', not 'bank'")
s.tenant = ""
try:
    addon_job.submission("", 1, 2, 1, 6, 1, "", 0)
    raise AssertionError("an unsaved file was accepted")
except addon_job.JobError as e:
    assert "never been saved" in str(e)

# Waiting (scripts, blender -b).
s.out_dir = os.path.join(out, "wait")
assert bpy.ops.render.hearth_submit(wait=True) == {"FINISHED"}
j = client.job(s.job_id)
assert j.state == "finished" and j.total == 2 and j.committed == 2, j
assert j.priority == 5 and j.split_text == "2-5" and j.tenant == "studio", j
assert s.status.startswith(f"{j.id} finished: 2/2 tasks done"), s.status
assert abs(s.progress - 1.0) < 1e-9, s.progress
print(f"drive_addon: {s.status}")

# Following with the refresh operator (what the UI's timer does).
s.out_dir = os.path.join(out, "follow")
assert bpy.ops.render.hearth_submit() == {"FINISHED"}
first = s.job_id
seen = set()
for _ in range(600):
    bpy.ops.render.hearth_refresh()
    seen.add(s.status.split(":")[0])
    if "finished" in s.status or "failed" in s.status:
        break
    time.sleep(0.2)
assert s.job_id == first and "finished: 2/2 tasks done" in s.status, s.status
print(f"drive_addon: states seen {sorted(seen)}")
for d in ("wait", "follow"):
    got = sorted(os.listdir(os.path.join(out, d)))
    assert got == [f"frame_000{f}.png" for f in range(2, 6)], (d, got)
hearth_blender.unregister()
print("drive_addon: OK")
