import * as ort from "onnxruntime-node";
import { binding, initOrt, type Binding } from "onnxruntime-node/dist/binding.js";

const OPTIONS: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  graphOptimizationLevel: "all",
  executionMode: "sequential",
};

/** Runs a session: the native session itself, or (without one) the public API's. */
interface Runner {
  run(input: ort.Tensor): Float32Array | Promise<Float32Array>;
  release(): Promise<void>;
}

/**
 * Runs an exported match model with onnxruntime-node. A run is a synchronous
 * native call that holds the event loop for its duration, so callers batch:
 * one run for many pairs costs about the same as one run for one pair.
 *
 * The session is onnxruntime-node's native one, run directly: the public
 * InferenceSession.run makes that same call in a setImmediate, a turn of the
 * event loop in the middle of every ScoreCandidates call, where whatever was
 * waiting ran first (other calls' I/O callbacks, tasks V8 posted, such as a
 * scheduled scavenge) and counted in this call's time. Should a later
 * onnxruntime-node not offer its native session as this one does, the
 * public API serves (`synchronous` says which).
 */
export class OnnxScorer {
  private constructor(
    private readonly runner: Runner,
    readonly features: number,
    /** Whether a run happens within score(), without a turn of the event loop. */
    readonly synchronous: boolean,
  ) {}

  static async load(bytes: Uint8Array, features: number): Promise<OnnxScorer> {
    const native = nativeSession(bytes);
    if (native) return new OnnxScorer(native, features, true);
    const session = await ort.InferenceSession.create(bytes, OPTIONS);
    return new OnnxScorer(
      {
        run: async (input) => (await session.run({ features: input })).score.data as Float32Array,
        release: () => session.release(),
      },
      features,
      false,
    );
  }

  /** Scores `rows` pairs laid out row-major in `x`. */
  score(x: Float32Array, rows: number): Promise<Float32Array> {
    const input = new ort.Tensor("float32", x.length === rows * this.features ? x : x.subarray(0, rows * this.features), [
      rows,
      this.features,
    ]);
    try {
      return Promise.resolve(this.runner.run(input));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async release(): Promise<void> {
    await this.runner.release();
  }
}

/** The model in onnxruntime-node's native session, with the inputs and outputs ours have; undefined when that is not on offer. */
function nativeSession(bytes: Uint8Array): Runner | undefined {
  if (typeof binding?.InferenceSession !== "function" || typeof initOrt !== "function") return undefined;
  initOrt();
  const session: Binding.InferenceSession = new binding.InferenceSession();
  session.loadModel(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength, OPTIONS);
  const inputs = session.inputMetadata.map((m) => m.name);
  const outputs = session.outputMetadata.map((m) => m.name);
  if (typeof session.run !== "function" || inputs.join() !== "features" || !outputs.includes("score")) {
    session.dispose();
    return undefined;
  }
  const fetches = Object.fromEntries(outputs.map((name) => [name, null]));
  const options = {};
  let released = false;
  return {
    run: (input) => (session.run({ features: input }, fetches, options).score as ort.Tensor).data as Float32Array,
    release: async () => {
      if (!released) session.dispose();
      released = true;
    },
  };
}
