#!/usr/bin/env node
// bench/ort_bench.js — times ONNX Runtime (npm onnxruntime-node, CPU, graph optimisation 'all')
// on a model, the peer nnc is measured against. Prints one JSON line like `nnc bench --json`.
//
//   node bench/ort_bench.js MODEL.onnx [--threads N] [--iters N] [--warmup N]
//                           [--input NAME=FILE.npy ...] [--save-outputs DIR]
//
// Inputs not given are uniform random in [-1, 1]; float32 only. Set NODE_PATH to the
// node_modules that holds onnxruntime-node (bench/run.sh does).
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

function parseArgs(argv) {
  const args = { model: null, threads: 2, iters: 20, warmup: 3, inputs: {}, save: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--threads') args.threads = parseInt(next(), 10);
    else if (a === '--iters') args.iters = parseInt(next(), 10);
    else if (a === '--warmup') args.warmup = parseInt(next(), 10);
    else if (a === '--save-outputs') args.save = next();
    else if (a === '--input') {
      const spec = next();
      const eq = spec.indexOf('=');
      args.inputs[spec.slice(0, eq)] = spec.slice(eq + 1);
    } else if (!args.model) args.model = a;
    else throw new Error(`unexpected argument ${a}`);
  }
  if (!args.model) throw new Error('usage: ort_bench.js MODEL.onnx [--threads N] [--iters N] [--warmup N]');
  return args;
}

// Minimal .npy (v1/v2, little-endian float32, C order) reader and writer.
function readNpy(file) {
  const buf = fs.readFileSync(file);
  const headerLen = buf[6] === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = buf[6] === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + headerLen);
  if (!header.includes("'<f4'")) throw new Error(`${file}: only float32 .npy is supported`);
  const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(',').map(s => s.trim()).filter(s => s).map(Number);
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset + start + headerLen, buf.byteOffset + buf.length));
  return new ort.Tensor('float32', data, shape);
}

function writeNpy(file, tensor) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${tensor.dims.join(', ')}${tensor.dims.length === 1 ? ',' : ''}), }`;
  while ((10 + header.length + 1) % 64 !== 0) header += ' ';
  header += '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const body = Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), body]));
}

function randomTensor(dims, seed) {
  let s = seed >>> 0;
  const n = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = (s / 4294967296) * 2 - 1;
  }
  return new ort.Tensor('float32', data, dims);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const session = await ort.InferenceSession.create(args.model, {
    intraOpNumThreads: args.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  });
  const feeds = {};
  session.inputNames.forEach((name, k) => {
    if (args.inputs[name]) {
      feeds[name] = readNpy(args.inputs[name]);
      return;
    }
    const meta = session.inputMetadata ? session.inputMetadata[k] : null;
    const dims = meta && meta.shape ? meta.shape : null;
    if (!dims || dims.some(d => typeof d !== 'number')) throw new Error(`give --input ${name}=FILE.npy (shape not fixed)`);
    feeds[name] = randomTensor(dims, 1 + k);
  });
  for (let i = 0; i < args.warmup; i++) await session.run(feeds);
  const times = [];
  let outputs = null;
  for (let i = 0; i < args.iters; i++) {
    const t0 = process.hrtime.bigint();
    outputs = await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  if (args.save) {
    fs.mkdirSync(args.save, { recursive: true });
    for (const [name, t] of Object.entries(outputs)) writeNpy(path.join(args.save, name.replace(/[^A-Za-z0-9._-]/g, '_') + '.npy'), t);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  console.log(JSON.stringify({ runtime: 'onnxruntime', version: require('onnxruntime-node/package.json').version,
    model: args.model, threads: args.threads, median_ms: median, min_ms: sorted[0], mean_ms: mean, times_ms: times }));
}

main().catch(e => { console.error(`ort_bench.js: ${e.message}`); process.exit(1); });
