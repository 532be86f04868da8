// How numbers read on the page: probabilities as percentages, times in milliseconds, sizes in megabytes.

/** "87.1%", and "<0.1%" for what would round to nothing (as the server's pages write it). */
export function percent(probability) {
  const value = probability * 100;
  if (value > 0 && value < 0.1) return '<0.1%';
  return `${value.toFixed(1)}%`;
}

export function milliseconds(value) {
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`;
}

export function megabytes(bytes) {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}
