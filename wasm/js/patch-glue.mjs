// Applied by scripts/build-sdk to wasm-bindgen's glue (wasm/pkg/sieve_wasm.js) before it is
// minified: strings go into the wasm through one `TextEncoder.encodeInto` instead of a
// JavaScript loop over their characters.
//
// wasm-bindgen 0.2.130's `passStringToWasm0` copies a string's ASCII prefix one character at a
// time and only hands the rest to `encodeInto`. Every `track()` passes a ~1 KB raw event, all
// ASCII in the usual case: the loop cost ~2 µs a call in V8, `encodeInto` of the whole string
// ~0.1 µs (BENCHMARKS.md, "track(): where the time goes"). The bytes written are the same:
// the loop's bytes are the ASCII characters' own UTF-8, and `encodeInto` wrote the rest
// already. The buffer is allocated at the UTF-8 worst case (3 bytes per UTF-16 unit, as the
// glue's own non-ASCII path does) and shrunk to what was written.
//
//   node wasm/js/patch-glue.mjs wasm/pkg/sieve_wasm.js
//
// Fails, changing nothing, when the glue is not the code this replaces (another
// wasm-bindgen version): the pin in wasm/Cargo.toml and this file move together.
import { readFileSync, writeFileSync } from 'node:fs';

const file = process.argv[2];
const glue = readFileSync(file, 'utf8');
const loop = `    let len = arg.length;
    let ptr = malloc(len, 1) >>> 0;

    const mem = getUint8ArrayMemory0();

    let offset = 0;

    for (; offset < len; offset++) {
        const code = arg.charCodeAt(offset);
        if (code > 0x7F) break;
        mem[ptr + offset] = code;
    }
    if (offset !== len) {
        if (offset !== 0) {
            arg = arg.slice(offset);
        }
        ptr = realloc(ptr, len, len = offset + arg.length * 3, 1) >>> 0;
        const view = getUint8ArrayMemory0().subarray(ptr + offset, ptr + len);
        const ret = cachedTextEncoder.encodeInto(arg, view);

        offset += ret.written;
        ptr = realloc(ptr, len, offset, 1) >>> 0;
    }

    WASM_VECTOR_LEN = offset;
    return ptr;`;
const encodeInto = `    const len = arg.length * 3;
    let ptr = malloc(len, 1) >>> 0;
    const { written } = cachedTextEncoder.encodeInto(arg, getUint8ArrayMemory0().subarray(ptr, ptr + len));
    if (written !== len) ptr = realloc(ptr, len, written, 1) >>> 0;
    WASM_VECTOR_LEN = written;
    return ptr;`;
const at = glue.indexOf(loop);
if (at < 0 || glue.indexOf(loop, at + 1) >= 0) {
  console.error(`patch-glue: ${file}: passStringToWasm0 is not wasm-bindgen 0.2.130's; not patched`);
  process.exit(1);
}
writeFileSync(file, glue.slice(0, at) + encodeInto + glue.slice(at + loop.length));
