/** A one-line progress bar on a terminal, plain lines when output is not one. */
export function progressBar(stream: NodeJS.WriteStream) {
  let lastStage = "";
  let lastLine = 0;
  return {
    update(stage: string, done: number, total: number) {
      const pct = total ? Math.min(100, Math.floor((100 * done) / total)) : 100;
      if (stream.isTTY) {
        const width = 30;
        const filled = Math.round((width * pct) / 100);
        stream.write(`\r${stage.padEnd(13)} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${pct}% ${done}/${total}`);
      } else if (stage !== lastStage || pct >= lastLine + 25) {
        stream.write(`${stage}: ${done}/${total} (${pct}%)\n`);
        lastLine = pct;
      }
      if (stage !== lastStage) lastLine = pct;
      lastStage = stage;
    },
    done() {
      if (stream.isTTY) stream.write("\n");
    },
  };
}
