import { loadWordVectors, wordVectorsFile } from "../services/match/text/word-vectors.js";

// Extracts the prompt reader's word vectors into build/word-vectors/ (make build, and the image's build stage).
await loadWordVectors();
process.stdout.write(`word vectors: ${wordVectorsFile()}\n`);
