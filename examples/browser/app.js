/**
 * movierec in a browser, with no build step and none of the project's TypeScript: fetch the
 * kernel module and a saved model file, check the file's sha256, copy the model into a shared
 * WebAssembly memory, and call the `scoreUser` and `topN` kernels for the user typed in the page.
 *
 * This file is also a reference host: docs/ABI.md describes every export and layout it relies on.
 * It answers exactly as `Model.recommend` does in Node (same kernels, same memory layout, same floats).
 */

/** The engine ABI and model file versions this page reads (assembly/status.ts, src/models/io.ts). */
const ABI_VERSION = 1;
const MODEL_FORMAT_VERSION = 1;
/** How many movies to recommend. */
const TOP = 10;
const PAGE_BYTES = 65536;

const STATUS_NAMES = {
  "-1": "STATUS_BAD_POINTER", "-2": "STATUS_BAD_SIZE", "-3": "STATUS_INDEX_OUT_OF_RANGE",
  "-4": "STATUS_BAD_PARAMETER", "-5": "STATUS_DIVERGED",
};

const align = (n, to) => Math.ceil(n / to) * to;

// ---- the model file (layout in docs/ABI.md, "Model files") ----

/**
 * Parses and verifies a model file: magic, versions, JSON header, arrays (views into `buffer`,
 * no copies) and the trailing sha256 of every byte before it.
 */
export async function parseModelFile(buffer) {
  const bytes = new Uint8Array(buffer);
  const fail = (what) => { throw new Error(`not a usable model file: ${what}`); };
  if (bytes.length < 52 || new TextDecoder("latin1").decode(bytes.subarray(0, 8)) !== "MOVIEREC") {
    fail("it does not start with the movierec model signature");
  }
  const body = bytes.subarray(0, bytes.length - 32);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
  if (!digest.every((b, k) => b === bytes[body.length + k])) fail("checksum mismatch (truncated or modified)");
  const view = new DataView(buffer);
  const version = view.getUint32(8, true);
  const abi = view.getUint32(12, true);
  if (version !== MODEL_FORMAT_VERSION) fail(`model format v${version}, this page reads v${MODEL_FORMAT_VERSION}`);
  if (abi !== ABI_VERSION) fail(`written by engine ABI v${abi}, this page drives ABI v${ABI_VERSION}`);
  const headerLength = view.getUint32(16, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(20, 20 + headerLength)));
  const base = align(20 + headerLength, 8);
  const types = { f32: Float32Array, f64: Float64Array, i32: Int32Array, u8: Uint8Array };
  const arrays = {};
  for (const a of header.arrays) {
    const Type = types[a.dtype] ?? fail(`array "${a.name}" has unknown dtype ${a.dtype}`);
    if (base + a.offset + a.length * Type.BYTES_PER_ELEMENT > body.length) fail(`array "${a.name}" runs past the end`);
    arrays[a.name] = new Type(buffer, base + a.offset, a.length);
  }
  return { header, arrays };
}

// ---- the engine ----

/**
 * Instantiates the kernel module against a new shared memory holding the model's P, Q, bu, bi
 * and the working regions, and returns `recommend(userId)`. Works for "mf" and "baseline"
 * models (a baseline is an mf model with no factors: stride 0).
 */
export async function createRecommender(wasmBytes, { header, arrays }) {
  if (header.algo !== "mf" && header.algo !== "baseline") {
    throw new Error(`this page drives "mf" and "baseline" models; the file holds a "${header.algo}" model`);
  }
  const { mu, stride = 0 } = header.scalars;
  const empty = new Float32Array(0);
  const P = arrays["m.P"] ?? empty;
  const Q = arrays["m.Q"] ?? empty;
  const bu = arrays["m.bu"];
  const bi = arrays["m.bi"];
  const nUsers = bu.length;
  const nMovies = bi.length;

  // The regions the host owns, each 16-byte aligned, in order above the module's heap base.
  const sizes = { P: P.byteLength, Q: Q.byteLength, bu: bu.byteLength, bi: bi.byteLength,
    scores: 4 * nMovies, exclude: nMovies, outIdx: 4 * TOP, outScore: 4 * TOP };
  const needed = Object.values(sizes).reduce((sum, n) => sum + align(n, 16), 0);
  // A shared memory needs a maximum; 1 MiB of headroom covers the module's static data.
  const maximum = Math.ceil((needed + (1 << 20)) / PAGE_BYTES);
  const memory = new WebAssembly.Memory({ initial: 1, maximum, shared: true });
  const { instance } = await WebAssembly.instantiate(wasmBytes, { env: { memory, abort: abortFrom(memory) } });
  const kernels = instance.exports;
  kernels._initialize();
  if (kernels.abiVersion() !== ABI_VERSION) throw new Error(`the module has ABI v${kernels.abiVersion()}, expected v${ABI_VERSION}`);

  const at = {};
  let top = kernels.heapBase() >>> 0;
  for (const [name, bytes] of Object.entries(sizes)) {
    at[name] = top;
    top += align(bytes, 16);
  }
  if (top > maximum * PAGE_BYTES) throw new Error("the module's static data is larger than the headroom reserved for it");
  memory.grow(Math.max(0, Math.ceil(top / PAGE_BYTES) - memory.buffer.byteLength / PAGE_BYTES));
  // Views are made after the grow: a view made before it would still show the old length.
  const f32 = (ptr, n) => new Float32Array(memory.buffer, ptr, n);
  f32(at.P, P.length).set(P);
  f32(at.Q, Q.length).set(Q);
  f32(at.bu, nUsers).set(bu);
  f32(at.bi, nMovies).set(bi);

  // Raw ids: strings in the header, or integer arrays (then "42" and " 42" both mean user 42).
  const stringIds = Array.isArray(header.userIds);
  const userIndex = new Map(Array.from(header.userIds ?? arrays["ctx.users"], (id, u) => [id, u]));
  const rawUser = (text) => (stringIds ? text : Number(text));
  const movieIds = header.movieIds ?? arrays["ctx.movies"];
  const seenPtr = arrays["ctx.seenPtr"];
  const seenIdx = arrays["ctx.seenIdx"];
  const check = (kernel, status) => {
    if (status !== 0) throw new Error(`${kernel} failed with ${STATUS_NAMES[status] ?? "status"} (${status})`);
  };

  /** The top movies for a raw user id; an unknown user gets the best μ + b_i (popular by baseline). */
  function recommend(userId) {
    const u = userIndex.get(rawUser(String(userId).trim())) ?? -1;
    check("scoreUser", kernels.scoreUser(u, nUsers, at.P, at.Q, at.bu, at.bi, nMovies, stride, mu, at.scores, 1));
    const exclude = new Uint8Array(memory.buffer, at.exclude, nMovies);
    exclude.fill(0);
    if (u >= 0) for (let k = seenPtr[u]; k < seenPtr[u + 1]; k++) exclude[seenIdx[k]] = 1;
    check("topN", kernels.topN(at.scores, nMovies, at.exclude, TOP, at.outIdx, at.outScore));
    const idx = new Int32Array(memory.buffer, at.outIdx, TOP);
    const scores = f32(at.outScore, TOP);
    const items = [];
    for (let j = 0; j < TOP && idx[j] >= 0; j++) {
      items.push({ movieId: movieIds[idx[j]], title: header.titles?.[idx[j]] ?? null, score: scores[j] });
    }
    return { fallback: u < 0, items };
  }
  return { recommend, nUsers, nMovies };
}

/** env.abort: the module reports a failed assertion (debug build) with AssemblyScript strings. */
function abortFrom(memory) {
  const text = (ptr) => {
    if (!ptr) return "?";
    const bytes = new Uint32Array(memory.buffer.slice(ptr - 4, ptr))[0];
    return String.fromCharCode(...new Uint16Array(memory.buffer.slice(ptr, ptr + bytes)));
  };
  return (message, file, line, column) => {
    throw new Error(`wasm abort: ${text(message >>> 0)} (${text(file >>> 0)}:${line}:${column})`);
  };
}

// ---- the page ----

const $ = (id) => document.getElementById(id);

function show(result, userId) {
  const rows = result.items.map(({ movieId, title, score }, rank) => {
    const tr = document.createElement("tr");
    tr.dataset.movieId = String(movieId);
    tr.dataset.score = String(score);
    for (const text of [rank + 1, movieId, title ?? "(no title)", score.toFixed(4)]) {
      tr.appendChild(document.createElement("td")).textContent = String(text);
    }
    return tr;
  });
  $("results").replaceChildren(...rows);
  $("results").dataset.user = userId;
  $("results").dataset.fallback = String(result.fallback);
  $("status").textContent = result.fallback
    ? `User ${userId} is not in the training data: the most popular movies by baseline (μ + b_i).`
    : `Top ${rows.length} for user ${userId}, movies they rated left out.`;
}

async function main() {
  try {
    if (!globalThis.crossOriginIsolated) {
      throw new Error("the page is not cross-origin isolated, so it cannot use shared memory: serve it with serve.mjs " +
        "(Cross-Origin-Opener-Policy: same-origin, Cross-Origin-Embedder-Policy: require-corp)");
    }
    const [wasm, file] = await Promise.all(["/build/movierec.wasm", "/model"].map(async (url) => {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${response.statusText}`);
      return response.arrayBuffer();
    }));
    const model = await parseModelFile(file);
    const engine = await createRecommender(wasm, model);
    const { algo, params, trainedAt } = model.header;
    const factors = params.factors ? `, ${params.factors} factors` : "";
    $("model").textContent = `${algo}${factors}, ${engine.nUsers} users × ${engine.nMovies} movies, trained ${trainedAt}`;
    $("form").addEventListener("submit", (event) => {
      event.preventDefault();
      const userId = $("user").value.trim();
      if (userId === "") return;
      try {
        show(engine.recommend(userId), userId);
      } catch (err) {
        $("status").textContent = String(err.message ?? err);
      }
    });
    $("go").disabled = false;
    document.body.dataset.state = "ready";
  } catch (err) {
    $("status").textContent = `Cannot start: ${err.message ?? err}`;
    document.body.dataset.state = "error";
  }
}

main();
