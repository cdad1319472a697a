// UTF-8 TextEncoder/TextDecoder for runtimes without them (the classic Outlook event
// runtime). Only what wasm-bindgen's glue uses: encode, encodeInto and decode.
function Utf8Encoder() {}
Utf8Encoder.prototype.encode = function (text) {
  var out = [];
  for (var i = 0; i < text.length; i++) {
    var code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      var next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
        i++;
      }
    }
    if (code >= 0xd800 && code <= 0xdfff) code = 0xfffd; // a lone surrogate
    if (code < 0x80) out.push(code);
    else if (code < 0x800) out.push(0xc0 | (code >> 6), 0x80 | (code & 63));
    else if (code < 0x10000) out.push(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
    else out.push(0xf0 | (code >> 18), 0x80 | ((code >> 12) & 63), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
  }
  return new Uint8Array(out);
};
Utf8Encoder.prototype.encodeInto = function (text, view) {
  var bytes = this.encode(text);
  var written = Math.min(bytes.length, view.length);
  view.set(bytes.subarray(0, written));
  // wasm-bindgen always passes a view large enough for the whole string.
  return { read: text.length, written: written };
};
function Utf8Decoder() {}
Utf8Decoder.prototype.decode = function (bytes) {
  if (!bytes) return "";
  var out = "";
  var i = 0;
  while (i < bytes.length) {
    var b = bytes[i++];
    var code;
    if (b < 0x80) code = b;
    else if (b >= 0xc0 && b < 0xe0 && i < bytes.length) code = ((b & 31) << 6) | (bytes[i++] & 63);
    else if (b >= 0xe0 && b < 0xf0 && i + 1 < bytes.length) {
      code = ((b & 15) << 12) | ((bytes[i] & 63) << 6) | (bytes[i + 1] & 63);
      i += 2;
    } else if (b >= 0xf0 && i + 2 < bytes.length) {
      code = ((b & 7) << 18) | ((bytes[i] & 63) << 12) | ((bytes[i + 1] & 63) << 6) | (bytes[i + 2] & 63);
      i += 3;
    } else code = 0xfffd;
    if (code >= 0x10000) {
      code -= 0x10000;
      out += String.fromCharCode(0xd800 + (code >> 10), 0xdc00 + (code & 1023));
    } else {
      out += String.fromCharCode(code);
    }
  }
  return out;
};
