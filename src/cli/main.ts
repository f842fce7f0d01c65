/**
 * The `authbus` executable (bin/authbus.js loads it). Every failure ends here as one line on
 * stderr and exit code 1; usage errors are reported the same way by commander.
 */
import { createProgram } from "./program.js";
import { errorLine, processIo } from "./output.js";

/** Exit once stdout has been handed everything written (process.exit would cut a piped stdout short on some platforms). */
function exit(code: number): void {
  process.stdout.write("", () => process.exit(code));
}

try {
  await createProgram(processIo).parseAsync(process.argv);
  exit(0);
} catch (e) {
  processIo.err(errorLine(e));
  exit(1);
}
