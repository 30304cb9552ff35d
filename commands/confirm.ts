/**
 * Asking before deleting: on a terminal a yes/no question that defaults to No; elsewhere a
 * refusal unless `--yes` was given, so a script never deletes by accident nor hangs.
 */
import { createInterface } from "node:readline";
import { UsageError } from "./usage-error.ts";

/** Exit code of a command stopped by Ctrl-C (128 + SIGINT). */
export const INTERRUPTED = 130;

type Answer = "yes" | "no" | "interrupted";

function ask(question: string): Promise<Answer> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    let answered = false;
    const finish = (answer: Answer) => {
      if (answered) return;
      answered = true;
      process.off("SIGINT", onSignal);
      rl.close();
      resolve(answer);
    };
    // Ctrl-C arrives as readline's SIGINT in raw mode, or as the signal itself.
    const onSignal = () => {
      process.stderr.write("\n");
      finish("interrupted");
    };
    rl.on("SIGINT", onSignal);
    process.on("SIGINT", onSignal);
    // Ctrl-D (end of input) is a No.
    rl.on("close", () => finish("no"));
    rl.question(`${question} [y/N] `, (reply) =>
      finish(/^y(es)?$/i.test(reply.trim()) ? "yes" : "no"),
    );
  });
}

/**
 * True when the deletion may go ahead: `--yes` was given, or the person at the terminal
 * answered yes. Otherwise prints "nothing deleted" and returns false, with exit code 130
 * after Ctrl-C. Without a terminal and without `--yes`, throws a UsageError (exit 2).
 */
export async function confirmDeletion(
  question: string,
  yes: boolean | undefined,
): Promise<boolean> {
  if (yes) return true;
  if (!process.stdin.isTTY)
    throw new UsageError("refusing to delete without --yes when not on a terminal");
  const answer = await ask(question);
  if (answer === "yes") return true;
  process.stderr.write("nothing deleted\n");
  if (answer === "interrupted") process.exitCode = INTERRUPTED;
  return false;
}
