/**
 * Answering with a biased factor model r̂ = μ + b_u + b_i + p_u·q_i on the engine: the fitted
 * arrays live in a shared memory next to the kernels (predictPairs, scoreUser), so a batch of
 * predictions or a user's scores over every movie is one kernel call, not one call per rating.
 * Used by `mf`, `svdpp` (over its user vectors p_u + z_u) and (with no factors) `baseline`.
 */
import { Engine, type FactorModel } from "../abi/kernels.js";
import type { SgdResult } from "../engine/trainer.js";
import { Model } from "./model.js";

/** Pairs per predictPairs call: bounds the arena space a batch borrows. */
const PREDICT_CHUNK = 1 << 20;

/** A biased factor model's arrays: the trainer's result, held by the scorer. */
export type FactorArrays = SgdResult;

export class FactorScorer {
  private constructor(
    private readonly engine: Engine,
    private readonly model: FactorModel,
    readonly mu: number,
  ) {}

  static async create(a: FactorArrays): Promise<FactorScorer> {
    const nUsers = a.bu.length;
    const nMovies = a.bi.length;
    const modelBytes = 4 * (a.P.length + a.Q.length + nUsers + nMovies);
    const workBytes = 12 * PREDICT_CHUNK + 4 * nMovies + (1 << 20);
    const bytes = modelBytes + workBytes + 64 * 4;
    const engine = await Engine.create({ bytes, maximumBytes: bytes });
    const { arena } = engine;
    const model: FactorModel = {
      nUsers,
      nMovies,
      stride: a.stride,
      P: arena.copyIn(a.P),
      Q: arena.copyIn(a.Q),
      bu: arena.copyIn(a.bu),
      bi: arena.copyIn(a.bi),
    };
    return new FactorScorer(engine, model, a.mu);
  }

  /** Clipped estimates for (u[k], i[k]); −1 marks an unknown user or movie. */
  predict(u: Int32Array, i: Int32Array, out: Float32Array, scale: { min: number; max: number }): void {
    for (let at = 0; at < u.length; at += PREDICT_CHUNK) {
      const end = Math.min(u.length, at + PREDICT_CHUNK);
      out.set(this.engine.predictPairs(u.subarray(at, end), i.subarray(at, end), this.model, { mu: this.mu, lo: scale.min, hi: scale.max }), at);
    }
  }

  /** Unclipped scores of every movie for user u (−1: unknown, scored μ + b_i). */
  scoreUser(u: number, out: Float32Array): void {
    out.set(this.engine.scoreUser(u, this.model, this.mu));
  }

  /**
   * The model's arrays, as views of the engine memory that holds them (the only copy a fitted
   * model keeps). The memory never grows after creation, so the views stay valid.
   */
  arrays(): FactorArrays {
    const { arena } = this.engine;
    const m = this.model;
    return { mu: this.mu, stride: m.stride, P: arena.view(m.P), Q: arena.view(m.Q), bu: arena.view(m.bu), bi: arena.view(m.bi) };
  }
}

/** The Euclidean norm of each row of M. */
export function rowNorms(M: Float32Array, stride: number): Float32Array {
  const rows = stride ? M.length / stride : 0;
  return Float32Array.from({ length: rows }, (_, j) => {
    let s = 0;
    for (let f = 0; f < stride; f++) s += M[j * stride + f]! ** 2;
    return Math.sqrt(s);
  });
}

/** out[j] = cos(M_i, M_j) for every row j (0 when either row is zero). */
export function cosineRow(M: Float32Array, stride: number, norms: Float32Array, i: number, out: Float32Array): void {
  const ni = norms[i]!;
  for (let j = 0; j < out.length; j++) {
    let dot = 0;
    for (let f = 0; f < stride; f++) dot += M[i * stride + f]! * M[j * stride + f]!;
    const d = ni * norms[j]!;
    out[j] = d > 0 ? dot / d : 0;
  }
}

/**
 * A model that answers through a FactorScorer (mf, svdpp): estimates and a user's scores come from
 * the scorer's kernels, movie–movie similarity is the cosine of movie factors, and unknown users or
 * movies fall back to the bias terms that exist.
 */
export abstract class ScoredFactorModel extends Model {
  protected scorer: FactorScorer | null = null;
  private qNorms: Float32Array | null = null;

  /** The movie factor rows (stride floats each). */
  protected abstract movieFactors(): { Q: Float32Array; stride: number };

  /** Answers from now on with `scorer` (after fit or load). */
  protected setScorer(scorer: FactorScorer): void {
    this.scorer = scorer;
    this.qNorms = null;
  }

  predictDense(u: Int32Array, i: Int32Array, out: Float32Array): void {
    this.scorer!.predict(u, i, out, this.ratingScale);
  }

  override scoreUser(u: number, out: Float32Array): void {
    this.scorer!.scoreUser(u, out);
  }

  /** Cosine similarity of movie factors q_i · q_j / (‖q_i‖ ‖q_j‖) (0 for a zero vector). */
  protected override similarityRow(i: number, out: Float32Array): void {
    const { Q, stride } = this.movieFactors();
    this.qNorms ??= rowNorms(Q, stride);
    cosineRow(Q, stride, this.qNorms, i, out);
  }

  protected override fallbackText(userKnown: boolean, movieKnown: boolean): string {
    if (!userKnown && !movieKnown) return "estimated by the global mean μ";
    return userKnown ? "estimated by μ + b_u (no movie terms)" : "estimated by μ + b_i (the movie's baseline)";
  }
}
