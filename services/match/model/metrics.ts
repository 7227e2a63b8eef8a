/** Ranking and calibration quality of probabilities against 0/1 labels. */

/** Area under the ROC curve (ties count half), by rank sum. */
export function auc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const idx = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let rankSumPos = 0;
  let pos = 0;
  let i = 0;
  while (i < idx.length) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]] === scores[idx[i]]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (labels[idx[k]] === 1) {
        rankSumPos += rank;
        pos++;
      }
    }
    i = j + 1;
  }
  const neg = idx.length - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

export function logLoss(probabilities: ArrayLike<number>, labels: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = Math.min(1 - 1e-7, Math.max(1e-7, probabilities[i]));
    s -= labels[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return s / labels.length;
}

/** Indices sorted by ascending score: computed once, then weightedAuc runs in linear time per resample. */
export function ascendingOrder(scores: ArrayLike<number>): Int32Array {
  return Int32Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
}

/**
 * AUC with each example counted `weights[i]` times (ties count half): what a
 * bootstrap resample's AUC is, without sorting again. `order` is
 * ascendingOrder(scores).
 */
export function weightedAuc(order: Int32Array, scores: ArrayLike<number>, labels: ArrayLike<number>, weights: ArrayLike<number>): number {
  let below = 0;
  let area = 0;
  let positives = 0;
  let i = 0;
  while (i < order.length) {
    let pos = 0;
    let neg = 0;
    let j = i;
    for (; j < order.length && scores[order[j]] === scores[order[i]]; j++) {
      const k = order[j];
      if (labels[k] === 1) pos += weights[k];
      else neg += weights[k];
    }
    area += pos * (below + neg / 2);
    below += neg;
    positives += pos;
    i = j;
  }
  return positives > 0 && below > 0 ? area / (positives * below) : NaN;
}

/** Each example's log-loss (the mean of these is logLoss), for paired comparisons. */
export function logLosses(probabilities: ArrayLike<number>, labels: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: labels.length }, (_, i) => {
    const p = Math.min(1 - 1e-7, Math.max(1e-7, probabilities[i]));
    return labels[i] === 1 ? -Math.log(p) : -Math.log(1 - p);
  });
}
