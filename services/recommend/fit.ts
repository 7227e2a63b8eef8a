// Runs on a WorkerPool thread when a server has no promoted model and must fit one:
// half a minute of ALS at 50,000 travellers must not stall every other call.
import { trainFactorisation, type Factorisation, type TrainingData } from "./factorisation.js";

export function fit(data: TrainingData): Factorisation {
  return trainFactorisation(data).model;
}
