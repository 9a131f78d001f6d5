import { XXH3_WASM_BASE64 } from './xxh3-wasm.generated.js';

// The few WebAssembly JS-API shapes used here, typed locally so the package does not need the
// DOM lib (Node 20 has the global at runtime; @types/node does not declare it).
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmModule {
  readonly __wasmModule?: never;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { readonly exports: unknown };
  compile(bytes: Uint8Array): Promise<WasmModule>;
}
interface KernelExports {
  readonly memory: WasmMemory;
  readonly __heap_base: { readonly value: number };
  xxh3_bytes(ptr: number, len: number, seedLo: number, seedHi: number, out: number): void;
  hash_blocks(tokens: number, nBlocks: number, blockSize: number, seedLo: number, seedHi: number, out: number): void;
  sequence_hashes(input: number, count: number, out: number): void;
  xxh64_bytes(ptr: number, len: number, seedLo: number, seedHi: number, out: number): void;
  xxh64_text_chain(bytes: number, len: number, blockChars: number, seedLo: number, seedHi: number, out: number): number;
}

const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
const PAGE_BYTES = 65536;

let compiled: WasmModule | undefined;
let compiling: Promise<WasmModule> | undefined;

function wasmBytes(): Uint8Array {
  return Buffer.from(XXH3_WASM_BASE64, 'base64');
}

/** The compiled kernel module, compiled once per process (asynchronously). */
function loadModule(): Promise<WasmModule> {
  if (compiled) return Promise.resolve(compiled);
  compiling ??= wasmApi.compile(wasmBytes()).then((module) => (compiled ??= module));
  return compiling;
}

/** The compiled kernel module, compiling synchronously if nothing has compiled it yet. */
function loadModuleSync(): WasmModule {
  compiled ??= new wasmApi.Module(wasmBytes());
  return compiled;
}

/**
 * One instance of the XXH3/XXH64 wasm kernel with its own linear memory.
 *
 * Each call lays its input and output out above `__heap_base` (output first, input after),
 * growing memory as needed, and leaves results in memory where the caller reads them through
 * {@link Kernel.u32}. A result stays valid until the next call on the same kernel; memory
 * never shrinks. Kernels are independent, so hashers that own one never see each other's results.
 * @internal
 */
export class Kernel {
  /** Byte offset of the output area (16-aligned, right above the kernel's static data). */
  readonly outPtr: number;
  private readonly exports: KernelExports;
  private buffer: ArrayBuffer;
  /** Byte view of the whole memory; replaced when memory grows. */
  u8: Uint8Array;
  /** u32 view of the whole memory; replaced when memory grows. */
  u32: Uint32Array;

  constructor(module: WasmModule) {
    this.exports = new wasmApi.Instance(module, {}).exports as KernelExports;
    this.outPtr = (this.exports.__heap_base.value + 15) & ~15;
    this.buffer = this.exports.memory.buffer;
    this.u8 = new Uint8Array(this.buffer);
    this.u32 = new Uint32Array(this.buffer);
  }

  /** A kernel on the process-wide compiled module. */
  static async create(): Promise<Kernel> {
    return new Kernel(await loadModule());
  }

  /** Same as {@link Kernel.create}, synchronously (Node compiles wasm of any size synchronously). */
  static createSync(): Kernel {
    return new Kernel(loadModuleSync());
  }

  /**
   * Makes room for `outBytes` of output followed by `inBytes` of input; returns the byte offset
   * of the input area (8-aligned).
   */
  reserve(outBytes: number, inBytes: number): number {
    const inPtr = this.outPtr + ((outBytes + 7) & ~7);
    const needed = inPtr + inBytes;
    if (needed > 0xffff_0000) throw new RangeError(`input too large for the hashing kernel: ${needed} bytes of wasm memory needed`);
    if (needed > this.buffer.byteLength) {
      // Grow geometrically so a run of ever-longer prompts grows memory O(log n) times.
      const pages = Math.max(Math.ceil((needed - this.buffer.byteLength) / PAGE_BYTES), this.buffer.byteLength / PAGE_BYTES);
      const maxPages = 65536 - this.buffer.byteLength / PAGE_BYTES;
      this.exports.memory.grow(Math.min(pages, maxPages));
      this.buffer = this.exports.memory.buffer;
      this.u8 = new Uint8Array(this.buffer);
      this.u32 = new Uint32Array(this.buffer);
    }
    return inPtr;
  }

  /** XXH3-64 of `len` bytes at `inPtr`; the result is the u64 at `outPtr`. */
  xxh3(inPtr: number, len: number, seedLo: number, seedHi: number): void {
    this.exports.xxh3_bytes(inPtr, len, seedLo, seedHi, this.outPtr);
  }

  /** XXH64 of `len` bytes at `inPtr`; the result is the u64 at `outPtr`. */
  xxh64(inPtr: number, len: number, seedLo: number, seedHi: number): void {
    this.exports.xxh64_bytes(inPtr, len, seedLo, seedHi, this.outPtr);
  }

  /** Tokens hashes of `nBlocks` blocks of u32 tokens at `inPtr`, written as u64s at `outPtr`. */
  hashBlocks(inPtr: number, nBlocks: number, blockSize: number, seedLo: number, seedHi: number): void {
    this.exports.hash_blocks(inPtr, nBlocks, blockSize, seedLo, seedHi, this.outPtr);
  }

  /** Sequence hashes of `count` u64 tokens hashes at `inPtr`, written at `outPtr`. */
  sequenceHashes(inPtr: number, count: number): void {
    this.exports.sequence_hashes(inPtr, count, this.outPtr);
  }

  /** Chained XXH64 text blocks of UTF-8 at `inPtr`; returns the number of u64s written at `outPtr`. */
  textChain(inPtr: number, len: number, blockChars: number, seedLo: number, seedHi: number): number {
    return this.exports.xxh64_text_chain(inPtr, len, blockChars, seedLo, seedHi, this.outPtr);
  }
}
