"""Hearth for Blender: "Render on Hearth" in the Render menu.

Submits the saved .blend to a Hearth scheduler (`hearth serve`) as a job of
frames in chunks, with the tenant and priority you choose, and shows the
job's progress in Properties > Render > Hearth; when it finishes, the frames
are downloaded next to the .blend (//hearth/ by default).

Install: copy this folder (hearth_blender) into Blender's add-ons folder
(~/.config/blender/3.4/scripts/addons/) and enable "Render: Hearth" in
Preferences > Add-ons. It needs the `hearth` Python client (runner/python
of the Hearth tree): pip-install it into Blender's Python, or copy
runner/python/hearth into this folder; from a Hearth checkout it is found
without either. The server comes from the panel or HEARTH_SERVER, the token
from where the hearth CLI reads it: HEARTH_TOKEN, the file
HEARTH_TOKEN_FILE, or ~/.config/hearth/token.
"""

import os
import sys

import bpy

bl_info = {
    "name": "Hearth",
    "author": "Hearth",
    "version": (0, 1, 0),
    "blender": (3, 4, 0),
    "location": "Render > Render on Hearth; Properties > Render > Hearth",
    "description": "Render the current file's frames on a Hearth grid",
    "category": "Render",
}


def _client_module():
    """The hearth client: installed, copied into this folder, or the tree's."""
    here = os.path.dirname(os.path.abspath(__file__))
    for path in (None, here, os.path.normpath(os.path.join(here, "..", "..", "..", "runner", "python"))):
        if path is not None and path not in sys.path:
            if not os.path.isfile(os.path.join(path, "hearth", "client.py")):
                continue
            sys.path.append(path)
        try:
            import hearth  # noqa: F401  (the client package, not this add-on)
            return hearth
        except ImportError:
            continue
    return None


from . import job as _job  # noqa: E402


class HearthSettings(bpy.types.PropertyGroup):
    server: bpy.props.StringProperty(name="Server", description="the scheduler's URL (default HEARTH_SERVER)")
    tenant: bpy.props.StringProperty(name="Tenant", description="who pays (default: the token's tenant)")
    priority: bpy.props.IntProperty(name="Priority", default=0, min=-1000, max=1000,
                                    description="order among the tenant's own jobs")
    chunk: bpy.props.IntProperty(name="Frames a task", default=4, min=1)
    use_scene_range: bpy.props.BoolProperty(name="Scene's frame range", default=True)
    frame_start: bpy.props.IntProperty(name="Start", default=1)
    frame_end: bpy.props.IntProperty(name="End", default=250)
    out_dir: bpy.props.StringProperty(name="Download to", default="//hearth/", subtype="DIR_PATH")
    job_id: bpy.props.StringProperty(name="Job")
    status: bpy.props.StringProperty(name="Status")
    progress: bpy.props.FloatProperty(name="Progress", min=0.0, max=1.0, subtype="FACTOR")


def _settings(context):
    return context.scene.hearth


def _client(s):
    hearth = _client_module()
    if hearth is None:
        raise _job.JobError("the hearth Python client is missing: pip-install runner/python into Blender's "
                            "Python, or copy runner/python/hearth into the add-on's folder")
    return hearth, hearth.Client(server=s.server or None, tenant=s.tenant or None)


def _update(s, j):
    s.status = _job.progress_line(j)
    s.progress = j.committed / j.total if j.total else 0.0


def _poll(scene):
    """Updates scene's job status once; downloads the frames when it finished.
    Returns True when the job is over (or there is none)."""
    s = scene.hearth
    if not s.job_id:
        return True
    hearth, client = _client(s)
    j = client.job(s.job_id)
    _update(s, j)
    if j.state in hearth.FINAL_STATES:
        if j.state == "finished":
            out = bpy.path.abspath(s.out_dir)
            files = client.download(j, out)
            s.status += f"; {len(files)} frame(s) in {out}"
        return True
    return False


def _timer():
    """Refreshes every scene's job while Blender's UI runs."""
    busy = False
    for scene in bpy.data.scenes:
        try:
            busy = not _poll(scene) or busy
        except Exception as e:  # a dropped connection costs one poll
            scene.hearth.status = f"{scene.hearth.job_id}: {e}"
            busy = True
    for w in bpy.context.window_manager.windows:
        for a in w.screen.areas:
            a.tag_redraw()
    return 2.0 if busy else None


class RENDER_OT_hearth_submit(bpy.types.Operator):
    """Render the saved file's frames on a Hearth grid"""

    bl_idname = "render.hearth_submit"
    bl_label = "Render on Hearth"

    wait: bpy.props.BoolProperty(name="Wait", default=False, options={"SKIP_SAVE"},
                                 description="block until the job is over (scripts, blender -b)")

    def execute(self, context):
        s = _settings(context)
        scene = context.scene
        first, last = ((scene.frame_start, scene.frame_end) if s.use_scene_range
                       else (s.frame_start, s.frame_end))
        try:
            if bpy.data.is_dirty and bpy.data.filepath:
                bpy.ops.wm.save_mainfile()  # the farm renders what is on disk
            kw = _job.submission(bpy.data.filepath, first, last, scene.frame_start, scene.frame_end,
                                 s.chunk, s.tenant, s.priority)
            hearth, client = _client(s)
            # A tenant the token does not speak for: refused before the .blend is uploaded.
            who = client.whoami()
            if s.tenant and who.get("kind") == "tenant" and who.get("tenant") != s.tenant:
                raise _job.JobError(f"your token speaks for tenant '{who.get('tenant')}', not '{s.tenant}'; "
                                    "clear the Tenant field or use that tenant's token")
            j = client.submit(**kw)
        except Exception as e:  # JobError, hearth.HearthError: the reason is the message
            self.report({"ERROR"}, f"Hearth: {e}")
            return {"CANCELLED"}
        s.job_id = j.id
        _update(s, j)
        self.report({"INFO"}, f"Hearth: job {j.id} queued at {client.server}: frames {kw['frames']}, "
                              f"{j.total} tasks")
        if self.wait:
            try:
                while not _poll(scene):
                    import time
                    time.sleep(0.5)
            except Exception as e:
                self.report({"ERROR"}, f"Hearth: {e}")
                return {"CANCELLED"}
            self.report({"INFO"}, f"Hearth: {s.status}")
        elif not bpy.app.background and not bpy.app.timers.is_registered(_timer):
            bpy.app.timers.register(_timer, first_interval=2.0)
        return {"FINISHED"}


class RENDER_OT_hearth_refresh(bpy.types.Operator):
    """Ask the scheduler where the job stands now"""

    bl_idname = "render.hearth_refresh"
    bl_label = "Refresh Hearth job"

    def execute(self, context):
        try:
            _poll(context.scene)
        except Exception as e:
            self.report({"ERROR"}, f"Hearth: {e}")
            return {"CANCELLED"}
        self.report({"INFO"}, f"Hearth: {context.scene.hearth.status}")
        return {"FINISHED"}


class RENDER_PT_hearth(bpy.types.Panel):
    bl_label = "Hearth"
    bl_space_type = "PROPERTIES"
    bl_region_type = "WINDOW"
    bl_context = "render"

    def draw(self, context):
        s = _settings(context)
        col = self.layout.column()
        col.prop(s, "server")
        col.prop(s, "tenant")
        col.prop(s, "priority")
        col.prop(s, "chunk")
        col.prop(s, "use_scene_range")
        if not s.use_scene_range:
            row = col.row(align=True)
            row.prop(s, "frame_start")
            row.prop(s, "frame_end")
        col.prop(s, "out_dir")
        col.operator(RENDER_OT_hearth_submit.bl_idname, icon="RENDER_ANIMATION")
        if s.job_id:
            col.prop(s, "progress", text=s.status, slider=True)
            col.operator(RENDER_OT_hearth_refresh.bl_idname, icon="FILE_REFRESH")


def menu_entry(self, context):
    self.layout.separator()
    self.layout.operator(RENDER_OT_hearth_submit.bl_idname, icon="RENDER_ANIMATION")


_classes = (HearthSettings, RENDER_OT_hearth_submit, RENDER_OT_hearth_refresh, RENDER_PT_hearth)


def register():
    for c in _classes:
        bpy.utils.register_class(c)
    bpy.types.Scene.hearth = bpy.props.PointerProperty(type=HearthSettings)
    bpy.types.TOPBAR_MT_render.append(menu_entry)


def unregister():
    bpy.types.TOPBAR_MT_render.remove(menu_entry)
    if bpy.app.timers.is_registered(_timer):
        bpy.app.timers.unregister(_timer)
    del bpy.types.Scene.hearth
    for c in reversed(_classes):
        bpy.utils.unregister_class(c)
