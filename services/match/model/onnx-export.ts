import onnxProto from "onnx-proto";
import type { LogisticModel } from "./logistic.js";

const { onnx } = onnxProto;

/**
 * Exports the logistic model as an ONNX graph, score = Sigmoid(features·W + b),
 * with a dynamic batch dimension so one run scores any number of pairs.
 */
export function exportLogisticOnnx(model: LogisticModel, meta: { producerVersion: string; docString: string }): Uint8Array {
  const features = model.weights.length;
  const floatTensor = (name: string, dims: number[], values: number[]) =>
    onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, floatData: values });
  const valueInfo = (name: string, dims: (number | string)[]) =>
    onnx.ValueInfoProto.create({
      name,
      type: onnx.TypeProto.create({
        tensorType: onnx.TypeProto.Tensor.create({
          elemType: onnx.TensorProto.DataType.FLOAT,
          shape: onnx.TensorShapeProto.create({
            dim: dims.map((d) => (typeof d === "string" ? { dimParam: d } : { dimValue: d })),
          }),
        }),
      }),
    });
  const graph = onnx.GraphProto.create({
    name: "match_score",
    node: [
      onnx.NodeProto.create({ opType: "MatMul", input: ["features", "W"], output: ["logit_raw"], name: "matmul" }),
      onnx.NodeProto.create({ opType: "Add", input: ["logit_raw", "b"], output: ["logit"], name: "bias" }),
      onnx.NodeProto.create({ opType: "Sigmoid", input: ["logit"], output: ["score"], name: "sigmoid" }),
    ],
    initializer: [floatTensor("W", [features, 1], Array.from(model.weights)), floatTensor("b", [1], [model.bias])],
    input: [valueInfo("features", ["N", features])],
    output: [valueInfo("score", ["N", 1])],
  });
  const m = onnx.ModelProto.create({
    irVersion: 8,
    producerName: "ml-mesh",
    producerVersion: meta.producerVersion,
    docString: meta.docString,
    opsetImport: [{ domain: "", version: 13 }],
    graph,
  });
  return onnx.ModelProto.encode(m).finish();
}
