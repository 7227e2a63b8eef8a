import * as ort from "onnxruntime-node";

/**
 * Runs an exported match model with onnxruntime-node. run() is a synchronous
 * native call that holds the event loop for its duration, so callers batch:
 * one run for many pairs costs about the same as one run for one pair.
 */
export class OnnxScorer {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly features: number,
  ) {}

  static async load(bytes: Uint8Array, features: number): Promise<OnnxScorer> {
    const session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: "all",
      executionMode: "sequential",
    });
    return new OnnxScorer(session, features);
  }

  /** Scores `rows` pairs laid out row-major in `x`. */
  async score(x: Float32Array, rows: number): Promise<Float32Array> {
    const input = new ort.Tensor("float32", x.length === rows * this.features ? x : x.subarray(0, rows * this.features), [
      rows,
      this.features,
    ]);
    const out = await this.session.run({ features: input });
    return out.score.data as Float32Array;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
