# Prints the frame range of the .blend Blender was started with, for run.sh's
# checks before anything is queued:
#
#   blender -b --factory-startup FILE.blend --python blend_info.py
#
# prints "hearth-blend-info START END SCENE" on a line of its own. (A file
# Blender cannot open never gets here: Blender exits with its own message.)
import bpy

s = bpy.context.scene
print(f"hearth-blend-info {s.frame_start} {s.frame_end} {s.name}", flush=True)
