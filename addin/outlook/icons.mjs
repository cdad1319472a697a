// The add-in's icons as PNG, drawn here rather than rasterised from an SVG (no image
// library in the build): the leakwatch mark, a white ring with a dot (an eye) on a rounded
// blue square, at every size the manifests name. Deterministic, so the build is repeatable.

import zlib from "node:zlib";

const BLUE = [26, 95, 180];

function png(width, height, rgba) {
  const crcTable = new Int32Array(256).map((_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c;
  });
  const crc = (buf) => {
    let c = -1;
    for (const byte of buf) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
    return (c ^ -1) >>> 0;
  };
  const chunk = (type, data) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, "ascii");
    const tail = Buffer.alloc(4);
    tail.writeUInt32BE(crc(Buffer.concat([head.subarray(4), data])), 0);
    return Buffer.concat([head, data, tail]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 4 + 1)] = 0; // filter: none
    rgba.copy(raw, y * (width * 4 + 1) + 1, y * width * 4, (y + 1) * width * 4);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", zlib.deflateSync(raw, { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** Coverage of a pixel by a shape, from 4x4 samples (cheap anti-aliasing). */
function coverage(x, y, inside) {
  let hits = 0;
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) if (inside(x + (i + 0.5) / 4, y + (j + 0.5) / 4)) hits++;
  return hits / 16;
}

/**
 * The mark at `size` pixels. `outline`: the Teams-style outline icon (white on
 * transparent, no square) that the unified manifest asks for at 32 pixels.
 */
export function drawIcon(size, { outline = false } = {}) {
  const rgba = Buffer.alloc(size * size * 4);
  const c = size / 2;
  const radius = size * 0.18;
  const square = (x, y) => {
    const dx = Math.max(radius - x, 0, x - (size - radius));
    const dy = Math.max(radius - y, 0, y - (size - radius));
    return dx * dx + dy * dy <= radius * radius;
  };
  const ring = (x, y) => {
    const d = Math.hypot(x - c, y - c);
    return d <= size * 0.34 && d >= size * 0.22;
  };
  const dot = (x, y) => Math.hypot(x - c, y - c) <= size * 0.11;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const mark = coverage(x, y, (px, py) => ring(px, py) || dot(px, py));
      const base = outline ? 0 : coverage(x, y, square);
      const i = (y * size + x) * 4;
      const alpha = Math.max(base, mark);
      const white = alpha ? mark / alpha : 0;
      for (let k = 0; k < 3; k++) rgba[i + k] = Math.round(outline ? 255 : BLUE[k] * (1 - white) + 255 * white);
      rgba[i + 3] = Math.round(255 * alpha);
    }
  }
  return png(size, size, rgba);
}

/** File name -> [size, options]: what both manifests refer to. */
export const ICONS = {
  "icon-16.png": [16],
  "icon-32.png": [32],
  "icon-64.png": [64],
  "icon-80.png": [80],
  "icon-128.png": [128],
  "color.png": [192],
  "outline.png": [32, { outline: true }],
};
