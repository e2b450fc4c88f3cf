# Builds the example scene inside Blender and saves it as a .blend:
#
#   blender -b --factory-startup --python make_scene.py -- OUT.blend [--size WxH] [--samples N] [--frames N]
#
# A ground plane, three coloured shapes and a sphere orbiting them, a sun and
# a camera; the sphere's orbit is keyed over frames 1..N so every frame
# differs. Rendered with Cycles on the CPU with a fixed seed and sample count
# and no denoiser, so a frame rendered anywhere is the same pixels as the same
# frame rendered serially. The render stamps (date, time, render time) are off:
# Blender would otherwise write them into every PNG's metadata.
import math
import os
import sys

import bpy


def parse(argv):
    args = argv[argv.index("--") + 1:] if "--" in argv else []
    opts = {"size": "64x48", "samples": 8, "frames": 6}
    out = None
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("--size", "--samples", "--frames") and i + 1 < len(args):
            opts[a[2:]] = args[i + 1]
            i += 2
        elif a.startswith("-"):
            sys.exit(f"make_scene.py: unknown option '{a}'")
        else:
            out = a
            i += 1
    if not out:
        sys.exit("make_scene.py: usage: blender -b --python make_scene.py -- OUT.blend [--size WxH] "
                 "[--samples N] [--frames N]")
    w, _, h = str(opts["size"]).partition("x")
    # os.getcwd(), not Blender's idea of it: Blender trusts $PWD, which may be stale.
    return os.path.abspath(out), int(w), int(h), int(opts["samples"]), int(opts["frames"])


def material(name, rgb):
    m = bpy.data.materials.new(name)
    m.use_nodes = True
    m.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = (*rgb, 1.0)
    return m


def main():
    out, width, height, samples, frames = parse(sys.argv)
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.name = "Orrery"

    bpy.ops.mesh.primitive_plane_add(size=20, location=(0, 0, 0))
    bpy.context.object.data.materials.append(material("ground", (0.6, 0.6, 0.55)))
    bpy.ops.mesh.primitive_cube_add(size=1.2, location=(-1.5, 0, 0.6))
    bpy.context.object.data.materials.append(material("red", (0.8, 0.1, 0.1)))
    bpy.ops.mesh.primitive_cylinder_add(radius=0.5, depth=1.6, location=(1.5, 0, 0.8))
    bpy.context.object.data.materials.append(material("blue", (0.1, 0.2, 0.8)))
    bpy.ops.mesh.primitive_cone_add(radius1=0.6, depth=1.4, location=(0, 1.6, 0.7))
    bpy.context.object.data.materials.append(material("green", (0.1, 0.7, 0.2)))
    bpy.ops.mesh.primitive_uv_sphere_add(radius=0.4, location=(0, -2.5, 0.4))
    moon = bpy.context.object
    moon.data.materials.append(material("gold", (0.9, 0.7, 0.2)))
    for f in range(1, frames + 1):
        a = 2 * math.pi * (f - 1) / max(frames, 1)
        moon.location = (2.5 * math.sin(a), -2.5 * math.cos(a), 0.4)
        moon.keyframe_insert("location", frame=f)

    bpy.ops.object.light_add(type="SUN", location=(3, -3, 6))
    bpy.context.object.data.energy = 3.0
    bpy.context.object.rotation_euler = (math.radians(40), 0, math.radians(30))
    bpy.ops.object.camera_add(location=(0, -7.5, 4.5), rotation=(math.radians(60), 0, 0))
    scene.camera = bpy.context.object
    world = bpy.data.worlds.new("sky")
    world.use_nodes = True
    world.node_tree.nodes["Background"].inputs["Color"].default_value = (0.4, 0.5, 0.7, 1.0)
    scene.world = world

    r = scene.render
    r.engine = "CYCLES"
    r.resolution_x, r.resolution_y, r.resolution_percentage = width, height, 100
    r.image_settings.file_format = "PNG"
    r.image_settings.color_mode = "RGB"
    r.use_file_extension = True
    for stamp in ("use_stamp_date", "use_stamp_time", "use_stamp_render_time", "use_stamp_frame",
                  "use_stamp_frame_range", "use_stamp_memory", "use_stamp_hostname", "use_stamp_camera",
                  "use_stamp_lens", "use_stamp_scene", "use_stamp_marker", "use_stamp_filename",
                  "use_stamp_sequencer_strip", "use_stamp_note"):
        setattr(r, stamp, False)
    r.use_stamp = False
    c = scene.cycles
    c.device = "CPU"
    c.samples = samples
    c.use_adaptive_sampling = False
    c.use_denoising = False
    c.seed = 7
    c.use_animated_seed = False
    scene.frame_start, scene.frame_end = 1, frames
    bpy.ops.wm.save_as_mainfile(filepath=out)
    print(f"make_scene.py: wrote {out}: {width}x{height}, {samples} samples, frames 1-{frames}")


main()
