// Hearth render-batch example: "Orrery".
// Written for Hearth's examples; animated with `clock` (0..1 over the
// animation). Three mirrored spheres orbit a glass core holding a gold ring,
// a small gold moon circles above it, all over a checkered floor that fades
// into fog; a soft area light casts the shadows and the camera drifts slowly.
// Only includes shipped with POV-Ray are used. Nothing is random (no rand(),
// no area-light jitter), so a frame renders to the same pixels every time.
// About 3-4 s per 640x360 frame with +A0.3 on one core (+WT1).
#version 3.7;

#include "colors.inc"
#include "textures.inc"
#include "metals.inc"

global_settings {
    assumed_gamma 1.0
    max_trace_level 8
}

#declare T = clock;            // 0..1 across the animation
#declare Turn = 360 * T;       // one full orbit per animation

camera {
    location <9 * sin(radians(25 + 20 * T)), 3.2, -9 * cos(radians(25 + 20 * T))>
    look_at <0, 0.9, 0>
    angle 56
    right x * image_width / image_height
}

// A soft key light (area light, no jitter: deterministic) and a dim fill.
light_source {
    <-5, 9, -4>
    color rgb <1.0, 0.96, 0.9> * 1.1
    area_light <2.5, 0, 0>, <0, 0, 2.5>, 9, 9
    adaptive 0
    circular
    orient
}
light_source { <6, 4, -7> color rgb <0.35, 0.4, 0.5> shadowless }

sky_sphere {
    pigment {
        gradient y
        color_map {
            [0.0 color rgb <0.05, 0.06, 0.11>]
            [0.3 color rgb <0.02, 0.03, 0.07>]
            [1.0 color rgb <0.005, 0.005, 0.02>]
        }
    }
}

// Distance fog hides the far checkers (and their costly antialiasing).
fog { distance 18 color rgb <0.05, 0.06, 0.11> }

// Checkered floor with a faint reflection.
plane {
    y, 0
    texture {
        pigment { checker color rgb <0.7, 0.68, 0.6> color rgb <0.02, 0.025, 0.05> scale 1.5 }
        finish { diffuse 0.8 specular 0.2 roughness 0.02 reflection { 0.08 } }
    }
}

// The glass core; the gold ring inside turns three times per animation.
union {
    sphere {
        0, 0.8
        texture {
            pigment { color rgbf <0.9, 0.95, 1.0, 0.92> }
            finish { specular 0.7 roughness 0.005 reflection { 0.05, 0.3 fresnel on } conserve_energy }
        }
        interior { ior 1.45 }
    }
    torus {
        0.45, 0.07
        rotate <70, 3 * Turn, 0>
        texture { T_Gold_3C }
    }
    translate <0, 1.0, 0>
}

// Mirrored spheres on tilted orbits at different speeds.
#macro Orbiter(Radius, Size, Speed, Phase, Tilt, Tint)
    sphere {
        <Radius, 0, 0>, Size
        texture {
            pigment { color Tint }
            finish { ambient 0 diffuse 0.3 specular 0.9 roughness 0.003 metallic reflection { 0.6 } }
        }
        rotate <0, Phase + Speed * Turn, 0>
        rotate <Tilt, 0, 0>
        translate <0, 1.0, 0>
    }
#end

Orbiter(1.9, 0.38, 1, 0, 8, rgb <0.9, 0.9, 0.95>)
Orbiter(2.7, 0.30, -1, 120, -6, rgb <0.95, 0.55, 0.45>)
Orbiter(3.3, 0.45, 2, 200, 4, rgb <0.5, 0.75, 0.95>)

// A small gold moon on a steep orbit above the core.
sphere {
    <1.2, 0, 0>, 0.16
    texture { T_Gold_5A }
    rotate <0, 4 * Turn, 0>
    rotate <-20, 0, 0>
    translate <0, 1.6, 0>
}

// Plinth under the core.
cylinder {
    <0, 0, 0>, <0, 0.15, 0>, 1.1
    texture { T_Chrome_2D }
}
