// The editor's layer compositor. Every value is premultiplied and sRGB-encoded, and the render
// target is a non-sRGB (UNORM) format, so the fixed-function blender works on sRGB-encoded values
// exactly as the CPU reference compositor does (see compositor/cpu.rs).

struct Draw {
    // Destination quad in normalised device coordinates: x0, y0, x1, y1.
    dst: vec4<f32>,
    // Source rectangle in texture coordinates: u0, v0, u1, v1.
    uv: vec4<f32>,
    // Tint for mask overlays (premultiplied), unused by layers.
    tint: vec4<f32>,
    // x: layer opacity; y: mode (0 normal, 1 multiply pass 1, 2 multiply pass 2, 3 mask tint,
    // 4 checkerboard); z: checker square size in pixels.
    params: vec4<f32>,
    // The layer's footprint in target pixels (x0, y0, x1, y1): edge pixels get the fraction of
    // their area it covers, as the CPU compositor does, instead of all-or-nothing rasterisation.
    footprint: vec4<f32>,
    // xy: the target (viewport) size in pixels.
    viewport: vec4<f32>,
};

@group(0) @binding(0) var tex: texture_2d<f32>;
@group(0) @binding(1) var samp: sampler;
@group(1) @binding(0) var<uniform> draw: Draw;

struct VsOut {
    @builtin(position) pos: vec4<f32>,
    @location(0) uv: vec2<f32>,
    // Position in target pixels, relative to the viewport (the framebuffer position is not: in
    // egui's render pass the viewport is the canvas rectangle, not the window).
    @location(1) tpx: vec2<f32>,
};

@vertex
fn vs_main(@builtin(vertex_index) i: u32) -> VsOut {
    // Two triangles: (0,0) (1,0) (0,1) / (0,1) (1,0) (1,1).
    var corners = array<vec2<f32>, 6>(
        vec2<f32>(0.0, 0.0), vec2<f32>(1.0, 0.0), vec2<f32>(0.0, 1.0),
        vec2<f32>(0.0, 1.0), vec2<f32>(1.0, 0.0), vec2<f32>(1.0, 1.0),
    );
    let c = corners[i];
    var out: VsOut;
    out.pos = vec4<f32>(mix(draw.dst.x, draw.dst.z, c.x), mix(draw.dst.y, draw.dst.w, c.y), 0.0, 1.0);
    out.uv = vec2<f32>(mix(draw.uv.x, draw.uv.z, c.x), mix(draw.uv.y, draw.uv.w, c.y));
    out.tpx = vec2<f32>((out.pos.x + 1.0) * 0.5 * draw.viewport.x, (1.0 - out.pos.y) * 0.5 * draw.viewport.y);
    return out;
}

@fragment
fn fs_main(in: VsOut) -> @location(0) vec4<f32> {
    let mode = u32(draw.params.y + 0.5);
    if mode == 4u {
        let cell = vec2<i32>(floor(in.pos.xy / draw.params.z));
        let light = ((cell.x + cell.y) & 1) == 0;
        let v = select(0.80, 1.0, light);
        return vec4<f32>(v, v, v, 1.0);
    }
    let texel = textureSample(tex, samp, in.uv);
    let p = in.tpx;
    let f = draw.footprint;
    let cover_x = clamp(min(p.x + 0.5, f.z) - max(p.x - 0.5, f.x), 0.0, 1.0);
    let cover_y = clamp(min(p.y + 0.5, f.w) - max(p.y - 0.5, f.y), 0.0, 1.0);
    let o = draw.params.x * cover_x * cover_y;
    if mode == 3u {
        return draw.tint * (texel.r * o);
    }
    let s = texel * o;
    if mode == 1u {
        // Multiply, first pass: the blender computes dst * (S + 1 - a), the terms of
        // W3C Multiply that scale the backdrop: (1 - a)·B + S·B. Alpha is left alone.
        return vec4<f32>(s.rgb + vec3<f32>(1.0 - s.a), 1.0);
    }
    // Normal, and Multiply's second pass (S·(1 - Ab) added by the blender, alpha a + Ab·(1 - a)).
    return s;
}
